"""One running exercise: its clock, its journal, injects on time, the reference response, the end.

`Exercise.begin(...)` creates the exercise folder and journal; then a driver calls `tick()`
(deliver what is due, play due moves under `--auto`, end when the end condition holds or the
time is up) — `run_auto()` as fast as it can, `run_realtime()` on the wall clock, or a console on
a timer. Facilitator controls are methods: `pause`, `resume`, `advance`, `fire_next`, `mark`,
`note`, `end`; `status()` is a snapshot for a panel. Every change is an exercise record, written
through `ir.core.journal` (hash chain; checkpoints signed with the facilitator's exercise key).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ir.core.errors import InputError, IrError
from ir.core.journal import Journal, Record
from ir.core.signing_journal import sign_head
from ir.core.signing_trust import workspace_trust
from ir.tabletop.clock import ExerciseClock
from ir.tabletop.conditions import holds
from ir.tabletop.end_state import capture
from ir.tabletop.injects import Delivery, due_at
from ir.tabletop.moves import Moves, what_of
from ir.tabletop.opening import begin
from ir.tabletop.ports import Runtime
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.replay import replay, snapshot
from ir.tabletop.sandbox import JOURNAL_FILE, Sandbox
from ir.tabletop.scenario import Scenario, seconds
from ir.tabletop.status import ExerciseStatus

AUTO = "auto"
"""Who the reference response's clock jumps are recorded as."""


@dataclass(frozen=True)
class _Due:
    """Something scheduled: an inject (kind 0) or a reference move (kind 1) at exercise time `at`."""

    at: float
    kind: int
    index: int


