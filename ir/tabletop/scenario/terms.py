"""The scenario's small vocabulary: ids, durations (`30s`, `4m`, `1h30m`) and conditions.

    contained(AGENT)   the agent's case has freeze, keys and sessions all succeeded
    frozen(AGENT)      the agent's container is paused or stopped (world state)
    revoked(AGENT)     every access key of the agent's users, minted ones included, is Inactive
    case_open(AGENT)   a case exists for the agent
    decided(AGENT)     a decision is recorded for the agent
    delivered(INJECT)  the inject was delivered

What each condition means in an exercise is decided in one place: `ir.tabletop.conditions`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

ID = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
"""An objective, role, inject or expectation id."""
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
CONDITION = re.compile(r"^(contained|frozen|revoked|case_open|decided|delivered)\(([A-Za-z0-9._-]+)\)$")
"""A condition: its name and its subject (an agent, or an inject for `delivered`)."""


def seconds(text: str) -> int:
    """`1h30m` → 5400; ValueError when it is not a duration."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 4m, 1h30m)")
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def _duration(value: str) -> str:
    seconds(value)
    return value


def _condition(value: str) -> str:
    text = value.strip()
    if not CONDITION.match(text):
        raise ValueError(
            f"{value!r} is not a condition: contained(AGENT), frozen(AGENT), revoked(AGENT), "
            "case_open(AGENT), decided(AGENT) or delivered(INJECT)"
        )
    return text


Duration = Annotated[str, AfterValidator(_duration)]
"""Text like `4m` or `1h30m`, checked; `seconds(d)` gives its length."""
Condition = Annotated[str, AfterValidator(_condition)]
"""A condition of the small vocabulary (module docstring)."""
