"""OpenTelemetry GenAI spans: OTLP JSON, the Python SDK's span JSON, and the OpenInference variant.

Tool spans (`gen_ai.operation.name = execute_tool`, OpenInference `TOOL`, MCP `tools/call`)
become tool_call events with their arguments and result where recorded; model spans become
model_call events. Old and new attribute names are both read.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from ir.core.redaction import could_hold_secret, known
from ir.timeline.model import ARGS_TEXT, CLEAN, Event, event, parse_time
from ir.timeline.sources.base import (
    NO_STEMS,
    SourceStats,
    as_text,
    clean,
    head,
    json_document,
    lines,
    maybe_json,
    shown,
    whole,
)
from ir.timeline.sources.otel_typed import SPAN
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

VERDICT_KEPT = 400
"""A tool call's texts up to this long (together) have their secret-word verdict kept: repeated
calls share it; longer ones (a result of 100 KB) are seldom the same twice and would hold memory."""
FORMAT = "otel"
MODEL_OPS = {"chat", "text_completion", "generate_content", "invoke_agent", "call_llm", "create_agent", "embeddings"}


def _otlp_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:  # a string in OTLP JSON; one that is no integer (or too long to convert) stays as written
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return value["intValue"]
    if "arrayValue" in value:
        return [_otlp_value(v) for v in _list(_dict(value["arrayValue"]).get("values"))]
    if "kvlistValue" in value:
        return _attributes(_dict(value["kvlistValue"]).get("values"))
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _attributes(pairs: Any) -> dict[Any, Any]:
    """OTLP `[{key, value}]` as a dict; pieces of the wrong shape are left out."""
    found: dict[Any, Any] = {}
    for kv in _list(pairs):
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            found[kv["key"]] = _otlp_value(kv.get("value"))
    return found


def _hex_id(value: Any, width: int) -> str | None:
    if value is None or value == "":
        return None
    if type(value) is int and value >= 0:
        return format(value, _HEX[width]) if width in _HEX else f"{value:0{width}x}"
    text = str(value)
    if len(text) == width and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        return base64.b64decode(text).hex()
    except (binascii.Error, ValueError):
        return text


_HEX = {16: "016x", 32: "032x"}


def _spans(doc: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path in document, span, resource attributes) for both encodings."""
    if isinstance(doc, dict) and isinstance(doc.get("resourceSpans"), list):
        for r, res in enumerate(doc["resourceSpans"]):
            res = _dict(res)
            resource = _attributes(_dict(res.get("resource")).get("attributes"))
            for s, scope in enumerate(_list(res.get("scopeSpans") or res.get("instrumentationLibrarySpans"))):
                for i, span in enumerate(_list(_dict(scope).get("spans"))):
                    where = f"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]"
                    if isinstance(span, dict):
                        yield where, {**span, "attributes": _attributes(span.get("attributes"))}, resource
                    else:
                        yield where, {"not a span": span}, resource
    elif isinstance(doc, dict) and isinstance(doc.get("spans"), list):
        for i, span in enumerate(doc["spans"]):
            if isinstance(span, dict):
                yield f"spans[{i}]", span, _dict(_dict(span.get("resource")).get("attributes"))
    elif isinstance(doc, dict) and "context" in doc and "name" in doc:
        yield "span", doc, _dict(_dict(doc.get("resource")).get("attributes"))
    elif isinstance(doc, list):
        for i, span in enumerate(doc):
            if isinstance(span, dict):
                yield f"[{i}]", span, {}


def to_event(
    span: dict[str, Any], resource: dict[str, Any], source: str, seq: int, ref: str, stats: SourceStats
) -> Event | None:
    """One span as an event; None for spans that are not about agents, models or tools (and, counted
    bad with the reason, for spans whose parts are not the shape OpenTelemetry writes)."""
    for key in ("attributes", "context", "parent", "status"):
        if span.get(key) is not None and not isinstance(span[key], dict):
            stats.bad_record(ref, f"{key} is not an object ({type(span[key]).__name__})")
            return None
    if "not a span" in span:
        stats.bad_record(ref, "span is not an object")
        return None
    context = span.get("context") or {}
    parent = span.get("parent") or {}
    return span_event(
        span.get("attributes") or {},
        span.get("name", ""),
        span.get("start_time", span.get("startTimeUnixNano")),
        context.get("trace_id", span.get("traceId")),
        context.get("span_id", span.get("spanId")),
        parent.get("span_id", span.get("parentSpanId")),
        (span.get("status") or {}).get("status_code"),
        resource,
        source,
        seq,
        ref,
        stats,
    )


