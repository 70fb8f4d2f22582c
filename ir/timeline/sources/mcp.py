"""MCP traffic as proxies, recorders and inspectors save it.

Accepted shapes:
- JSON lines, one JSON-RPC message per line with the proxy's time: the message itself with
  `ts`/`timestamp`/`time` (and optionally `direction`, `session`) beside it, or a wrapper
  `{"ts": ..., "direction": ..., "session": ..., "message": {...}}`;
- one JSON document of request/response pairs, as recorders save sessions ("cassettes"):
  `{"interactions": [{"request": {...}, "response": {...}, "timestamp"?: ...}]}`, the same under
  `session`, or a bare list of pairs or messages;
- SDK-level capture (a client session wrapped in Python): method names such as `call_tool`,
  `list_tools` instead of `tools/call`, `tools/list`, arguments as `args`/`kwargs`, and pairs
  under `calls` (one session per line or per document).

`tools/call` requests are tool calls and their responses tool results (matched by id within a
session, or paired by the recorder), `tools/list` responses list tool descriptions — where tool
poisoning hides. Times without a zone are taken as UTC (counted, and marked on the event); pairs
a recorder saved with no time at all are untimed events in the recorder's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, head, json_document, json_lines, quoted, tool_event
from ir.timeline.sources.sample import NO, Sample, Score

FORMAT = "mcp"
TIME_KEYS = ("ts", "timestamp", "time")
SDK_METHODS = {
    "call_tool": "tools/call",
    "list_tools": "tools/list",
    "list_resources": "resources/list",
    "read_resource": "resources/read",
    "list_prompts": "prompts/list",
    "get_prompt": "prompts/get",
}
"""The Python/TypeScript SDK client method names, as SDK-level recorders log them."""


def is_mcp(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a logged JSON-RPC message."""
    inner = obj.get("message") if isinstance(obj.get("message"), dict) else obj
    return isinstance(inner, dict) and inner.get("jsonrpc") == "2.0"


def _is_pair(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("request"), dict) and "method" in obj["request"]


def _pairs_of(doc: Any) -> tuple[str, list[Any]] | None:
    """(key, the request/response pairs) of a recorded session document, or None when it holds none."""
    if isinstance(doc, dict):
        for key in ("interactions", "calls"):
            if isinstance(doc.get(key), list):
                return key, list(doc[key])
        if isinstance(doc.get("session"), dict):
            return _pairs_of(doc["session"])
    return None


@dataclass
class _At:
    """Where and when one event happened, as tool_event takes it."""

    when: tuple[int, bool] | None
    raw: Any
    ref: str
    seq: int
    session: str

    def kw(self, source: str, rpc_id: str) -> dict[str, Any]:
        return {
            "when": self.when or (0, False),
            "raw": self.raw if self.when else None,
            "source": source,
            "seq": self.seq,
            "ref": self.ref,
            "actor": {"session": self.session} if self.session else {},
            "links": {"request_id": rpc_id},
        }


def _time(obj: Any) -> tuple[tuple[int, bool] | None, Any]:
    raw = next((obj[k] for k in TIME_KEYS if isinstance(obj, dict) and obj.get(k) is not None), None)
    return parse_time(raw), raw


