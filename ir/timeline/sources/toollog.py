"""The plain JSONL tool-call log: what an agent should log about itself (schema in the README).

    {"ts": "2026-11-20T03:12:01.104Z", "agent": "support-bot", "session": "s-4821",
     "tool": "email.read", "call_id": "c1", "arguments": {...}, "result": "...", "success": true}

A record with `arguments` is a tool call (carrying its result when logged together); one with
only `result` is the call's result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from ir.core.redaction import could_hold_secret
from ir.timeline.model import ARGS_TEXT, CLEAN, Event, event, parse_time
from ir.timeline.sources.base import NO_STEMS, SourceStats, as_text, lines, maybe_json, shown, whole
from ir.timeline.sources.jsontext import loads
from ir.timeline.sources.sample import Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

FORMAT = "jsonl"
TIME_KEYS = ("ts", "time", "timestamp")


def is_tool_record(obj: dict[str, Any]) -> bool:
    """Whether a JSON object looks like a tool-call log record."""
    return "tool" in obj and any(k in obj for k in TIME_KEYS)


def to_event(
    obj: dict[str, Any],
    source: str,
    seq: int,
    ref: str,
    stats: SourceStats,
    when: tuple[int, bool] | None = None,
    ts_raw: Any = None,
) -> Event | None:
    """One tool-log record as an event (`when` overrides the record's own time)."""
    raw = ts_raw if when is not None else next((obj[k] for k in TIME_KEYS if k in obj), None)
    when = when or parse_time(raw)
    if when is None:
        stats.bad_record(ref, f"no usable time ({shown(raw)})")
        return None
    if when[1]:
        stats.assumed_utc += 1
    name = as_text(obj.get("tool", "?"), 200)
    has_args = "arguments" in obj or "args" in obj
    kind = "tool_call" if has_args or "result" not in obj else "tool_result"
    arguments = maybe_json(obj.get("arguments", obj.get("args")))
    result = obj.get("result")
    tool = {
        "name": name,
        "call_id": obj.get("call_id"),
        "arguments": arguments,
        "result": result,
        "success": obj.get("success"),
    }
    brief = as_text(arguments, 160) if kind == "tool_call" else as_text(result, 160)
    return event(
        ts=when[0],
        ts_raw=raw,
        source=source,
        seq=seq,
        kind=kind,
        action=name,
        raw_ref=ref,
        actor={k: obj[k] for k in ("agent", "session") if isinstance(obj.get(k), str)},
        target=_target(arguments),
        tool=tool,
        message=f"{name} {brief}",
        assumed_utc=when[1],
    )


_TARGET_KEYS = ("url", "path", "file", "uri", "key", "bucket", "host")
"""The arguments that name what a call acts on, in order of preference."""


def _target(arguments: Any) -> str | None:
    if isinstance(arguments, dict):
        for key in _TARGET_KEYS:
            if isinstance(arguments.get(key), str):
                return str(arguments[key])
    return None


_UNSET: Any = msgspec.UNSET


class Record(msgspec.Struct):
    """The fields of a tool-log record that make its event (absent ones UNSET: presence matters)."""

    ts: Any = _UNSET
    time: Any = _UNSET
    timestamp: Any = _UNSET
    tool: Any = _UNSET
    call_id: Any = _UNSET
    arguments: Any = _UNSET
    args: Any = _UNSET
    result: Any = _UNSET
    success: Any = _UNSET
    agent: Any = _UNSET
    session: Any = _UNSET


_RECORD = msgspec.json.Decoder(Record)
_PLAIN = (str, type(_UNSET))


def record_event(r: Record, source: str, seq: int, ref: str, stats: SourceStats) -> Event | None:
    """`to_event` for a record decoded as a `Record`: the same event, without a dict per line. A
    record whose names are not text takes `to_event`, which guards every field."""
    name, agent, session = r.tool, r.agent, r.session
    if not (type(name) is str and type(agent) in _PLAIN and type(session) in _PLAIN):
        found = {k: v for k, v in msgspec.structs.asdict(r).items() if v is not _UNSET}
        return to_event(found, source, seq, ref, stats)
    raw = r.ts if r.ts is not _UNSET else r.time if r.time is not _UNSET else r.timestamp
    if raw is _UNSET:
        raw = None
    when = parse_time(raw)
    if when is None:
        stats.bad_record(ref, f"no usable time ({shown(raw)})")
        return None
    given = r.arguments if r.arguments is not _UNSET else r.args
    result = r.result
    if given is not _UNSET:
        kind = "tool_call"
        arguments = maybe_json(given) if type(given) is str else given
    else:
        kind = "tool_call" if result is _UNSET else "tool_result"
        arguments = None
    if result is _UNSET:
        result = None
    # The texts of the pieces (as `base.whole` writes them): the message, the facts and the
    # redaction pre-check all read these, written once here.
    args_text = arguments if type(arguments) is str else "null" if arguments is None else whole(arguments)
    result_text = "null" if result is None else whole(result)
    brief = args_text if kind == "tool_call" else result_text
    if brief is None:  # (beyond the encoders: as_text shows it its own way)
        message = f"{name} {as_text(arguments if kind == 'tool_call' else result, 160)}"
    else:
        message = f"{name} {brief if len(brief) <= 160 else brief[:160] + '…'}"
    call_id = None if r.call_id is _UNSET else r.call_id
    success = None if r.success is _UNSET else r.success
    target = None
    if isinstance(arguments, dict):
        for key in _TARGET_KEYS:
            value = arguments.get(key)
            if isinstance(value, str):
                target = str(value)
                break
    made: Event = {
        "ts": when[0],
        "ts_raw": raw,
        "source": source,
        "seq": seq,
        "kind": kind,
        "actor": {"agent": agent, "session": session}
        if agent is not _UNSET and session is not _UNSET
        else {k: v for k, v in (("agent", agent), ("session", session)) if v is not _UNSET},
        "action": name,
        "target": target,
        "tool": {"name": name, "call_id": call_id, "arguments": arguments, "result": result, "success": success},
        "links": {},
        "tags": [],
        "raw_ref": ref,
        "message": message,
    }
    if when[1]:
        stats.assumed_utc += 1
        made["assumed_utc"] = True
    if args_text is not None:  # (as detect.tool_facts writes them: no arguments, no text)
        made[ARGS_TEXT] = "" if arguments is None else args_text
    call_text = call_id if type(call_id) is str else "" if type(call_id) in NO_STEMS else whole(call_id)
    success_text = "" if type(success) in NO_STEMS else whole(success)
    if not (call_text is None or args_text is None or result_text is None or success_text is None):
        # every text redaction looks at (message, tool as JSON, target) is made of these (`base.clean`)
        made[CLEAN] = not could_hold_secret("\0".join((name, call_text, args_text, result_text, success_text)))
    return made


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Every record of a tool-call log: decoded straight into a `Record`; a line that is not one
    (not JSON, not an object) takes the general path, which says why."""
    source = f"{FORMAT}:{path.name}"
    decode = _RECORD.decode
    prefix = f"{path}:"
    for lineno, raw in lines(path, stats):
        stats.records += 1
        try:
            record = decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # the general path: the same reasons
            made = _fallback(raw, source, lineno, f"{prefix}{lineno}", stats)
        else:
            made = record_event(record, source, lineno, f"{prefix}{lineno}", stats)
        if made is not None:
            yield made


def _fallback(raw: bytes, source: str, seq: int, ref: str, stats: SourceStats) -> Event | None:
    try:
        obj = loads(raw)
    except ValueError as exc:
        stats.bad_record(ref, f"not JSON ({str(exc).split(':')[0]})")
        return None
    if not isinstance(obj, dict):
        stats.bad_record(ref, "not a JSON object")
        return None
    return to_event(obj, source, seq, ref, stats)


def score(s: Sample) -> Score:
    """Records with a `tool` and a time."""
    hits, total = line_share(s, is_tool_record)
    return share_score(hits, total, "tool-call records")
