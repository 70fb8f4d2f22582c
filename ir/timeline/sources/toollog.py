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

from ir.timeline.model import Event, event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, maybe_json
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
        stats.bad_record(ref, f"no usable time ({as_text(raw, 60)})")
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
    shown = as_text(arguments, 160) if kind == "tool_call" else as_text(result, 160)
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
        message=f"{name} {shown}",
        assumed_utc=when[1],
    )


def _target(arguments: Any) -> str | None:
    if isinstance(arguments, dict):
        for key in ("url", "path", "file", "uri", "key", "bucket", "host"):
            if isinstance(arguments.get(key), str):
                return str(arguments[key])
    return None


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Every record of a tool-call log."""
    source = f"{FORMAT}:{path.name}"
    for lineno, obj in json_lines(path, stats):
        made = to_event(obj, source, lineno, f"{path}:{lineno}", stats)
        if made is not None:
            yield made


def score(s: Sample) -> Score:
    """Records with a `tool` and a time."""
    hits, total = line_share(s, is_tool_record)
    return share_score(hits, total, "tool-call records")