class Exercise:
    """A running exercise (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        sandbox: Sandbox,
        runtime: Runtime,
        journal: Journal,
        *,
        bodies: dict[str, bytes],
        auto: bool,
        facilitator: str,
        on_record: Callable[[Record], None] | None = None,
    ) -> None:
        self.scenario, self.sandbox, self.runtime, self.journal = scenario, sandbox, runtime, journal
        self.auto, self.facilitator = auto, facilitator
        self.on_record = on_record
        self.clock: ExerciseClock | None = None
        self.delivered: dict[str, float] = {}
        self.skipped: dict[str, str] = {}
        self.played: set[int] = set()
        self.marked: dict[str, bool] = {}
        self.ended: str | None = None
        self.lock = threading.RLock()
        """Held for every change: a console's timer and its keys may call in from two threads."""
        self.delivery = Delivery(sandbox, runtime, bodies)
        self.moves = Moves(sandbox, runtime, lambda exp, by, note: self.mark(exp, True, by, note))
        self.trust = workspace_trust(sandbox.workspace())

    # -- starting ---------------------------------------------------------------------------
    @classmethod
    def begin(cls, **how: Any) -> Exercise:
        """Create the exercise folder and sandbox, start the journal and the clock
        (`ir.tabletop.opening.begin`: its keyword arguments)."""
        made: Exercise = begin(cls, **how)
        return made

    @classmethod
    def take_over(
        cls,
        *,
        sandbox: Sandbox,
        scenario: Scenario,
        runtime: Runtime,
        bodies: dict[str, bytes],
        facilitator: str,
        on_record: Callable[[Record], None] | None = None,
    ) -> Exercise:
        """Carry on an exercise whose controller is gone: lock its journal (CaseLocked while another
        process holds it), rebuild the state from its records, and record who took over."""
        journal = Journal(sandbox.folder, JOURNAL_FILE).open()
        try:
            state = replay(journal.records)
        except InputError:
            journal.close()
            raise
        made = cls(scenario, sandbox, runtime, journal, bodies=bodies, auto=state.auto, facilitator=facilitator)
        made.on_record = on_record
        made.clock = state.clock
        made.delivered, made.skipped, made.played = state.delivered, state.skipped, state.played
        made.marked, made.ended = state.marked, state.ended
        if not made.ended:
            made._write(K.PARTICIPANT_JOINED, {"as": facilitator, "role": "facilitator", "controller": True})
        return made

    # -- records ----------------------------------------------------------------------------
    def now(self) -> float:
        """Exercise seconds now."""
        assert self.clock is not None
        return self.clock.exercise_seconds()

    def _told(self, record: Record) -> None:
        if self.on_record is not None:
            self.on_record(record)

    def _write(self, kind: str, data: dict[str, Any], exercise_s: float | None = None) -> Record:
        assert self.clock is not None
        at = self.now() if exercise_s is None else exercise_s
        record = self.journal.append(kind, {**data, "exercise_s": round(at, 3)})
        self.clock.apply(record.type, record.ts, record.data)
        self._told(record)
        return record

    def _sign(self, reason: str) -> None:
        key = self.sandbox.key_for(self.facilitator)
        sign_head(
            self.journal,
            self.sandbox.id,
            self.trust,
            self.facilitator,
            key,
            reason,
            writer=lambda kind, data: self._write(kind, dict(data)),
        )

    # -- what is due ------------------------------------------------------------------------
    def _cascade(self) -> None:
        """Skip what waits on a skipped inject: its predecessor never came, so it cannot come either."""
        for inject in self.scenario.injects:
            if inject.after in self.skipped and inject.id not in self.skipped and inject.id not in self.delivered:
                why = f"after {inject.after}, which was skipped"
                self._write(K.INJECT_SKIPPED, {"inject": inject.id, "why": why})
                self.skipped[inject.id] = why
                self._cascade()
                return
        for index, move in enumerate(self.scenario.reference if self.auto else ()):
            if move.after in self.skipped and index not in self.played:
                self._played(index, {"skipped": f"after {move.after}, which was skipped"})

    def _pending(self) -> list[_Due]:
        """Injects and (under --auto) moves not yet done whose time is known, earliest first."""
        due: list[_Due] = []
        for index, inject in enumerate(self.scenario.injects):
            if inject.id in self.delivered or inject.id in self.skipped:
                continue
            at = due_at(inject, self.delivered)
            if at is not None:
                due.append(_Due(at, 0, index))
        for index, move in enumerate(self.scenario.reference if self.auto else ()):
            if index in self.played:
                continue
            if move.at is not None:
                due.append(_Due(float(seconds(move.at)), 1, index))
            elif move.after in self.delivered:
                due.append(_Due(self.delivered[move.after] + seconds(move.delay), 1, index))
        return sorted(due, key=lambda d: (d.at, d.kind, d.index))

    def tick(self) -> None:
        """Deliver every inject and play every move that is due, then end if the end has come."""
        with self.lock:
            if self.ended:
                return
            limit = float(seconds(self.scenario.end.after))
            while True:
                self._cascade()
                pending = self._pending()
                if not pending or pending[0].at > min(self.now(), limit):
                    break
                item = pending[0]
                if item.kind == 0:
                    self._inject(item.index)
                else:
                    self._move(item.index)
            self._check_end(limit)

    def _inject(self, index: int, fired_by: str | None = None) -> None:
        inject = self.scenario.injects[index]
        if inject.unless is not None:
            held, evidence = self._holds(inject.unless)
            if held:
                why = f"unless {inject.unless}: {evidence}"
                self._write(K.INJECT_SKIPPED, {"inject": inject.id, "why": why})
                self.skipped[inject.id] = why
                return
        at = self.now()  # when it reached the team: what it sets off (its alert's case) comes after
        what, details = self.delivery.deliver(inject)
        data: dict[str, Any] = {"inject": inject.id, "title": inject.title, "what": what, "details": details}
        if fired_by:
            data["fired_by"] = fired_by
        record = self._write(K.INJECT_DELIVERED, data, exercise_s=at)
        self.delivered[inject.id] = float(record.data["exercise_s"])

    def _move(self, index: int) -> None:
        move = self.scenario.reference[index]
        at = self.now()
        self._played(index, self.moves.play(move, move.role or self.facilitator), at)

    def _played(self, index: int, result: dict[str, Any], at: float | None = None) -> None:
        move = self.scenario.reference[index]
        by = move.role or self.facilitator
        data = {"move": index, "what": what_of(move), "agent": move.agent, "by": by, "result": result}
        self._write(K.MOVE_PLAYED, data, exercise_s=at)
        self.played.add(index)

    def _holds(self, condition: str) -> tuple[bool, str]:
        try:
            held, evidence = holds(condition, self.sandbox)
        except IrError as exc:
            return False, f"cannot tell: {exc}"
        return held, str(evidence)

    def _check_end(self, limit: float) -> None:
        if self.ended:
            return
        end = self.scenario.end
        moves_done = not self.auto or len(self.played) == len(self.scenario.reference)
        if end.when and moves_done and all(self._holds(c)[0] for c in end.when):
            self.end("end condition", AUTO if self.auto else self.facilitator)
        elif self.now() >= limit:
            self.end("time limit", AUTO if self.auto else self.facilitator)

    def next_due(self) -> float:
        """Exercise time of the next scheduled thing (the time limit when nothing else is)."""
        with self.lock:
            pending = self._pending()
            limit = float(seconds(self.scenario.end.after))
            return min(pending[0].at, limit) if pending else limit

    # -- drivers ----------------------------------------------------------------------------
    def run_auto(self) -> str:
        """Play to the end as fast as possible: between things, jump the clock to the next one."""
        while not self.ended:
            self.tick()
            if self.ended:
                break
            gap = self.next_due() - self.now()
            if gap > 0:
                self.advance(gap, AUTO)
        assert self.ended is not None
        return self.ended

    def run_realtime(
        self, stop: threading.Event, poll: float = 0.5, also: Callable[[], None] | None = None
    ) -> str | None:
        """Tick on the wall clock until the exercise ends or `stop` is set (then: None); `also` runs
        after every tick (the controller serving other consoles' commands)."""
        assert self.clock is not None
        while not self.ended:
            self.tick()
            if also is not None:
                also()
            if self.ended:
                break
            wait = self.clock.wall_seconds_until(self.next_due())
            if stop.wait(poll if wait is None else max(0.01, min(wait, poll))):
                return None
        return self.ended

    # -- the facilitator ---------------------------------------------------------------------
    def pause(self, by: str) -> bool:
        """Stop the clock (False when it already stands or the exercise has ended)."""
        with self.lock:
            assert self.clock is not None
            if self.ended or self.clock.paused:
                return False
            self._write(K.CLOCK_PAUSED, {"by": by})
            return True

    def resume(self, by: str) -> bool:
        """Restart the clock after a pause (False when it was not paused)."""
        with self.lock:
            assert self.clock is not None
            if self.ended or self.clock.paused_since is None:
                return False
            paused_s = (datetime.now(UTC) - self.clock.paused_since).total_seconds()
            self._write(K.CLOCK_RESUMED, {"by": by, "paused_s": round(paused_s, 3)})
            return True

    def advance(self, seconds_: float, by: str) -> None:
        """Move exercise time forward by `seconds_` (what is due then is delivered on the next tick)."""
        with self.lock:
            if self.ended:
                return
            if seconds_ <= 0:
                raise InputError(f"advance by {seconds_}s: the clock only moves forward")
            at = self.now() + seconds_
            self._write(K.CLOCK_ADVANCED, {"by": by, "seconds": round(seconds_, 3)}, exercise_s=at)

    def fire_next(self, by: str) -> str | None:
        """Deliver the next pending inject now, whatever its time; its id (None when none is left)."""
        with self.lock:
            if self.ended:
                return None
            injects = [d for d in self._pending() if d.kind == 0]
            waiting = [
                i
                for i, inj in enumerate(self.scenario.injects)
                if inj.id not in self.delivered and inj.id not in self.skipped
            ]
            index = injects[0].index if injects else (waiting[0] if waiting else None)
            if index is None:
                return None
            self._inject(index, fired_by=by)
            return self.scenario.injects[index].id

    def mark(self, expectation: str, passed: bool, by: str, note: str = "") -> None:
        """Record a manual expectation as passed or failed (what the facilitator saw)."""
        with self.lock:
            manual = {e.id for e in self.scenario.expectations if e.manual is not None}
            if expectation not in manual:
                raise InputError(
                    f"{expectation!r} is not a manual expectation of {self.scenario.id} "
                    f"(manual: {', '.join(sorted(manual)) or 'none'})"
                )
            self._write(K.EXPECTATION_MARKED, {"expectation": expectation, "passed": passed, "by": by, "note": note})
            self.marked[expectation] = passed
            self._sign("mark")

    def join(self, who: str, role: str) -> None:
        """Record a participant who joined from another console (nothing once the exercise ended)."""
        with self.lock:
            if not self.ended:
                self._write(K.PARTICIPANT_JOINED, {"as": who, "role": role})

    def note(self, text: str, by: str) -> None:
        """A facilitator's or participant's note in the exercise journal."""
        with self.lock:
            if not text.strip():
                raise InputError("a note needs text")
            self._write(K.NOTE, {"by": by, "text": text})
            self._sign("note")

    def end(self, reason: str, by: str) -> None:
        """End the exercise (`end condition`, `time limit`, `facilitator` or `interrupted`) and sign its
        head; the sandbox's world and case journals' lengths are kept as they are now (`end_state`)."""
        with self.lock:
            if self.ended:
                return
            kept = capture(self.sandbox.folder, self.sandbox.workspace().cases_dir, self.runtime.world.snapshot())
            self._write(K.ENDED, {"reason": reason, "by": by, **kept})
            self.ended = reason
            self._sign("end")

    def close(self) -> None:
        """Release the journal and the inbox (end first, or the exercise stays open-ended)."""
        self.delivery.inbox.close()
        self.journal.close()

    # -- for a panel ------------------------------------------------------------------------
    def status(self) -> ExerciseStatus:
        """A snapshot: clock, next inject and its countdown, every inject's state, moves, marks."""
        with self.lock:
            assert self.clock is not None
            return snapshot(
                self.scenario,
                exercise_id=self.sandbox.id,
                clock=self.clock,
                delivered=self.delivered,
                skipped=self.skipped,
                played=self.played,
                marked=self.marked,
                ended=self.ended,
                auto=self.auto,
            )