def span_event(
    a: dict[str, Any],
    span_name: Any,
    raw: Any,
    trace_id: Any,
    span_id: Any,
    parent_id: Any,
    status_code: Any,
    resource: dict[str, Any],
    source: str,
    seq: int,
    ref: str,
    stats: SourceStats,
    verdicts: dict[str, bool] | None = None,
) -> Event | None:
    """The event of a span of the right shape, from its parts (`a`: its attributes as a dict).
    `verdicts`: whether a tool call's texts but its call id hold a secret's stem, per those texts
    (only while no value is registered: registered values can only add to what holds one)."""
    op = a.get("gen_ai.operation.name")
    op = op if isinstance(op, str) else None
    oi_kind = str(a.get("openinference.span.kind", "")).upper()
    is_tool = op == "execute_tool" or oi_kind == "TOOL" or a.get("mcp.method.name") == "tools/call"
    is_model = op in MODEL_OPS or oi_kind in ("LLM", "AGENT", "CHAIN") or "gen_ai.request.model" in a
    if not (is_tool or is_model):
        return None
    if type(raw) is int and _NANOSECONDS <= raw < 1 << 63:  # what parse_time gives the SDK's times
        when = (raw, False)
    else:
        found = parse_time(raw)
        if found is None:
            stats.bad_record(ref, f"no usable start time ({shown(raw)})")
            return None
        when = found
    links = {  # (an SDK id is a non-negative integer: written as _hex_id writes it)
        "trace_id": format(trace_id, "032x") if type(trace_id) is int and trace_id >= 0 else _hex_id(trace_id, 32),
        "span_id": format(span_id, "016x") if type(span_id) is int and span_id >= 0 else _hex_id(span_id, 16),
        "parent_span_id": None if parent_id is None else _hex_id(parent_id, 16),
    }
    actor = {}
    agent = a.get("gen_ai.agent.name") or a.get("gen_ai.agent.id") or resource.get("service.name")
    if agent and isinstance(agent, str | int) and not isinstance(agent, bool):
        actor["agent"] = agent
    session = a.get("gen_ai.conversation.id") or a.get("session.id") or a.get("mcp.session.id")
    if session and isinstance(session, str | int) and not isinstance(session, bool):
        actor["session"] = session
    name = str(span_name)
    if is_tool:
        tool_name = (
            a.get("gen_ai.tool.name")
            or a.get("tool.name")
            or a.get("mcp.tool.name")
            or name.removeprefix("execute_tool ")
        )
        arguments = maybe_json(a.get("gen_ai.tool.call.arguments", a.get("gen_ai.tool.args", a.get("input.value"))))
        result = a.get("gen_ai.tool.call.result", a.get("gen_ai.output", a.get("output.value")))
        tool = {
            "name": tool_name,
            "call_id": a.get("gen_ai.tool.call.id") or a.get("jsonrpc.request.id"),
            "arguments": arguments,
            "result": maybe_json(result),
            "description": a.get("gen_ai.tool.description"),
            "success": status_code not in ("error", "ERROR", 2),
        }
        made: Event = {  # what model.event builds, written out: this runs for every span
            "ts": when[0],
            "ts_raw": raw,
            "source": source,
            "seq": seq,
            "kind": "tool_call",
            "actor": actor,
            "action": str(tool_name),
            "target": None,
            "tool": tool,
            "links": links,
            "tags": [],
            "raw_ref": ref,
            "message": f"{tool_name} {'null' if arguments is None else as_text(arguments, 160)}",
        }
        if when[1]:
            made["assumed_utc"] = True
        args_text = whole(arguments)
        if args_text is not None:  # (as detect.tool_facts writes them: no arguments, no text)
            made[ARGS_TEXT] = "" if arguments is None else args_text
        if type(tool_name) is str:  # (a name of another type is shown by repr in the message)
            call_id, description = tool["call_id"], tool["description"]
            call_text = "" if type(call_id) in NO_STEMS else whole(call_id)
            result_text = whole(tool["result"])
            about = "" if type(description) in NO_STEMS else whole(description)
            if (
                verdicts is None
                or call_text is None
                or args_text is None
                or result_text is None
                or about is None
                or len(args_text) + len(result_text) + len(about) > VERDICT_KEPT
            ):
                verdict = clean(tool_name, call_text, args_text, result_text, about)
            else:  # a stem is inside one piece (none spans a `\0`): the texts but the id, once each
                key = f"{tool_name}\0{args_text}\0{result_text}\0{about}"
                verdict = verdicts.get(key)
                if verdict is None:
                    verdict = verdicts[key] = not could_hold_secret(key)
                    if len(verdicts) >= 10_000:
                        verdicts.clear()
                if verdict and call_text:
                    verdict = not could_hold_secret(call_text)
            if verdict is not None:  # every text redaction looks at is made of these pieces
                made[CLEAN] = verdict
        return made
    model = a.get("gen_ai.request.model") or a.get("llm.model_name") or ""
    provider = a.get("gen_ai.provider.name") or a.get("gen_ai.system") or ""
    made = event(
        ts=when[0],
        ts_raw=raw,
        source=source,
        seq=seq,
        kind="model_call",
        action=str(op or oi_kind.lower()),
        raw_ref=ref,
        actor=actor,
        target=str(model) or None,
        links=links,
        message=f"{op or oi_kind.lower()} {provider} {model}".strip(),
        assumed_utc=when[1],
    )
    made["model"] = {
        "input_tokens": a.get("gen_ai.usage.input_tokens", a.get("gen_ai.usage.prompt_tokens")),
        "output_tokens": a.get("gen_ai.usage.output_tokens", a.get("gen_ai.usage.completion_tokens")),
        "output": as_text(a.get("gen_ai.output.messages", a.get("gen_ai.output", "")), 2000),
    }
    return made


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """Spans from a whole JSON document, or from JSON lines (one document or span per line)."""
    source = f"{FORMAT}:{path.name}"
    start = head(path, 64).lstrip()[:1]
    # stdlib json, not orjson: the SDK writes 128-bit trace ids as integers, which orjson turns into floats
    whole = start in (b"{", b"[") and not _surely_lines(path)
    parsed = json_document(path, SourceStats(str(path), FORMAT), json.loads) if whole else None
    if parsed is not None:
        for seq, (where, span, resource) in enumerate(_spans(parsed)):
            stats.records += 1
            made = to_event(span, resource, source, seq, f"{path}#{where}", stats)
            if made is not None:
                yield made
        return
    decode = SPAN.decode
    path_text = str(path)  # (a Path formats itself through Python code: once, not per line)
    verdicts: dict[str, bool] | None = None if known() else {}
    seq = 0
    for lineno, raw in lines(path, stats):
        stats.records += 1
        try:
            typed = decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            try:  # the general path, with the reasons it always gave
                doc = _loads(raw)
            except (ValueError, RecursionError) as exc:
                stats.bad_record(f"{path}:{lineno}", f"not JSON ({str(exc).split(':')[0]})")
                continue
            if not isinstance(doc, dict):
                stats.bad_record(f"{path}:{lineno}", "not a JSON object")
                continue
            for where, general, resource in _spans(doc):
                stats.records += 1
                made = to_event(general, resource, source, seq, f"{path}:{lineno}#{where}", stats)
                seq += 1
                if made is not None:
                    yield made
            continue
        stats.records += 1  # (a line and the span on it are both counted, as on the general path)
        context, parent, status = typed.context, typed.parent, typed.status
        made = span_event(
            typed.attributes or {},
            typed.name,
            typed.start_time,
            None if context is None else context.trace_id,
            None if context is None else context.span_id,
            None if parent is None else parent.span_id,
            None if status is None else status.status_code,
            _dict(_dict(typed.resource).get("attributes")),
            source,
            seq,
            f"{path_text}:{lineno}#span",
            stats,
            verdicts,
        )
        seq += 1
        if made is not None:
            yield made


