"""AWS CloudTrail: delivery files (`{"Records": [...]}`, often gzipped), JSON lines (SIEM exports),
and LookupEvents output (each record a JSON string in `CloudTrailEvent`).

Records are not ordered inside a file; anonymised datasets carry odd regions and IPs, which are
kept as they are, not validated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ir.timeline.model import Event, event, parse_time
from ir.timeline.sources.base import SourceStats, head, json_document, json_lines
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

FORMAT = "cloudtrail"


def records(path: Path, stats: SourceStats) -> Iterator[tuple[str, dict[str, Any]]]:
    """(raw reference, record) for every CloudTrail record in a file, whatever its packaging."""
    start = head(path, 4096).lstrip()
    whole = start.startswith(b"{") and (b'"Records"' in start or b'"Events"' in start)
    if not whole:
        for lineno, obj in json_lines(path, stats):
            yield f"{path}:{lineno}", obj
        return
    doc = json_document(path, stats)
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("Records"), list):
        for i, rec in enumerate(doc["Records"]):
            stats.records += 1
            if isinstance(rec, dict):
                yield f"{path}#Records[{i}]", rec
            else:
                stats.bad_record(f"{path}#Records[{i}]", "not a record")
    for i, item in enumerate(doc.get("Events") or []):
        stats.records += 1
        try:
            rec = orjson.loads(item["CloudTrailEvent"])
        except (KeyError, TypeError, orjson.JSONDecodeError):
            stats.bad_record(f"{path}#Events[{i}]", "no CloudTrailEvent")
            continue
        yield f"{path}#Events[{i}]", rec


def to_event(rec: dict[str, Any], source: str, seq: int, ref: str, stats: SourceStats) -> Event | None:
    """One CloudTrail record as a cloud_api_call event."""
    raw = rec.get("eventTime")
    when = parse_time(raw)
    if when is None or "eventName" not in rec:
        stats.bad_record(ref, "no eventTime or eventName")
        return None
    ident = rec.get("userIdentity") or {}
    issuer = (ident.get("sessionContext") or {}).get("sessionIssuer") or {}
    actor = {
        "user": ident.get("userName") or issuer.get("userName") or ident.get("arn"),
        "arn": ident.get("arn"),
        "access_key": ident.get("accessKeyId"),
        "ip": rec.get("sourceIPAddress"),
        "user_agent": rec.get("userAgent"),
        "type": ident.get("type"),
    }
    service = str(rec.get("eventSource", "")).split(".")[0]
    action = f"{service}:{rec['eventName']}"
    params = rec.get("requestParameters") or {}
    target = None
    if isinstance(params, dict):
        for key in ("bucketName", "secretId", "userName", "roleName", "functionName", "instanceId", "name", "key"):
            if isinstance(params.get(key), str):
                target = params[key] if key != "key" or target is None else f"{target}/{params[key]}"
                if key != "bucketName":
                    break
    error = rec.get("errorCode")
    message = f"{actor['user']} {action}" + (f" {target}" if target else "") + (f" ERROR {error}" if error else "")
    made = event(
        ts=when[0],
        ts_raw=raw,
        source=source,
        seq=seq,
        kind="cloud_api_call",
        action=action,
        raw_ref=ref,
        actor={k: v for k, v in actor.items() if v},
        target=target,
        links={"request_id": rec.get("requestID"), "event_id": rec.get("eventID")},
        message=message,
        assumed_utc=when[1],
    )
    made["cloud"] = {"params": params, "error": error, "read_only": rec.get("readOnly"), "region": rec.get("awsRegion")}
    return made


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Every CloudTrail record of a file as an event."""
    source = f"{FORMAT}:{path.name}"
    for seq, (ref, rec) in enumerate(records(path, stats)):
        made = to_event(rec, source, seq, ref, stats)
        if made is not None:
            yield made


def _is_record(obj: dict[str, Any]) -> bool:
    return "eventName" in obj and "eventTime" in obj


def score(s: Sample) -> Score:
    """Delivery files (`Records`), LookupEvents output (`Events` with `CloudTrailEvent`), record lines."""
    doc = s.document
    if isinstance(doc, dict) and isinstance(doc.get("Records"), list):
        return Score(95, f"a CloudTrail delivery file ({len(doc['Records'])} Records)")
    if isinstance(doc, dict) and isinstance(doc.get("Events"), list) and b'"CloudTrailEvent"' in s.opening:
        return Score(95, f"CloudTrail LookupEvents output ({len(doc['Events'])} Events)")
    hits, total = line_share(s, _is_record)
    if hits:
        return share_score(hits, total, "CloudTrail records", base=70)
    window = s.opening.lstrip()[:4096]
    opening_only = doc is None and not s.objects and window[:1] in (b"{", b"[")
    if opening_only and (b'"Records"' in window or b'"CloudTrailEvent"' in window):
        return Score(85, "CloudTrail (Records or CloudTrailEvent in its opening)")
    return NO
