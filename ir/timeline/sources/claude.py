"""Claude Code session transcripts (`<session>.jsonl`): tool_use blocks and their tool_result blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, tool_event

FORMAT = "claude"


def is_claude(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a Claude Code transcript line."""
    return obj.get("type") in ("user", "assistant", "system", "summary") and ("sessionId" in obj or "uuid" in obj)


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(as_text(c.get("text", "")) for c in content if isinstance(c, dict))
    return as_text(content or "")


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls and results of a transcript (parallel calls share one assistant line)."""
    source = f"{FORMAT}:{path.name}"
    names: dict[str, str] = {}
    for lineno, obj in json_lines(path, stats):
        ref = f"{path}:{lineno}"
        message = obj.get("message")
        blocks = message.get("content") if isinstance(message, dict) else None
        if not isinstance(blocks, list):
            continue
        raw = obj.get("timestamp")
        when = parse_time(raw)
        if when is None:
            stats.bad_record(ref, f"no usable timestamp ({as_text(raw, 60)})")
            continue
        found = {"session": obj.get("sessionId"), "cwd": obj.get("cwd")}
        actor = {k: v for k, v in found.items() if isinstance(v, str) and v}
        for block in blocks:
            if not isinstance(block, dict):
                continue
            at = {
                "when": when,
                "raw": raw,
                "source": source,
                "seq": lineno,
                "ref": ref,
                "actor": actor,
                "links": {"request_id": obj.get("uuid") if isinstance(obj.get("uuid"), str) else None},
            }
            if block.get("type") == "tool_use":
                name, call_id = as_text(block.get("name", "?"), 200), as_text(block.get("id"), 200)
                names[str(call_id)] = name
                yield tool_event(kind="tool_call", name=name, call_id=call_id, arguments=block.get("input"), **at)
            elif block.get("type") == "tool_result":
                call_id = as_text(block.get("tool_use_id"), 200)
                yield tool_event(
                    kind="tool_result",
                    name=names.get(call_id, "?"),
                    call_id=call_id,
                    result=_result_text(block.get("content")),
                    success=not block.get("is_error"),
                    **at,
                )
