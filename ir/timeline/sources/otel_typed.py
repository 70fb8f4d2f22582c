"""The Python SDK's span JSON (`ReadableSpan.to_json`, one span per line), read by a typed decoder:
the common shape without a dict per field. Every other shape takes otel.py's general path."""

from __future__ import annotations

from typing import Any

import msgspec


class SpanContext(msgspec.Struct):
    """A span's `context` (and `parent`): its trace and span ids."""

    trace_id: Any = None
    span_id: Any = None


class Status(msgspec.Struct):
    """A span's `status`."""

    status_code: Any = None


_ELSEWHERE: Any = msgspec.UNSET
"""A field the SDK's span JSON never has: any value fails the typed decoding (the general path
reads OTLP documents, span lists and the OTLP field names)."""


class Span(msgspec.Struct):
    """A span as the Python SDK writes it (`ReadableSpan.to_json`), one per line; every other
    shape, and parts of another type, take the general path (`_spans`, `to_event`)."""

    name: Any
    context: SpanContext | None
    start_time: Any = None
    attributes: dict[str, Any] | None = None
    parent: SpanContext | None = None
    status: Status | None = None
    resource: Any = None
    resourceSpans: msgspec.UnsetType = _ELSEWHERE
    spans: msgspec.UnsetType = _ELSEWHERE
    traceId: msgspec.UnsetType = _ELSEWHERE
    spanId: msgspec.UnsetType = _ELSEWHERE
    parentSpanId: msgspec.UnsetType = _ELSEWHERE
    startTimeUnixNano: msgspec.UnsetType = _ELSEWHERE
    not_a_span: msgspec.UnsetType = msgspec.field(default=_ELSEWHERE, name="not a span")


SPAN = msgspec.json.Decoder(Span)
