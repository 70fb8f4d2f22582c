"""The exercise clock: exercise time from wall time, pauses excluded, jumps included.

Exercise time runs at `rate` × wall time from the start (`real`: 1, `fast:N`: N, `manual`: 0 —
only `advance` moves it), stands still while paused, and jumps forward on `advance`. It is a
piecewise-linear function of wall time, rebuilt from the exercise journal's own records
(`exercise.started`, `clock.paused`, `clock.resumed`, `clock.advanced`, `exercise.ended`): each
anchors a new piece at the record's `ts` and `exercise_s`. The live clock of a running exercise
is updated from the very records it writes, so it and `ExerciseClock.from_records` agree
exactly — scoring maps a case record's wall `ts` to exercise time with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ir.core.errors import InputError

_FAST = re.compile(r"^fast:(\d+(?:\.\d+)?)$")


@dataclass(frozen=True)
class ClockSpec:
    """How an exercise's clock runs: `real`, `fast:N` or `manual`."""

    text: str
    """As given and as recorded in `exercise.started`."""
    rate: float
    """Exercise seconds per wall second (0 for manual)."""


def parse_clock(text: str) -> ClockSpec:
    """`real` → rate 1, `fast:N` → N, `manual` → 0; InputError for anything else."""
    if text == "real":
        return ClockSpec("real", 1.0)
    if text == "manual":
        return ClockSpec("manual", 0.0)
    match = _FAST.match(text)
    if match and 0 < float(match.group(1)) <= 3600:
        return ClockSpec(text, float(match.group(1)))
    raise InputError(f"--clock {text!r}: expected real, fast:N (N from 1 to 3600) or manual")


def wall(ts: str | datetime) -> datetime:
    """A journal `ts` (ISO 8601, `Z`) or a datetime, as an aware UTC datetime."""
    if isinstance(ts, datetime):
        return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
    when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _field(record: Any, name: str) -> Any:
    return record[name] if isinstance(record, Mapping) else getattr(record, name)


class ExerciseClock:
    """Exercise time as a function of wall time (see the module docstring)."""

    def __init__(self, spec: ClockSpec, started: str | datetime) -> None:
        self.spec = spec
        self.started = wall(started)
        self._pieces: list[tuple[datetime, float, float]] = [(self.started, 0.0, spec.rate)]
        """(wall start, exercise seconds at it, rate), in wall order."""
        self.paused_since: datetime | None = None
        """When the running pause began (None: not paused)."""
        self.ended = False

    @property
    def paused(self) -> bool:
        """Whether the clock stands still because of a pause."""
        return self.paused_since is not None

    @property
    def rate(self) -> float:
        """Exercise seconds per wall second now (0 when paused, manual or ended)."""
        return self._pieces[-1][2]

    def exercise_seconds(self, at: str | datetime | None = None) -> float:
        """Exercise time at wall time `at` (now when None); 0 before the start."""
        when = wall(at) if at is not None else datetime.now(UTC)
        piece = self._pieces[0]
        for candidate in self._pieces:
            if candidate[0] > when:
                break
            piece = candidate
        start, value, rate = piece
        return max(0.0, value + max(0.0, (when - start).total_seconds()) * rate)

    def wall_seconds_until(self, exercise_s: float, at: str | datetime | None = None) -> float | None:
        """Wall seconds until the clock shows `exercise_s` (0 when past; None when it stands still)."""
        now = self.exercise_seconds(at)
        if now >= exercise_s:
            return 0.0
        if self.rate <= 0:
            return None
        return (exercise_s - now) / self.rate

    def apply(self, type_: str, ts: str | datetime, data: Mapping[str, Any]) -> None:
        """Fold one exercise record into the clock (the records a running exercise writes, in order)."""
        when = wall(ts)
        value = float(data.get("exercise_s", self.exercise_seconds(when)))
        if type_ == "clock.paused":
            self.paused_since = when
            self._pieces.append((when, value, 0.0))
        elif type_ == "clock.resumed":
            self.paused_since = None
            self._pieces.append((when, value, self.spec.rate))
        elif type_ == "clock.advanced":
            self._pieces.append((when, value, self.rate))
        elif type_ == "exercise.ended":
            self.ended = True
            self._pieces.append((when, value, 0.0))

    @classmethod
    def from_records(cls, records: Iterable[Any]) -> ExerciseClock:
        """The clock of an exercise journal (records as `Record`s or mappings, in order)."""
        clock: ExerciseClock | None = None
        for record in records:
            type_, ts, data = _field(record, "type"), _field(record, "ts"), _field(record, "data")
            if type_ == "exercise.started":
                clock = cls(parse_clock(str(data.get("clock", "real"))), ts)
            elif clock is not None:
                clock.apply(type_, ts, data)
        if clock is None:
            raise InputError("the exercise journal has no exercise.started record")
        return clock
