"""Claude Code session transcripts (`<session>.jsonl`): tool_use blocks and their tool_result blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, json_lines, tool_event

FORMAT = "claude"


def is_claude(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a Claude Code transcript line."""
    return obj.get("type") in ("user", "assistant", "system", "summary") and ("sessionId" in obj or "uuid" in obj)


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return str(content or "")


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls and results of a transcript (parallel calls share one assistant line)."""
    source = f"{FORMAT}:{path.name}"
    names: dict[str, str] = {}
    for lineno, obj in json_lines(path, stats):
        ref = f"{path}:{lineno}"
        blocks = (obj.get("message") or {}).get("content")
        if not isinstance(blocks, list):
            continue
        raw = obj.get("timestamp")
        when = parse_time(raw)
        if when is None:
            stats.bad_record(ref, f"no usable timestamp ({raw!r})")
            continue
        actor = {k: v for k, v in {"session": obj.get("sessionId"), "cwd": obj.get("cwd")}.items() if v}
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
                "links": {"request_id": obj.get("uuid")},
            }
            if block.get("type") == "tool_use":
                name, call_id = str(block.get("name", "?")), block.get("id")
                names[str(call_id)] = name
                yield tool_event(kind="tool_call", name=name, call_id=call_id, arguments=block.get("input"), **at)
            elif block.get("type") == "tool_result":
                call_id = str(block.get("tool_use_id"))
                yield tool_event(
                    kind="tool_result",
                    name=names.get(call_id, "?"),
                    call_id=call_id,
                    result=_result_text(block.get("content")),
                    success=not block.get("is_error"),
                    **at,
                )
