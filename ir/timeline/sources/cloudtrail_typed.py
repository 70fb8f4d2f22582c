"""CloudTrail records as AWS writes them, read by a typed decoder: the fast path of `cloudtrail.parse`
for JSON lines. A line of any other shape, or with any value of another type, fails the decoding
and takes the general path (`cloudtrail.to_event`), which gives the same event for what this reads."""

from __future__ import annotations

from typing import Any

import msgspec

from ir.core.redaction import could_hold_secret, might_hold_secret, redact
from ir.timeline.model import CLEAN, Event, dumps, parse_time
from ir.timeline.sources.base import SourceStats, clean

TARGET_KEYS = ("bucketName", "secretId", "userName", "roleName", "functionName", "instanceId", "name", "key")
"""requestParameters naming what a call acted on, in the order a target is taken from (a bucket and a key: both)."""


class _Issuer(msgspec.Struct):
    userName: str | None = None


class _Context(msgspec.Struct):
    sessionIssuer: _Issuer | None = None


class _Identity(msgspec.Struct):
    type: str | None = None
    userName: str | None = None
    arn: str | None = None
    accessKeyId: str | None = None
    sessionContext: _Context | None = None


_PACKAGING: Any = msgspec.UNSET
"""A field a record never has: whatever value it holds fails the typed decoding (a container, a
lookup-events Event or an EventBridge event takes the general path)."""


class _Record(msgspec.Struct):
    """A CloudTrail record as AWS writes one, only the fields an event uses (every other shape,
    and any value of another type, takes the general path: `to_event`, with its reasons)."""

    eventTime: str
    eventName: str
    eventSource: str | None = None
    sourceIPAddress: str | None = None
    userAgent: str | None = None
    userIdentity: _Identity | None = None
    requestParameters: dict[str, Any] | None = None
    errorCode: str | None = None
    requestID: str | None = None
    eventID: str | None = None
    readOnly: bool | None = None
    awsRegion: str | None = None
    Records: msgspec.UnsetType = _PACKAGING
    Events: msgspec.UnsetType = _PACKAGING
    CloudTrailEvent: msgspec.UnsetType = _PACKAGING
    detail_type: msgspec.UnsetType = msgspec.field(default=_PACKAGING, name="detail-type")


RECORD = msgspec.json.Decoder(_Record)
_SERVICES: dict[str | None, str] = {}
"""eventSource -> its service (`s3.amazonaws.com` -> `s3`)."""
_PLANS: dict[tuple[str, ...], tuple[str, ...]] = {}
"""requestParameters' keys -> the target keys among them, in TARGET_KEYS' order."""
_TIMES: dict[str, tuple[int, bool]] = {}
"""eventTime -> `parse_time` of it: records of a second come together (a trail writes whole seconds)."""


def typed_event(
    rec: _Record, source: str, seq: int, ref: str, stats: SourceStats, verdicts: dict[str, bool] | None
) -> Event | None:
    """`to_event` of a record the typed decoder read: the same event, without the type checks
    (every field is already the type CloudTrail writes, or absent), marked CLEAN when no piece of
    it holds a secret's stem. `verdicts`: that, per user, action and error (None: values are
    registered, every piece is checked each time)."""
    raw = rec.eventTime
    when = _TIMES.get(raw)
    if when is None:
        when = parse_time(raw)
        if when is not None:
            if len(_TIMES) >= 10_000:
                _TIMES.clear()
            _TIMES[raw] = when
    name = rec.eventName
    if when is None or not name:
        stats.bad_record(ref, "no eventTime or eventName")
        return None
    ident = rec.userIdentity
    actor = {}
    if ident is None:
        user = arn = None
    else:
        arn = ident.arn or None
        user = ident.userName
        if not user:
            context = ident.sessionContext
            issuer = None if context is None else context.sessionIssuer
            user = (None if issuer is None else issuer.userName) or arn
        if user:
            actor["user"] = user
        if arn:
            actor["arn"] = arn
        if ident.accessKeyId:
            actor["access_key"] = ident.accessKeyId
    if rec.sourceIPAddress:
        actor["ip"] = rec.sourceIPAddress
    if rec.userAgent:
        actor["user_agent"] = rec.userAgent
    if ident is not None and ident.type:
        actor["type"] = ident.type
    source_name = rec.eventSource
    service = _SERVICES.get(source_name)
    if service is None:
        service = source_name.split(".")[0] if source_name is not None else ""
        if len(_SERVICES) < 10_000:
            _SERVICES[source_name] = service
    action = f"{service}:{name}"
    params = rec.requestParameters
    target = None
    if params:
        keys = tuple(params)
        plan = _PLANS.get(keys)
        if plan is None:
            plan = tuple(key for key in TARGET_KEYS if key in params)
            if len(_PLANS) >= 10_000:
                _PLANS.clear()
            _PLANS[keys] = plan
        for key in plan:
            value = params.get(key)
            if type(value) is str:
                target = value if key != "key" or target is None else f"{target}/{value}"
                if key != "bucketName":
                    break
    elif params is None:
        params = {}
    error = rec.errorCode
    params_text = dumps(params).decode() if params else ""
    # No stem of a secret's name in any piece: the parameters need no masking (no hint without a
    # stem) and neither do the message and target (made of these pieces and spaces): CLEAN.
    if verdicts is None:
        verdict = clean(params_text, user or "", action, target or "", error or "")
    else:  # no registered value: a stem in the target (parameters' strings) is one in their JSON
        head = f"{user}\0{action}\0{error}"
        verdict = verdicts.get(head)
        if verdict is None:
            verdict = verdicts[head] = not could_hold_secret(head)
            if len(verdicts) >= 10_000:
                verdicts.clear()
        if verdict and params:
            verdict = not could_hold_secret(params_text)
    if not verdict and params and might_hold_secret(params_text):  # a password or secret passed to the API
        params = redact(params)
    message = f"{user} {action}" + (f" {target}" if target else "") + (f" ERROR {error}" if error else "")
    made: Event = {
        "ts": when[0],
        "ts_raw": raw,
        "source": source,
        "seq": seq,
        "kind": "cloud_api_call",
        "actor": actor,
        "action": action,
        "target": target,
        "tool": None,
        "links": {"request_id": rec.requestID or None, "event_id": rec.eventID or None},
        "tags": [],
        "raw_ref": ref,
        "message": message,
    }
    if when[1]:
        made["assumed_utc"] = True
    if verdict:
        made[CLEAN] = True
    made["cloud"] = {"params": params, "error": error, "read_only": rec.readOnly, "region": rec.awsRegion}
    return made
