"""AWS CloudTrail, however it was packaged: delivery files (`{"Records": [...]}`, often gzipped), a
bare JSON array of records, JSON lines (SIEM exports), `aws cloudtrail lookup-events` output (each
record a JSON string in `CloudTrailEvent`; one page per file, pages as JSON lines, or the Events as
JSON lines), and EventBridge-delivered API calls (`"detail-type": "AWS API Call via CloudTrail"`,
the record in `detail`; one per line or a list).

Records are not ordered inside a file; anonymised datasets carry odd regions and IPs, which are
kept as they are, not validated. A record whose parts are not the shape CloudTrail writes (a
`userIdentity` that is not an object, ...) is a bad record with its reason, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from ir.core.redaction import known, might_hold_secret, redact
from ir.timeline.model import Event, dumps, parse_time
from ir.timeline.sources.base import SourceStats, first_line, json_document, lines
from ir.timeline.sources.cloudtrail_typed import RECORD, TARGET_KEYS, typed_event
from ir.timeline.sources.jsontext import loads
from ir.timeline.sources.sample import NO, Sample, Score

FORMAT = "cloudtrail"
VIA_CLOUDTRAIL = " via CloudTrail"
"""EventBridge detail-types that carry a CloudTrail record: `AWS API Call via CloudTrail`, `AWS Console
Sign In via CloudTrail`, `AWS Service Event via CloudTrail`, ..."""


def _unwrap(item: Any, ref: str, stats: SourceStats, counted: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records inside one JSON value: a record, a delivery file, a lookup page or Event, an
    EventBridge event. `counted` says whether the caller already counted this value as a record."""
    if isinstance(item, list):
        for i, inner in enumerate(item):
            yield from _unwrap(inner, f"{ref}[{i}]", stats, False)
        return
    if not counted:
        stats.records += 1
    if not isinstance(item, dict):
        stats.bad_record(ref, "not a record (not a JSON object)")
        return
    if "Records" in item or "Events" in item:
        stats.records -= 1  # a container, not a record itself
        for key in ("Records", "Events"):
            inner = item.get(key)
            if key in item and not isinstance(inner, list):
                stats.records += 1
                stats.bad_record(f"{ref}#{key}", f"{key} is not a list")
            elif isinstance(inner, list):
                for i, rec in enumerate(inner):
                    yield from _unwrap(rec, f"{ref}#{key}[{i}]", stats, False)
        return
    if "CloudTrailEvent" in item:
        inner = item["CloudTrailEvent"]
        try:
            if not isinstance(inner, str):
                raise TypeError(type(inner).__name__)
            rec = loads(inner)  # big integers exact (orjson would make them floats)
        except (TypeError, ValueError, RecursionError):
            stats.bad_record(ref, "CloudTrailEvent is not a JSON string")
            return
        if not isinstance(rec, dict):
            stats.bad_record(ref, "CloudTrailEvent is not a JSON object")
            return
        yield ref, rec
        return
    if "detail-type" in item:
        detail = item.get("detail")
        if not str(item.get("detail-type")).endswith(VIA_CLOUDTRAIL):
            stats.bad_record(ref, f"EventBridge event not from CloudTrail ({str(item.get('detail-type'))[:60]})")
        elif not isinstance(detail, dict):
            stats.bad_record(ref, "EventBridge detail is not an object")
        else:
            yield f"{ref}#detail", detail
        return
    yield ref, item


def _one_document(path: Path) -> bool:
    """Whether the file is read as one JSON document (an array, a pretty-printed object, one
    unterminated line such as a delivery file) rather than as JSON lines."""
    line, ended, _ = first_line(path)
    if line.lstrip()[:1] == b"[" or not ended:
        return True
    try:
        loads(line)
    except (ValueError, RecursionError):
        return True
    return False


def records(path: Path, stats: SourceStats) -> Iterator[tuple[str, dict[str, Any]]]:
    """(raw reference, record) for every CloudTrail record in a file, whatever its packaging."""
    if not _one_document(path):
        for lineno, raw in lines(path, stats):
            stats.records += 1
            yield from _line(raw, f"{path}:{lineno}", stats)
        return
    doc = json_document(path, stats)
    if doc is None:
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _unwrap(item, f"{path}#[{i}]", stats, False)
    else:
        yield from _unwrap(doc, str(path), stats, False)


