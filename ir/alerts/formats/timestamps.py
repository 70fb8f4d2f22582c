"""Source times read into one spelling: ISO 8601 UTC with microseconds, or "" when unknown.

Senders disagree: Alertmanager writes nanoseconds and Go's zero time `0001-01-01T00:00:00Z` for
"not set", OCSF gives epoch milliseconds, the Agent Governance Toolkit's audit export appends a
`Z` after an offset (`…+00:00Z`), boto3 prints a space instead of `T`. A time that cannot be read
is "" rather than an error: the time is context, never what decides containment.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d{6})\d+")
_OFFSET_THEN_Z = re.compile(r"([+-]\d{2}:?\d{2})Z\Z")


def parse_time(value: object) -> datetime | None:
    """A source time as an aware UTC datetime, or None (absent, zero time, unreadable)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    text = _OFFSET_THEN_Z.sub(r"\1", text)
    text = _FRACTION.sub(r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if parsed.year <= 1:
        return None
    return parsed


def _from_epoch(number: float) -> datetime | None:
    # OCSF times are epoch milliseconds; a plain count of seconds is taken as seconds.
    seconds = number / 1000 if abs(number) >= 1e11 else number
    try:
        parsed = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return None if parsed.year <= 1970 and seconds <= 0 else parsed


def iso(value: object) -> str:
    """A source time as `2026-09-02T13:08:45.828000+00:00`, or "" when it cannot be read."""
    parsed = parse_time(value)
    return parsed.isoformat(timespec="microseconds") if parsed else ""


def first_iso(*values: object) -> str:
    """The first of several candidate times that can be read, as `iso` spells it."""
    for value in values:
        text = iso(value)
        if text:
            return text
    return ""
