"""An exercise as its journal tells it: what was delivered, skipped, played and marked, and its clock.

Folding `exercise.jsonl` gives the same state the running controller keeps in memory, so a console
that joined from another terminal shows the same panel (`status_of`), and a console that takes
over a controller that died carries on from where the journal stops (`Exercise.take_over`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from ir.core.errors import InputError
from ir.core.journal import Record
from ir.tabletop.clock import ExerciseClock
from ir.tabletop.injects import due_at
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.scenario import Scenario, seconds
from ir.tabletop.status import ExerciseStatus, InjectState


@dataclass
class Replayed:
    """The state an exercise journal records (see the module docstring)."""

    started: Record
    clock: ExerciseClock
    delivered: dict[str, float] = field(default_factory=dict)
    """Inject id → exercise time it was delivered at."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Inject id → why it was skipped."""
    played: set[int] = field(default_factory=set)
    """Reference moves played (by index)."""
    marked: dict[str, bool] = field(default_factory=dict)
    """Manual expectation → passed (the latest mark)."""
    ended: str | None = None
    """Why it ended (None while it runs)."""
    participants: list[tuple[str, str]] = field(default_factory=list)
    """(who, role) in the order they joined."""

    @property
    def exercise_id(self) -> str:
        """The exercise id `exercise.started` names."""
        return str(self.started.data.get("exercise", ""))

    @property
    def auto(self) -> bool:
        """Whether the reference response plays (`--auto`)."""
        return bool(self.started.data.get("auto"))

    @property
    def facilitator(self) -> str:
        """Who started the exercise."""
        return str(self.started.data.get("facilitator", ""))


def replay(records: Iterable[Record]) -> Replayed:
    """Fold exercise records, in journal order, into their state (InputError: no `exercise.started`)."""
    records = list(records)
    if not records or records[0].type != K.STARTED:
        raise InputError("the exercise journal does not start with exercise.started")
    state = Replayed(started=records[0], clock=ExerciseClock.from_records(records))
    for record in records[1:]:
        data = record.data
        if record.type == K.INJECT_DELIVERED:
            state.delivered[str(data.get("inject"))] = float(data.get("exercise_s", 0.0))
        elif record.type == K.INJECT_SKIPPED:
            state.skipped[str(data.get("inject"))] = str(data.get("why", ""))
        elif record.type == K.MOVE_PLAYED:
            state.played.add(int(data.get("move", -1)))
        elif record.type == K.EXPECTATION_MARKED:
            state.marked[str(data.get("expectation"))] = bool(data.get("passed"))
        elif record.type == K.PARTICIPANT_JOINED:
            state.participants.append((str(data.get("as", "")), str(data.get("role", ""))))
        elif record.type == K.ENDED:
            state.ended = str(data.get("reason", ""))
    return state


def status_of(scenario: Scenario, state: Replayed, now: float | None = None) -> ExerciseStatus:
    """The panel's snapshot of a replayed exercise, as `Exercise.status()` gives it for a live one."""
    return snapshot(
        scenario,
        exercise_id=state.exercise_id,
        clock=state.clock,
        delivered=state.delivered,
        skipped=state.skipped,
        played=state.played,
        marked=state.marked,
        ended=state.ended,
        auto=state.auto,
        now=now,
    )


def snapshot(
    scenario: Scenario,
    *,
    exercise_id: str,
    clock: ExerciseClock,
    delivered: Mapping[str, float],
    skipped: Mapping[str, str],
    played: Collection[int],
    marked: Mapping[str, bool],
    ended: str | None,
    auto: bool,
    now: float | None = None,
) -> ExerciseStatus:
    """Clock, every inject's state (a pending one with when it is due, once that is known), moves, marks."""
    injects = []
    for inject in scenario.injects:
        if inject.id in delivered:
            injects.append(InjectState(inject.id, inject.title, "delivered", at_s=delivered[inject.id]))
        elif inject.id in skipped:
            injects.append(InjectState(inject.id, inject.title, "skipped", why=skipped[inject.id]))
        else:
            injects.append(InjectState(inject.id, inject.title, "pending", due_s=due_at(inject, delivered)))
    return ExerciseStatus(
        id=exercise_id,
        scenario=scenario.id,
        title=scenario.title,
        clock=clock.spec.text,
        exercise_s=clock.exercise_seconds() if now is None else now,
        paused=clock.paused,
        ended=ended,
        end_after_s=float(seconds(scenario.end.after)),
        injects=tuple(injects),
        moves_played=len(played),
        moves_total=len(scenario.reference) if auto else 0,
        marked=dict(marked),
    )
