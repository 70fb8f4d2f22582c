"""Codex CLI rollouts (`~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`), in both shapes Codex has written.

Current shape (September 2025 on): every line is `{timestamp, type, payload}`; `session_meta`
names the session, `response_item` payloads carry `function_call` / `custom_tool_call` /
`local_shell_call` and their `*_output`, each line with its own time.

Older shape (to about August 2025): a bare header line `{id, timestamp, instructions?, git?}`,
then the response items themselves with no time on any line, interleaved with
`{"record_type": "state"}` lines (bookkeeping, skipped). The header's time is when the session
started; the items came after it, over minutes or hours, at times the file does not record.
Stamping them all with the header's time would put a whole session at one instant and before
events that really came between, so they are yielded `untimed` in file order (the pipeline
places them after the timed events, or at `--untimed-at`), and the session id from the header
is kept as their actor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, maybe_json, shown, tool_event
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import share_score

FORMAT = "codex"
CALLS = {"function_call": "arguments", "custom_tool_call": "input", "local_shell_call": "action"}
"""Item types that call a tool, and the field holding what was asked."""
OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output"})


def is_codex(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a Codex rollout line (either shape)."""
    return ("payload" in obj and "timestamp" in obj and "type" in obj) or _is_header(obj)


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls and their outputs; items of an older rollout come untimed, in file order."""
    source = f"{FORMAT}:{path.name}"
    names: dict[str, str] = {}
    actor: dict[str, Any] = {}
    for lineno, obj in json_lines(path, stats):
        ref = f"{path}:{lineno}"
        if _is_header(obj):
            actor = {"session": as_text(obj["id"], 200)} if obj.get("id") else {}
            continue
        if obj.get("record_type") == "state":
            continue
        payload = obj.get("payload")
        if isinstance(payload, dict) and "timestamp" in obj:
            if obj.get("type") == "session_meta" and payload.get("id"):
                actor = {"session": as_text(payload["id"], 200)}
            item, raw = payload, obj.get("timestamp")
            when = parse_time(raw)
            if _type(item) in CALLS or _type(item) in OUTPUTS:
                if when is None:
                    stats.bad_record(ref, f"no usable timestamp ({shown(raw)})")
                    continue
                yield _tool(item, when, raw, source, lineno, ref, names, actor)
        elif _type(obj) in CALLS or _type(obj) in OUTPUTS:
            made = _tool(obj, (0, False), None, source, lineno, ref, names, actor)
            made["untimed"] = True  # an older rollout: no time on the line (module docstring)
            yield made


def _type(item: dict[str, Any]) -> str | None:
    """An item's `type` when it is text (a hostile line may put anything there)."""
    kind = item.get("type")
    return kind if isinstance(kind, str) else None


def _tool(
    item: dict[str, Any],
    when: tuple[int, bool],
    raw: Any,
    source: str,
    seq: int,
    ref: str,
    names: dict[str, str],
    actor: dict[str, Any],
) -> Event:
    kind = str(item.get("type"))
    call_id = as_text(item.get("call_id") or item.get("id"), 200)
    at: dict[str, Any] = {"when": when, "raw": raw, "source": source, "seq": seq, "ref": ref, "actor": dict(actor)}
    if kind in CALLS:
        name = "local_shell" if kind == "local_shell_call" else as_text(item.get("name", "?"), 200)
        names[call_id] = name
        return tool_event(
            kind="tool_call", name=name, call_id=call_id, arguments=maybe_json(item.get(CALLS[kind])), **at
        )
    return tool_event(
        kind="tool_result", name=names.get(call_id, "?"), call_id=call_id, result=item.get("output"), **at
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
        "local_shell_call_output",
        "web_search_call",
    }
)
"""Response items, bare on their lines in the older rollout shape."""


def _is_header(obj: dict[str, Any]) -> bool:
    """The first line of an older rollout: the session's id and start time, bare (no `type`)."""
    return "id" in obj and "timestamp" in obj and "type" not in obj and "payload" not in obj and len(obj) <= 6


def score(s: Sample) -> Score:
    """Current rollouts (`{timestamp, type, payload}` lines) and older ones (a bare header line,
    then bare response items and `{"record_type": "state"}` lines). Bare items with no header are
    not enough: many tools write Responses API items."""
    objects = s.objects
    current = sum(1 for o in objects if "payload" in o and "timestamp" in o and "type" in o)
    if current:
        return share_score(current, len(objects), "Codex rollout lines", base=70)
    older = sum(1 for o in objects[1:] if o.get("record_type") == "state" or o.get("type") in ITEMS)
    if objects and _is_header(objects[0]) and older:
        return share_score(older + 1, len(objects), "lines of an older Codex rollout (header, items, state)", base=70)
    items = sum(1 for o in objects if o.get("type") in ITEMS)
    if items:
        return Score(
            45, f"{items} of {len(objects)} sampled lines are Responses API items, but there is no Codex header"
        )
    return NO
