"""Codex CLI rollouts: `{timestamp, type, payload}` lines with function_call / function_call_output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, maybe_json, tool_event

FORMAT = "codex"


def is_codex(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a Codex rollout line."""
    return "payload" in obj and "timestamp" in obj and "type" in obj


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Function calls and their outputs."""
    source = f"{FORMAT}:{path.name}"
    names: dict[str, str] = {}
    for lineno, obj in json_lines(path, stats):
        payload = obj.get("payload")
        if not isinstance(payload, dict) or payload.get("type") not in ("function_call", "function_call_output"):
            continue
        ref, raw = f"{path}:{lineno}", obj.get("timestamp")
        when = parse_time(raw)
        if when is None:
            stats.bad_record(ref, f"no usable timestamp ({as_text(raw, 60)})")
            continue
        call_id = as_text(payload.get("call_id"), 200)
        at: dict[str, Any] = {"when": when, "raw": raw, "source": source, "seq": lineno, "ref": ref}
        if payload["type"] == "function_call":
            name = as_text(payload.get("name", "?"), 200)
            names[call_id] = name
            yield tool_event(
                kind="tool_call", name=name, call_id=call_id, arguments=maybe_json(payload.get("arguments")), **at
            )
        else:
            yield tool_event(
                kind="tool_result", name=names.get(call_id, "?"), call_id=call_id, result=payload.get("output"), **at
            )
