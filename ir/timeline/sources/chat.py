"""Exported chat traces with tool calls, which carry no times at all.

Shapes read: OpenAI-style `messages` (assistant `tool_calls[{id, function{name, arguments}}]`,
`role: tool` results with `tool_call_id`), Anthropic-style content blocks (`tool_use` /
`tool_result`), as a `{"messages": [...]}` document (an export, a mini-SWE-agent `.traj.json`),
a bare list of messages, JSON lines of `{"messages": [...]}`, or tau-bench result files (a list of
`{task_id, reward, traj: [messages]}`). Events are untimed (`ts` 0, `untimed`), in the trace's own
order; the pipeline places them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event
from ir.timeline.sources.base import SourceStats, as_text, first_line, json_document, json_lines, maybe_json, tool_event
from ir.timeline.sources.sample import NO, Sample, Score

FORMAT = "chat"


def _conversations(doc: Any, ref: str) -> Iterator[tuple[str, Any, str]]:
    """(ref, messages, session) for every conversation in a JSON value."""
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        yield f"{ref}#messages", doc["messages"], as_text(doc.get("id") or doc.get("session_id") or "", 80)
    elif isinstance(doc, list) and doc and all(isinstance(v, dict) and "traj" in v for v in doc[:20]):
        for i, task in enumerate(doc):
            if isinstance(task, dict):
                session = f"task {as_text(task.get('task_id'), 40)}" + (
                    f" trial {as_text(task['trial'], 20)}" if "trial" in task else ""
                )
                yield f"{ref}#[{i}].traj", task.get("traj"), session
    elif isinstance(doc, list):
        yield ref, doc, ""


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("role"), str)


def _tool_calls(messages: Any) -> int:
    """How many tool calls and results a list of messages holds (for detection)."""
    if not isinstance(messages, list):
        return 0
    found = 0
    for m in messages:
        if not _is_message(m):
            continue
        if isinstance(m.get("tool_calls"), list) or m.get("role") == "tool":
            found += 1
        content = m.get("content")
        if isinstance(content, list):
            found += sum(1 for b in content if isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result"))
    return found


class _Reader:
    def __init__(self, path: Path, stats: SourceStats) -> None:
        self.source = f"{FORMAT}:{path.name}"
        self.stats = stats
        self.seq = 0
        self.names: dict[str, str] = {}

    def _event(self, kind: str, name: str, call_id: str, ref: str, session: str, **tool: Any) -> Event:
        self.seq += 1
        made = tool_event(
            kind=kind,
            name=name,
            call_id=call_id,
            when=(0, False),
            raw=None,
            source=self.source,
            seq=self.seq,
            ref=ref,
            actor={"session": session} if session else {},
            **tool,
        )
        made["untimed"] = True
        return made

    def conversation(self, messages: Any, ref: str, session: str) -> Iterator[Event]:
        if not isinstance(messages, list):
            self.stats.records += 1
            self.stats.bad_record(ref, "messages is not a list")
            return
        for i, msg in enumerate(messages):
            self.stats.records += 1
            where = f"{ref}[{i}]"
            if not _is_message(msg):
                self.stats.bad_record(where, "not a chat message (no role)")
                continue
            yield from self.message(msg, where, session)

    def message(self, msg: dict[str, Any], ref: str, session: str) -> Iterator[Event]:
        calls = msg.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            self.stats.bad_record(ref, "tool_calls is not a list")
            return
        for call in calls or []:
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                self.stats.bad_record(ref, "a tool call without a function object")
                continue
            name, call_id = as_text(function.get("name", "?"), 200), as_text(call.get("id"), 200)
            self.names[call_id] = name
            arguments = maybe_json(function.get("arguments"))
            yield self._event("tool_call", name, call_id, ref, session, arguments=arguments)
        if msg.get("role") == "tool":
            call_id = as_text(msg.get("tool_call_id"), 200)
            name = as_text(msg.get("name") or self.names.get(call_id, "?"), 200)
            yield self._event("tool_result", name, call_id, ref, session, result=_text(msg.get("content")))
        content = msg.get("content")
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_use":
                name, call_id = as_text(block.get("name", "?"), 200), as_text(block.get("id"), 200)
                self.names[call_id] = name
                yield self._event("tool_call", name, call_id, ref, session, arguments=block.get("input"))
            elif block.get("type") == "tool_result":
                call_id = as_text(block.get("tool_use_id"), 200)
                yield self._event(
                    "tool_result",
                    self.names.get(call_id, "?"),
                    call_id,
                    ref,
                    session,
                    result=_text(block.get("content")),
                    success=not block.get("is_error"),
                )


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(as_text(c.get("text", "")) for c in content if isinstance(c, dict))
    return as_text(content if content is not None else "")


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls and results of every conversation in the file, untimed, in order."""
    reader = _Reader(path, stats)
    line, ended, _ = first_line(path)
    start = line.strip()
    lines_mode = ended and start[:1] == b"{" and start.endswith(b"}")
    values: Iterator[tuple[str, Any]]
    if lines_mode:
        values = ((f"{path}:{n}", obj) for n, obj in json_lines(path, stats))
    else:
        doc = json_document(path, stats)
        values = iter([(str(path), doc)] if doc is not None else [])
    for ref, value in values:
        found = list(_conversations(value, ref))
        if not found:
            stats.bad_record(ref, "no chat messages")
        for where, messages, session in found:
            yield from reader.conversation(messages, where, session)


def score(s: Sample) -> Score:
    """How surely a sample is a chat trace with tool calls."""
    if s.document is not None:
        convs = list(_conversations(s.document, ""))
        calls = sum(_tool_calls(m) for _, m, _ in convs)
        messages = sum(1 for _, m, _ in convs if isinstance(m, list) and any(_is_message(x) for x in m[:5]))
        if messages and calls:
            first = s.document[0] if isinstance(s.document, list) else None
            kind = "tau-bench results" if isinstance(first, dict) and "traj" in first else "chat"
            return Score(80, f"{kind} messages with tool calls (no times)")
        if messages:
            return Score(40, "chat messages without tool calls")
        return NO
    objects = s.objects
    if objects:
        calls = sum(_tool_calls(o.get("messages")) for o in objects)
        if calls and all(isinstance(o.get("messages"), list) for o in objects):
            return Score(75, "JSON lines of chat conversations with tool calls (no times)")
    if not s.whole and b'"tool_calls"' in s.opening and b'"role"' in s.opening:
        return Score(55, "opens as chat messages with tool calls (too big to sample whole)")
    return NO
