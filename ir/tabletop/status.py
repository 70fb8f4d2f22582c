"""A running exercise as a panel shows it: a frozen snapshot, taken under the exercise's lock."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InjectState:
    """One inject: pending (with when it is due, if known), delivered (when) or skipped (why)."""

    id: str
    title: str
    state: str
    """`pending`, `delivered` or `skipped`."""
    due_s: float | None = None
    """Pending: exercise time it is due at (None: it waits for another inject)."""
    at_s: float | None = None
    """Delivered: exercise time it was delivered at."""
    why: str = ""
    """Skipped: the `unless` that held, or the skipped inject it came after."""


@dataclass(frozen=True)
class ExerciseStatus:
    """Clock, injects, moves and marks of one exercise at one moment."""

    id: str
    scenario: str
    title: str
    clock: str
    """`real`, `fast:N` or `manual`."""
    exercise_s: float
    paused: bool
    ended: str | None
    """Why it ended, or None while it runs."""
    end_after_s: float
    """The time limit."""
    injects: tuple[InjectState, ...]
    moves_played: int = 0
    moves_total: int = 0
    """Reference moves (under --auto; 0 otherwise)."""
    marked: dict[str, bool] = field(default_factory=dict)
    """Manual expectation → passed, as marked so far."""

    @property
    def next_inject(self) -> InjectState | None:
        """The pending inject due soonest (None when none has a known time)."""
        timed = [i for i in self.injects if i.state == "pending" and i.due_s is not None]
        return min(timed, key=lambda i: i.due_s or 0.0) if timed else None

    @property
    def next_in_s(self) -> float | None:
        """Exercise seconds until the next inject (0 when overdue; None when nothing is timed)."""
        nxt = self.next_inject
        return None if nxt is None or nxt.due_s is None else max(0.0, nxt.due_s - self.exercise_s)
