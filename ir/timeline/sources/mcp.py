"""MCP JSON-RPC logs, as a proxy records them: one message per line with the proxy's time.

Accepted shapes: the JSON-RPC message itself with `ts`/`timestamp`/`time` (and optionally
`direction`, `session`) beside it, or a wrapper `{"ts": ..., "direction": ..., "session": ...,
"message": {...}}`. `tools/call` requests are tool calls, their responses tool results (matched
by id within a session), `tools/list` responses list tool descriptions — where tool poisoning hides.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, event, parse_time
from ir.timeline.sources.base import SourceStats, as_text, json_lines, tool_event
from ir.timeline.sources.sample import Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

FORMAT = "mcp"


def is_mcp(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is a logged JSON-RPC message."""
    inner = obj.get("message") if isinstance(obj.get("message"), dict) else obj
    return isinstance(inner, dict) and inner.get("jsonrpc") == "2.0"


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Tool calls, results and tool lists from an MCP log."""
    source = f"{FORMAT}:{path.name}"
    calls: dict[tuple[str, str], str] = {}
    for lineno, obj in json_lines(path, stats):
        ref = f"{path}:{lineno}"
        msg = obj["message"] if isinstance(obj.get("message"), dict) else obj
        raw = next((obj[k] for k in ("ts", "timestamp", "time") if k in obj), None)
        when = parse_time(raw)
        if when is None or msg.get("jsonrpc") != "2.0":
            stats.bad_record(ref, "no time or not JSON-RPC")
            continue
        if when[1]:
            stats.assumed_utc += 1
        session = str(obj.get("session") or obj.get("session_id") or "")
        rpc_id = str(msg.get("id"))
        actor = {"session": session} if session else {}
        links = {"request_id": rpc_id}
        at: dict[str, Any] = {
            "when": when,
            "raw": raw,
            "source": source,
            "seq": lineno,
            "ref": ref,
            "actor": actor,
            "links": links,
        }
        if msg.get("method") == "tools/call":
            params = msg.get("params") or {}
            name = str(params.get("name", "?"))
            calls[(session, rpc_id)] = name
            yield tool_event(
                kind="tool_call", name=name, call_id=f"mcp:{session}:{rpc_id}", arguments=params.get("arguments"), **at
            )
        elif (session, rpc_id) in calls and ("result" in msg or "error" in msg):
            name = calls.pop((session, rpc_id))
            result = msg.get("result") or {}
            text = " ".join(str(c.get("text", "")) for c in result.get("content") or [] if isinstance(c, dict))
            error = msg.get("error") or (result.get("isError") and text)
            yield tool_event(
                kind="tool_result",
                name=name,
                call_id=f"mcp:{session}:{rpc_id}",
                result=text if "result" in msg else msg.get("error"),
                success=not error,
                **at,
            )
        elif isinstance((msg.get("result") or {}).get("tools"), list):
            for tool_def in msg["result"]["tools"]:
                if not isinstance(tool_def, dict):
                    continue
                name = str(tool_def.get("name", "?"))
                tool = {
                    "name": name,
                    "call_id": None,
                    "arguments": None,
                    "result": None,
                    "description": tool_def.get("description"),
                }
                yield event(
                    ts=when[0],
                    ts_raw=raw,
                    source=source,
                    seq=lineno,
                    kind="tool_list",
                    action=name,
                    raw_ref=ref,
                    actor=actor,
                    tool=tool,
                    links=links,
                    message=f"tool offered: {name}: {as_text(tool_def.get('description'), 160)}",
                    assumed_utc=when[1],
                )


def score(s: Sample) -> Score:
    """JSON-RPC 2.0 messages, bare or in a `message` wrapper, one per line."""
    hits, total = line_share(s, is_mcp)
    return share_score(hits, total, "JSON-RPC messages", base=70)
