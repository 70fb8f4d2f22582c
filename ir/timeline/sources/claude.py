"""Claude Code session transcripts (`<session>.jsonl`): tool_use blocks and their tool_result blocks.

Real session files are more than messages: the first lines are often bookkeeping
(`file-history-snapshot`, hook `progress`, `queue-operation`, `summary`), which are skipped, not
counted bad. A subagent's own file (`agent-<id>.jsonl`, lines marked `isSidechain`) names the
agent; its calls carry `agent` and `sidechain` in their actor. A tool result whose content block
holds no text (an image, or output only in the structured `toolUseResult`) takes the text of
`toolUseResult` (stdout and stderr, or its content).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, shown, tool_event
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

FORMAT = "claude"


def is_claude(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a Claude Code transcript line."""
    return obj.get("type") in ("user", "assistant", "system", "summary") and ("sessionId" in obj or "uuid" in obj)


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(as_text(c.get("text", "")) for c in content if isinstance(c, dict))
    return as_text(content or "")


def _structured_text(value: Any) -> str:
    """The text of a structured `toolUseResult` (stdout/stderr of a command, or its content)."""
    if isinstance(value, dict):
        parts = [value.get(k) for k in ("stdout", "stderr", "content")]
        return "\n".join(p for p in parts if isinstance(p, str) and p)
    return value if isinstance(value, str) else ""


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
            stats.bad_record(ref, f"no usable timestamp ({shown(raw)})")
            continue
        found = {
            "session": obj.get("sessionId"),
            "cwd": obj.get("cwd"),
            "agent": obj.get("agentId"),
            "sidechain": obj.get("isSidechain") is True,
        }
        actor = {k: v for k, v in found.items() if v and isinstance(v, str | bool)}
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
                    result=_result_text(block.get("content")) or _structured_text(obj.get("toolUseResult")),
                    success=not block.get("is_error"),
                    **at,
                )


SESSION_TYPES = frozenset(
    {
        "user",
        "assistant",
        "system",
        "summary",
        "queue-operation",
        "file-history-snapshot",
        "progress",
        "custom-title",
        "attachment",
        "last-prompt",
    }
)
"""Line types Claude Code writes to a session file (messages and its own bookkeeping)."""
_MARKERS = ("sessionId", "uuid", "parentUuid", "leafUuid", "messageId", "isSidechain")


def _is_session_line(obj: dict[str, Any]) -> bool:
    return obj.get("type") in SESSION_TYPES and any(k in obj for k in _MARKERS)


def score(s: Sample) -> Score:
    """Session lines (messages, summaries, queue operations, snapshots, progress) anywhere in the
    sample — not only the first line, which is often bookkeeping."""
    hits, total = line_share(s, _is_session_line)
    if not hits:
        return NO
    messages = sum(
        1 for o in s.objects if o.get("type") in ("user", "assistant") and isinstance(o.get("message"), dict)
    )
    if messages:
        return share_score(hits, total, f"Claude Code session lines ({messages} messages)", base=70)
    if s.more:  # the sample ended before the file did: messages may follow the bookkeeping
        return Score(60, f"{hits} of {total} sampled lines are Claude Code bookkeeping (no message among them yet)")
    return Score(40, "a Claude Code session file with no messages")