class _Reader:
    """Turns messages and pairs into events, remembering open calls per session."""

    def __init__(self, path: Path, stats: SourceStats) -> None:
        self.source = f"{FORMAT}:{path.name}"
        self.file = path.name
        self.stats = stats
        self.calls: dict[tuple[str, str], str] = {}
        self.seq = 0

    def _made(self, made: Event, at: _At) -> Event:
        if at.when is None:
            made["ts"], made["ts_raw"], made["untimed"] = 0, None, True
            made.pop("assumed_utc", None)
        elif at.when[1]:
            self.stats.assumed_utc += 1
        return made

    def call_id(self, rpc_id: str, at: _At) -> str:
        """A call id no other file shares: JSON-RPC ids restart with every connection, and a
        recorder's session names are no better (agent-vcr's is the same in every cassette)."""
        return f"mcp:{self.file}:{at.session}:{rpc_id}"

    def call(self, name: str, arguments: Any, rpc_id: str, at: _At) -> Event:
        self.calls[(at.session, rpc_id)] = name
        made = tool_event(
            kind="tool_call",
            name=name,
            call_id=self.call_id(rpc_id, at),
            arguments=arguments,
            **at.kw(self.source, rpc_id),
        )
        return self._made(made, at)

    def result(self, name: str, result: Any, error: Any, rpc_id: str, at: _At) -> Event:
        result = result if isinstance(result, dict) else {}
        text = result_text(result)
        failed = bool(error) or bool(result.get("isError"))
        made = tool_event(
            kind="tool_result",
            name=name,
            call_id=self.call_id(rpc_id, at),
            result=error if error else text,
            success=not failed,
            **at.kw(self.source, rpc_id),
        )
        return self._made(made, at)

    def tools(self, result: Any, rpc_id: str, at: _At) -> Iterator[Event]:
        tools = result.get("tools") if isinstance(result, dict) else None
        for tool_def in tools if isinstance(tools, list) else []:
            if not isinstance(tool_def, dict):
                continue
            name = str(tool_def.get("name", "?"))
            description = tool_def.get("description")
            tool = {"name": name, "call_id": None, "arguments": None, "result": None, "description": description}
            kw = at.kw(self.source, rpc_id)
            made = event(
                ts=kw["when"][0],
                ts_raw=kw["raw"],
                source=self.source,
                seq=at.seq,
                kind="tool_list",
                action=name,
                raw_ref=at.ref,
                actor=kw["actor"],
                tool=tool,
                links=kw["links"],
                message=f"tool offered: {name}: {as_text(description, 160)}",
                assumed_utc=bool(at.when and at.when[1]),
            )
            yield self._made(made, at)

    def message(self, msg: dict[str, Any], at: _At) -> Iterator[Event]:
        """One JSON-RPC message (a request, a response, a notification)."""
        rpc_id = str(msg.get("id"))
        method = SDK_METHODS.get(str(msg.get("method")), msg.get("method"))
        if method == "tools/call":
            name, arguments = _call_params(msg)
            yield self.call(name, arguments, rpc_id, at)
        elif (at.session, rpc_id) in self.calls and ("result" in msg or "error" in msg):
            yield self.result(self.calls.pop((at.session, rpc_id)), msg.get("result"), msg.get("error"), rpc_id, at)
        elif "result" in msg:
            yield from self.tools(msg.get("result"), rpc_id, at)

    def pair(self, pair: dict[str, Any], index: int, ref: str, session: str) -> Iterator[Event]:
        """One recorded request with its response."""
        request = pair["request"]
        response: dict[str, Any] = pair["response"] if isinstance(pair.get("response"), dict) else {}
        when, raw = _time(request)
        if when is None:
            when, raw = _time(pair)
        if raw is not None and when is None:
            self.stats.bad_record(ref, f"unusable time ({quoted(raw, 40)!r})")
            return
        done, done_raw = _time(response)
        if done is None:
            done, done_raw = when, raw
        rpc_id = str(request.get("id", index))
        method = SDK_METHODS.get(str(request.get("method")), request.get("method"))
        at = _At(when, raw, ref, self.seq, session)
        after = _At(done, done_raw, ref, self.seq, session)
        failed = response.get("error") or (response.get("success") is False and (response.get("error") or "failed"))
        if method == "tools/call":
            name, arguments = _call_params(request)
            yield self.call(name, arguments, rpc_id, at)
            self.calls.pop((session, rpc_id), None)
            yield self.result(name, response.get("result"), failed, rpc_id, after)
        elif method == "tools/list":
            yield from self.tools(response.get("result"), rpc_id, after)


def result_text(result: dict[str, Any]) -> str:
    """What a tools/call result tells the model: its text blocks, the text of embedded resources,
    and `structuredContent` when it holds text the blocks do not (an injection can hide in either)."""
    content = result.get("content")
    blocks = content if isinstance(content, list) else []
    text = " ".join(_block_text(c) for c in blocks if isinstance(c, dict))
    structured = result.get("structuredContent")
    if structured is not None and any(s not in text for s in _strings(structured)):
        text = f"{text} {as_text(structured)}" if text else as_text(structured)
    return text


