"""Codex CLI rollouts: `{timestamp, type, payload}` lines with function_call / function_call_output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, maybe_json

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
            stats.bad_record(ref, f"no usable timestamp ({raw!r})")
            continue
        call_id = str(payload.get("call_id"))
        if payload["type"] == "function_call":
            name = str(payload.get("name", "?"))
            names[call_id] = name
            arguments = maybe_json(payload.get("arguments"))
            tool = {"name": name, "call_id": call_id, "arguments": arguments, "result": None}
            yield event(
                ts=when[0],
                ts_raw=raw,
                source=source,
                seq=lineno,
                kind="tool_call",
                action=name,
                raw_ref=ref,
                tool=tool,
                message=f"{name} {as_text(arguments, 160)}",
                assumed_utc=when[1],
            )
        else:
            name = names.get(call_id, "?")
            output = payload.get("output")
            tool = {"name": name, "call_id": call_id, "arguments": None, "result": output}
            yield event(
                ts=when[0],
                ts_raw=raw,
                source=source,
                seq=lineno,
                kind="tool_result",
                action=name,
                raw_ref=ref,
                tool=tool,
                message=f"{name} -> {as_text(output, 160)}",
                assumed_utc=when[1],
            )
