"""Normalised timeline events and the time parsing every source shares.

An event is a plain dict (fast to build, sort and serialise a million of) with these keys:

    ts            int, UTC nanoseconds (after any clock-offset correction)
    ts_raw        the time exactly as the source wrote it
    source        `format:file name`, e.g. `cloudtrail:trail.json`
    seq           order within the source (record number)
    kind          tool_call | tool_result | model_call | cloud_api_call | container_log |
                  file_access | net_egress | agent_log
    actor         {agent, session, access_key, user, ip, user_agent} (those known)
    action        what was done (tool name, API operation, ...)
    target        what it was done to (path, URL, resource), or None
    tool          {name, call_id, arguments, result} for tool calls and results, else None
    links         {trace_id, span_id, parent_span_id, request_id, caused_by} (those known)
    tags          [{tag, why}] added by the detectors
    raw_ref       `file:line` of the raw record
    message       one human line
    assumed_utc   present and true when the source gave a time without a zone
    untimed       present and true when the source gave no time at all: the parser yields `ts` 0
                  and keeps the source's own order in `seq`; the pipeline places the event (after
                  the timed events, or at a time the user gives) and keeps `ts_raw` None
    evidence      other raw_refs of the same tool call seen in other sources (after merge)
    clock_offset_ns  present when the source's clock was corrected
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

Event = dict[str, Any]
ARGS_TEXT = "_args_text"
"""Set by a parser that wrote the tool's arguments as text (`detect.tool_facts` takes it instead of
writing them again); taken off before the event goes anywhere."""
CLEAN = "_clean"
"""Set (True) by a parser that knows none of the event's texts can hold a secret (the redaction
pre-check is then skipped); taken off before the event goes anywhere (`records.record`)."""

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9})\d*)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


_SECONDS: dict[str, int] = {}
_SCALE = tuple(10 ** (30 - size) if 21 < size <= 30 else 0 for size in range(31))
"""Nanoseconds per unit of the fraction of an RFC 3339 UTC time `size` characters long."""
_FAST = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def parse_time(value: Any) -> tuple[int, bool] | None:
    """(UTC nanoseconds, assumed_utc) for ISO 8601 text or a Unix time in s/ms/µs/ns; None if not a time."""
    if type(value) is str:
        if value[-1:] == "Z":  # RFC 3339 UTC of a second seen before (checked when it was cached)
            seconds = _SECONDS.get(value[:19])
            if seconds is not None:
                size = len(value)
                if size == 20:
                    return seconds * 1_000_000_000, False
                if 22 <= size <= 30 and value[19] == ".":
                    fraction = value[20:-1]
                    if fraction.isdecimal():  # (what `\d` matches)
                        return seconds * 1_000_000_000 + int(fraction) * _SCALE[size], False
        fast = _FAST.match(value)
        if fast:  # the common case: RFC 3339 UTC; whole seconds are cached (logs repeat them a lot)
            whole, fraction = fast.groups()
            seconds = _SECONDS.get(whole)
            if seconds is None:
                parsed = _parse_iso(whole + "Z")
                if parsed is None:
                    return None
                seconds = parsed[0] // 1_000_000_000
                if len(_SECONDS) > 100_000:
                    _SECONDS.clear()
                _SECONDS[whole] = seconds
            return seconds * 1_000_000_000 + (int(fraction.ljust(9, "0")) if fraction else 0), False
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return _from_number(value), False
        except (OverflowError, ValueError):  # inf, nan, or out of any clock's range
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        try:
            return _from_number(int(text)), False
        except (OverflowError, ValueError):
            return None
    return _parse_iso(text)


def _parse_iso(text: str) -> tuple[int, bool] | None:
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        seconds = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31 and int(year) >= 1):
        return None
    nanos = int((fraction or "0").ljust(9, "0")[:9])
    offset = 0
    if zone and zone not in ("Z", "z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    ns = (seconds - offset) * 1_000_000_000
    if not _FIRST_NS <= ns <= _LAST_NS:  # `9999-12-31T23:59:59-01:00` is in year 10000 in UTC
        return None
    return ns + nanos, zone is None


_FIRST_NS, _LAST_NS = -62135596800 * 1_000_000_000, 253402300799 * 1_000_000_000
"""Years 1 to 9999: the times that can be written as ISO 8601."""


_ENCODE = msgspec.json.Encoder(enc_hook=str)


def dumps(value: Any) -> bytes:
    """Compact JSON as orjson writes it (others' types as `str`); integers beyond 64 bits, which
    orjson refuses, are written exactly (msgspec)."""
    try:
        return orjson.dumps(value, default=str)
    except TypeError:
        return _ENCODE.encode(value)


def _from_number(value: float | int) -> int:
    magnitude = abs(value)
    if magnitude >= 1e17:
        ns = int(value)
    elif magnitude >= 1e14:
        ns = int(value * 1_000)
    elif magnitude >= 1e11:
        ns = int(value * 1_000_000)
    else:
        ns = int(value * 1_000_000_000)
    if not _FIRST_NS <= ns <= _LAST_NS:
        raise OverflowError("time out of range")
    return ns


_ISO_SECONDS: dict[int, str] = {}
_ISO_BYTES: dict[int, bytes] = {}


def iso_bytes(ns: int) -> bytes:
    """`iso(ns)` as UTF-8 bytes."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    prefix = _ISO_BYTES.get(seconds)
    if prefix is None:
        prefix = iso(seconds * 1_000_000_000)[:-13].encode()
        if len(_ISO_BYTES) > 100_000:
            _ISO_BYTES.clear()
        _ISO_BYTES[seconds] = prefix
    return b"%s.%06d+00:00" % (prefix, nanos // 1000)


def iso(ns: int) -> str:
    """ISO 8601 UTC with microseconds and an explicit offset (`+00:00`)."""
    micros = ns // 1000
    seconds = micros // 1_000_000
    prefix = _ISO_SECONDS.get(seconds)
    if prefix is None:
        prefix = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        if len(_ISO_SECONDS) > 100_000:
            _ISO_SECONDS.clear()
        _ISO_SECONDS[seconds] = prefix
    # (six digits, zeros in front, without a format spec: the event's time is written for every line)
    return f"{prefix}.{str(micros % 1_000_000 + 1_000_000)[1:]}+00:00"


def event(
    *,
    ts: int,
    ts_raw: Any,
    source: str,
    seq: int,
    kind: str,
    action: str,
    raw_ref: str,
    actor: dict[str, Any] | None = None,
    target: str | None = None,
    tool: dict[str, Any] | None = None,
    links: dict[str, Any] | None = None,
    message: str = "",
    assumed_utc: bool = False,
    untimed: bool = False,
) -> Event:
    """A normalised event with every key present."""
    made: Event = {
        "ts": ts,
        "ts_raw": ts_raw,
        "source": source,
        "seq": seq,
        "kind": kind,
        "actor": actor or {},
        "action": action,
        "target": target,
        "tool": tool,
        "links": links or {},
        "tags": [],
        "raw_ref": raw_ref,
        "message": message,
    }
    if assumed_utc:
        made["assumed_utc"] = True
    if untimed:
        made["untimed"] = True
    return made