def _line(raw: bytes, ref: str, stats: SourceStats) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records of one JSON line (already counted as a record), bad ones counted with why."""
    try:
        obj = loads(raw)
    except (ValueError, RecursionError) as exc:
        stats.bad_record(ref, f"not JSON ({str(exc).split(':')[0]})")
        return
    if not isinstance(obj, dict):
        stats.bad_record(ref, "not a JSON object")
    elif "Records" in obj or "Events" in obj or "CloudTrailEvent" in obj or "detail-type" in obj:
        yield from _unwrap(obj, ref, stats, True)
    else:
        yield ref, obj


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _object(rec: dict[str, Any], key: str, ref: str, stats: SourceStats) -> dict[str, Any] | None:
    """rec[key] when it is an object or absent/null ({}); None (counted bad) when it is anything else."""
    value = rec.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    stats.bad_record(ref, f"{key} is not an object ({type(value).__name__})")
    return None


def to_event(rec: dict[str, Any], source: str, seq: int, ref: str, stats: SourceStats) -> Event | None:
    """One CloudTrail record as a cloud_api_call event; None (counted bad, with why) when it cannot be."""
    get = rec.get
    raw = get("eventTime")
    when = parse_time(raw)
    name = get("eventName")
    if when is None or type(name) is not str or not name:
        stats.bad_record(ref, "no eventTime or eventName")
        return None
    ident = get("userIdentity")
    if ident is None:
        ident = {}
    elif type(ident) is not dict:
        ident = _object(rec, "userIdentity", ref, stats)
    context = None if ident is None else _object(ident, "sessionContext", ref, stats)
    issuer = None if context is None else _object(context, "sessionIssuer", ref, stats)
    params = get("requestParameters")
    if params is None:
        params = {}
    elif type(params) is not dict:
        params = _object(rec, "requestParameters", ref, stats)
    if ident is None or issuer is None or params is None:
        return None
    arn = ident.get("arn")
    arn = arn if type(arn) is str and arn else None
    user = ident.get("userName")
    if type(user) is not str or not user:
        user = issuer.get("userName")
        if type(user) is not str or not user:
            user = arn
    actor = {}
    for k, v in (
        ("user", user),
        ("arn", arn),
        ("access_key", ident.get("accessKeyId")),
        ("ip", get("sourceIPAddress")),
        ("user_agent", get("userAgent")),
        ("type", ident.get("type")),
    ):
        if type(v) is str and v:
            actor[k] = v
    source_name = get("eventSource")
    service = source_name.split(".")[0] if type(source_name) is str else ""
    action = f"{service}:{name}"
    target = None
    for key in TARGET_KEYS:
        value = params.get(key)
        if type(value) is str:
            target = value if key != "key" or target is None else f"{target}/{value}"
            if key != "bucketName":
                break
    error = get("errorCode")
    error = error if error is None or type(error) is str else dumps(error).decode()
    message = f"{user} {action}" + (f" {target}" if target else "") + (f" ERROR {error}" if error else "")
    request_id, event_id = get("requestID"), get("eventID")
    made: Event = {  # what model.event builds, written out: this runs for every record
        "ts": when[0],
        "ts_raw": raw,
        "source": source,
        "seq": seq,
        "kind": "cloud_api_call",
        "actor": actor,
        "action": action,
        "target": target,
        "tool": None,
        "links": {
            "request_id": request_id if type(request_id) is str and request_id else None,
            "event_id": event_id if type(event_id) is str and event_id else None,
        },
        "tags": [],
        "raw_ref": ref,
        "message": message,
    }
    if when[1]:
        made["assumed_utc"] = True
    if params and might_hold_secret(dumps(params).decode()):  # a password or secret string passed to the API
        params = redact(params)
    made["cloud"] = {"params": params, "error": error, "read_only": get("readOnly"), "region": get("awsRegion")}
    return made


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Every CloudTrail record of a file as an event."""
    source = f"{FORMAT}:{path.name}"
    if _one_document(path):
        for seq, (ref, rec) in enumerate(records(path, stats)):
            made = to_event(rec, source, seq, ref, stats)
            if made is not None:
                if made.get("assumed_utc"):
                    stats.assumed_utc += 1
                yield made
        return
    decode = RECORD.decode
    path_text = str(path)  # (a Path formats itself through Python code: once, not per line)
    verdicts: dict[str, bool] | None = None if known() else {}
    seq = 0
    for lineno, raw in lines(path, stats):
        stats.records += 1
        ref = f"{path_text}:{lineno}"
        try:
            typed = decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            for where, rec in _line(raw, ref, stats):  # the general path, with its reasons
                made = to_event(rec, source, seq, where, stats)
                seq += 1
                if made is not None:
                    if made.get("assumed_utc"):
                        stats.assumed_utc += 1
                    yield made
            continue
        made = typed_event(typed, source, seq, ref, stats, verdicts)
        seq += 1
        if made is not None:
            if made.get("assumed_utc"):
                stats.assumed_utc += 1
            yield made


def _is_record(value: Any) -> bool:
    return isinstance(value, dict) and "eventName" in value and "eventTime" in value


def _kind(value: Any) -> str | None:
    """What CloudTrail packaging one JSON value is, or None."""
    if not isinstance(value, dict):
        return None
    if _is_record(value):
        return "record"
    if str(value.get("detail-type")).endswith(VIA_CLOUDTRAIL) and isinstance(value.get("detail"), dict):
        return "EventBridge event"
    if isinstance(value.get("CloudTrailEvent"), str):
        return "lookup-events Event"
    if isinstance(value.get("Records"), list) and (not value["Records"] or _is_record(value["Records"][0])):
        return "delivery file"
    events = value.get("Events")
    if isinstance(events, list) and (not events or _kind(events[0]) == "lookup-events Event"):
        return "lookup-events page"
    return None


def score(s: Sample) -> Score:
    """How surely a sample is CloudTrail, and in which packaging."""
    doc = s.document
    if isinstance(doc, list) and doc:
        kinds = [_kind(v) for v in doc[:50]]
        found = [k for k in kinds if k]
        if found and len(found) * 2 >= len(kinds):
            return Score(90, f"JSON array of CloudTrail {found[0]}s")
    elif isinstance(doc, dict) and (kind := _kind(doc)):
        return Score(100 if kind in ("delivery file", "lookup-events page") else 95, f"CloudTrail {kind}")
    objects = s.objects
    if objects:
        kinds = [_kind(v) for v in objects]
        found = [k for k in kinds if k]
        if found:
            return Score(min(95, 40 + 55 * len(found) // len(s.lines)), f"JSON lines of CloudTrail {found[0]}s")
    opening = s.opening.lstrip()[:4096]
    if not s.whole and opening[:1] in (b"{", b"["):
        if b'"Records"' in opening and b'"eventName"' in opening:
            return Score(85, "opens as a CloudTrail delivery file (too big to sample whole)")
        if b'"CloudTrailEvent"' in opening:
            return Score(85, "opens as lookup-events output (too big to sample whole)")
        if b'"eventName"' in opening and b'"eventTime"' in opening:
            return Score(60, "opens with CloudTrail record fields (too big to sample whole)")
    return NO