def _block_text(block: dict[str, Any]) -> str:
    resource = block.get("resource")
    if block.get("type") == "resource" and isinstance(resource, dict):
        return str(resource.get("text", ""))
    return str(block.get("text", ""))


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """The text values inside a JSON value (not its keys, numbers or flags)."""
    if isinstance(value, str):
        yield value
    elif depth > 100:
        yield as_text(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _call_params(msg: dict[str, Any]) -> tuple[str, Any]:
    """(tool name, arguments) of a tools/call request, JSON-RPC `params` or SDK `args`/`kwargs`."""
    params = msg.get("params")
    if isinstance(params, dict):
        return str(params.get("name", params.get("tool", "?"))), params.get("arguments", params.get("args"))
    args, kwargs = msg.get("args"), msg.get("kwargs")
    args = args if isinstance(args, list) else []
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    name = kwargs.get("name", args[0] if args else "?")
    arguments = kwargs.get("arguments", args[1] if len(args) > 1 else None)
    return str(name), arguments


def _session_of(obj: dict[str, Any]) -> str:
    """The session a proxy named for a message (a string); a recorder's session object is no name."""
    value = obj.get("session") or obj.get("session_id")
    return value if isinstance(value, str) else ""


def _one_document(path: Path) -> bool:
    start = head(path, 65536).lstrip()
    if start[:1] == b"[":
        return True
    return start[:1] == b"{" and b"\n" in start and not start.split(b"\n", 1)[0].rstrip().endswith(b"}")


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls, results and tool lists from an MCP log or recorded session."""
    reader = _Reader(path, stats)
    if _one_document(path):
        doc = json_document(path, stats)
        if doc is not None:
            yield from _document(doc, str(path), reader, stats)
        return
    for lineno, obj in json_lines(path, stats):
        yield from _document(obj, f"{path}:{lineno}", reader, stats, line=lineno)


def _document(doc: Any, ref: str, reader: _Reader, stats: SourceStats, line: int = 0) -> Iterator[Event]:
    """Events of one JSON value: a session of pairs, a list of pairs or messages, one message."""
    found = _pairs_of(doc)
    if isinstance(doc, dict) and found is not None:
        key, pairs = found
        session = _session_of(doc)
        stats.records -= 1 if line else 0  # the line is counted as its pairs
        for i, pair in enumerate(pairs):
            stats.records += 1
            where = f"{ref}#{key}[{i}]"
            reader.seq += 1
            if not isinstance(pair, dict):
                stats.bad_record(where, "not a request/response pair")
            elif _is_pair(pair):
                yield from reader.pair(pair, i, where, session)
            elif pair.get("request") is not None:
                stats.bad_record(where, "request is not a JSON-RPC or SDK call")
        return
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            stats.records += 1
            where = f"{ref}[{i}]"
            reader.seq += 1
            if _is_pair(item):
                yield from reader.pair(item, i, where, "")
            elif isinstance(item, dict) and is_mcp(item):
                yield from _message(item, where, reader, stats)
            else:
                stats.bad_record(where, "not an MCP message or request/response pair")
        return
    if not isinstance(doc, dict):
        stats.bad_record(ref, "not a JSON object")
        return
    if line == 0:
        stats.records += 1
    reader.seq += 1
    yield from _message(doc, ref, reader, stats)


def _message(obj: dict[str, Any], ref: str, reader: _Reader, stats: SourceStats) -> Iterator[Event]:
    msg = obj["message"] if isinstance(obj.get("message"), dict) else obj
    if msg.get("jsonrpc") != "2.0":
        stats.bad_record(ref, "not JSON-RPC")
        return
    when, raw = _time(obj)
    if raw is not None and when is None:
        stats.bad_record(ref, f"unusable time ({quoted(raw, 40)!r})")
        return
    yield from reader.message(msg, _At(when, raw, ref, reader.seq, _session_of(obj)))


def _sdk_session(obj: Any) -> bool:
    found = _pairs_of(obj)
    return found is not None and any(_is_pair(p) for p in found[1][:20])


def score(s: Sample) -> Score:
    """How surely a sample is MCP traffic, and which shape."""
    doc = s.document
    if isinstance(doc, dict) and _sdk_session(doc):
        pairs = (_pairs_of(doc) or ("", []))[1]
        methods = {str(p["request"].get("method")) for p in pairs[:50] if _is_pair(p)}
        if methods & (set(SDK_METHODS) | set(SDK_METHODS.values()) | {"initialize"}):
            return Score(95, "one recorded MCP session of request/response pairs")
        return Score(60, "request/response pairs (methods not MCP's)")
    if isinstance(doc, list) and doc:
        hits = sum(1 for v in doc[:50] if _is_pair(v) or (isinstance(v, dict) and is_mcp(v)))
        if hits * 2 >= min(len(doc), 50):
            return Score(85, "JSON array of MCP messages or request/response pairs")
    objects = s.objects
    if objects:
        hits = sum(1 for o in objects if is_mcp(o) or _sdk_session(o))
        if hits:
            timed = sum(1 for o in objects if _time(o)[0] is not None)
            why = "JSON lines of MCP JSON-RPC messages" + ("" if timed else " (no times)")
            return Score(min(95, 40 + 55 * hits // len(s.lines)), why)
    opening = s.opening.lstrip()[:4096]
    if not s.whole and b'"jsonrpc"' in opening and (b'"interactions"' in opening or b'"request"' in opening):
        return Score(70, "opens as a recorded MCP session (too big to sample whole)")
    return NO