_NANOSECONDS = 10**17
"""A Unix time from here up is in nanoseconds (`model.parse_time`)."""


def _surely_lines(path: Path) -> bool:
    """Whether the file cannot be one JSON document: its first line is a whole JSON value and more
    follows (then reading it whole, as a document, would only fail at the end of that line)."""
    first, newline, rest = head(path, 65536).lstrip().partition(b"\n")
    if not newline or not rest.strip():
        return False
    try:
        _DECODE.decode(first)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return False
    return True


_DECODE = msgspec.json.Decoder()


def _loads(raw: bytes) -> Any:
    """json.loads (its values, its errors), faster: msgspec first (the same values for the JSON it
    reads; big integers exact too), the standard library for anything it refuses."""
    try:
        return _DECODE.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return json.loads(raw)


def _is_span_line(obj: dict[str, Any]) -> bool:
    return "resourceSpans" in obj or ("context" in obj and "name" in obj)


def score(s: Sample) -> Score:
    """OTLP JSON (`resourceSpans`), the SDK's span JSON (`spans`, or spans with `context`), as a
    document or one per line; a document too large to sample is known by the keys in its opening."""
    doc = s.document
    if isinstance(doc, dict):
        if isinstance(doc.get("resourceSpans"), list):
            return Score(95, f"an OTLP JSON document ({len(doc['resourceSpans'])} resourceSpans)")
        spans = doc.get("spans")
        if isinstance(spans, list) and any(isinstance(x, dict) and _is_span_line(x) for x in spans):
            return Score(90, f"a span JSON document ({len(spans)} spans)")
        if _is_span_line(doc):
            return Score(80, "one SDK span")
    if isinstance(doc, list) and any(isinstance(x, dict) and _is_span_line(x) for x in doc):
        return Score(80, f"a JSON list of {len(doc)} spans")
    hits, total = line_share(s, _is_span_line)
    if hits and doc is None:
        return share_score(hits, total, "spans or OTLP documents", base=70)
    window = s.opening.lstrip()[:4096]
    if doc is None and not s.objects and window[:1] in (b"{", b"["):
        if b'"resourceSpans"' in window:
            return Score(85, "OTLP JSON (resourceSpans in its opening)")
        if b'"spans"' in window and b'"context"' in s.opening:
            return Score(75, "span JSON (spans with context in its opening)")
        if b'"gen_ai.' in s.opening:
            return Score(55, "JSON with gen_ai attributes in its opening")
    return NO
