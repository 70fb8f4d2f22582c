"""Codex CLI rollouts: `{timestamp, type, payload}` lines with function_call / function_call_output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, json_lines, maybe_json, tool_event
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

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
        at: dict[str, Any] = {"when": when, "raw": raw, "source": source, "seq": lineno, "ref": ref}
        if payload["type"] == "function_call":
            name = str(payload.get("name", "?"))
            names[call_id] = name
            yield tool_event(
                kind="tool_call", name=name, call_id=call_id, arguments=maybe_json(payload.get("arguments")), **at
            )
        else:
            yield tool_event(
                kind="tool_result", name=names.get(call_id, "?"), call_id=call_id, result=payload.get("output"), **at
            )


ENVELOPES = frozenset({"session_meta", "response_item", "event_msg", "turn_context", "compacted"})
"""Line types of the current rollout shape (`{timestamp, type, payload}`)."""
ITEMS = frozenset(
    {
        "message",
        "function_call",
        "function_call_output",
        "reasoning",
        "local_shell_call",
        "custom_tool_call",
        "custom_tool_call_output",
        "web_search_call",
    }
)
"""Response items, bare on their lines in the older rollout shape."""


def _is_header(obj: dict[str, Any]) -> bool:
    return "id" in obj and "timestamp" in obj and ("instructions" in obj or "git" in obj) and "type" not in obj


def _is_rollout_line(obj: dict[str, Any]) -> bool:
    if "payload" in obj and "timestamp" in obj and "type" in obj:
        return True
    return obj.get("record_type") == "state" or _is_header(obj) or obj.get("type") in ITEMS


def score(s: Sample) -> Score:
    """Current rollouts (`{timestamp, type, payload}` lines) and older ones (a bare header line,
    then bare response items and `{"record_type": "state"}` lines). Bare items with no header are
    not enough: many tools write Responses API items."""
    hits, total = line_share(s, _is_rollout_line)
    if not hits:
        return NO
    objects = s.objects
    current = sum(1 for o in objects if o.get("type") in ENVELOPES and "payload" in o)
    if current or any("payload" in o and "timestamp" in o and "type" in o for o in objects):
        return share_score(hits, total, "Codex rollout lines", base=70)
    if objects and _is_header(objects[0]):
        return share_score(hits, total, "lines of an older Codex rollout (header, items, state)", base=70)
    return Score(45, f"{hits} of {total} sampled lines are Responses API items, but there is no Codex header")
