"""What an exercise console drives: the exercise itself (the controller), or one that another
process controls (a console that joined).

Both answer `view()` (what the panel shows) and `do(command)` (a facilitator key), and are ticked
by the console's timer. The **controller** holds the exercise journal: its tick delivers what is
due and then serves the commands other consoles dropped in the queue (`command_queue.py`), each
recorded exactly as its own keys are. A **joined** console reads the journal when it changes (one
stat() a tick), sends its commands through the queue, shows the controller's refusals, and
watches the journal's lock: once no process holds it and the exercise has not ended, the
controller is gone, and `take_over()` makes this console the controller (the CLI hands in how:
the sandbox's backends and the scenario's alert bodies are its business).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ir.core.errors import InputError, IrError
from ir.core.journal import Record, is_open, read
from ir.tabletop.command_queue import Command, CommandQueue
from ir.tabletop.exercise import Exercise
from ir.tabletop.replay import Replayed, replay, status_of
from ir.tabletop.sandbox import Sandbox
from ir.tabletop.scenario import Scenario
from ir.tabletop.status import ExerciseStatus

FACILITATOR = "facilitator"
ENDED = "the exercise has ended"


@dataclass(frozen=True)
class ExerciseView:
    """What an exercise panel shows at one moment."""

    status: ExerciseStatus
    records: tuple[Record, ...]
    """The exercise journal's records so far (the cards, notes and marks are read from them)."""
    who: str
    """Who is at this console."""
    role: str
    """Their role: cards addressed to it are highlighted."""
    controls: bool
    """Whether this console drives the clock (the controller)."""
    controlled: bool = True
    """Whether some console drives it (False: the controller is gone; take over)."""


class Session(Protocol):
    """An exercise as a console drives it (see the module docstring)."""

    sandbox: Sandbox
    scenario: Scenario
    who: str
    role: str

    def view(self) -> ExerciseView:
        """What the panel shows now."""
        ...

    def tick(self) -> None:
        """Called on the console's timer (in a thread)."""
        ...

    def do(self, command: Command) -> str:
        """Carry out or send one facilitator command; one line saying what happened."""
        ...

    def messages(self) -> list[str]:
        """Refusals to show since the last call (emptied)."""
        ...

    def close(self) -> None:
        """Let go of what the console held."""
        ...


class ControllerSession:
    """The console (or headless run) that holds the exercise journal and ticks its clock."""

    def __init__(self, exercise: Exercise, role: str = FACILITATOR) -> None:
        self.exercise = exercise
        self.sandbox, self.scenario = exercise.sandbox, exercise.scenario
        self.who, self.role = exercise.facilitator, role
        self.queue = CommandQueue(exercise.sandbox.folder)

    def view(self) -> ExerciseView:
        """The live status and the records written so far."""
        with self.exercise.lock:
            records = tuple(self.exercise.journal.records)  # the journal keeps what it wrote
            return ExerciseView(self.exercise.status(), records, self.who, self.role, controls=True)

    def tick(self) -> None:
        """Deliver what is due, then serve the other consoles' commands."""
        self.exercise.tick()
        self.serve()

    def serve(self) -> None:
        """Carry out every command waiting in the queue; tell the sender why one was refused."""
        for name, command in self.queue.take():
            try:
                if isinstance(command, str):
                    raise InputError(command)
                self.do(command)
            except IrError as exc:
                self.queue.refuse(name, str(exc))

    def do(self, command: Command) -> str:
        """Carry out one command as `command.by` (InputError when it cannot be done now)."""
        ex, by = self.exercise, command.by
        if ex.ended:
            raise InputError(ENDED)
        match command.op:
            case "join":
                ex.join(by, command.text or "participant")
                return f"{by} joined"
            case "pause":
                if not ex.pause(by):
                    raise InputError("the clock is paused already")
                return "clock paused"
            case "resume":
                if not ex.resume(by):
                    raise InputError("the clock is not paused")
                ex.tick()
                return "clock resumed"
            case "advance":
                ex.advance(float(command.seconds or 0), by)
                ex.tick()
                return f"clock advanced {command.seconds:g}s"
            case "fire_next":
                fired = ex.fire_next(by)
                if fired is None:
                    raise InputError("no inject is left to fire")
                return f"inject {fired} delivered"
            case "mark":
                passed = bool(command.passed)
                ex.mark(str(command.expectation), passed, by, command.text)
                return f"{command.expectation} marked {'passed' if passed else 'failed'}"
            case "note":
                ex.note(command.text, by)
                return "note recorded"
            case "end":
                ex.end(FACILITATOR, by)
                return "exercise ended"
        raise InputError(f"unknown command {command.op!r}")

    def messages(self) -> list[str]:
        """The controller's own keys answer at once: nothing waits here."""
        return []

    def close(self) -> None:
        """Release the exercise journal (the exercise stays as it is: ended, or open for a take-over)."""
        self.exercise.close()


class JoinedSession:
    """A console on an exercise another process controls."""

    def __init__(
        self,
        sandbox: Sandbox,
        scenario: Scenario,
        who: str,
        role: str,
        take_over: Callable[[], ControllerSession] | None = None,
    ) -> None:
        self.sandbox, self.scenario, self.who, self.role = sandbox, scenario, who, role
        self.queue = CommandQueue(sandbox.folder)
        self._take_over = take_over
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._records: tuple[Record, ...] = ()
        self._state: Replayed | None = None
        self._sent: list[tuple[str, str]] = []
        self._told: list[str] = []
        self.controlled = True
        self.tick()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.sandbox.journal_path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def tick(self) -> None:
        """Read the journal if it changed, collect refusals, see whether a controller is still there."""
        stamp = self._stamp()
        if stamp != self._seen:
            checked = read(self.sandbox.journal_path)  # a line being written is a torn tail: read next tick
            if checked.problems:
                raise InputError(checked.problems[0])
            with self._lock:
                self._records, self._state, self._seen = tuple(checked.records), replay(checked.records), stamp
        with self._lock:
            sent, told = list(self._sent), []
        for name, what in sent:
            why = self.queue.refusal(name)
            if why is not None:
                told.append(f"{what} refused: {why}")
            if why is not None or not self.queue.waiting(name):
                with self._lock:
                    self._sent.remove((name, what))
        with self._lock:
            self._told += told
            ended = self._state is not None and self._state.ended is not None
            self.controlled = ended or is_open(self.sandbox.folder)

    def view(self) -> ExerciseView:
        """The status folded from the journal as last read."""
        with self._lock:
            assert self._state is not None
            status = status_of(self.scenario, self._state)
            return ExerciseView(status, self._records, self.who, self.role, controls=False, controlled=self.controlled)

    def do(self, command: Command) -> str:
        """Send the command to the controller (its record shows up once it is done)."""
        with self._lock:
            if self._state is not None and self._state.ended:
                raise InputError(ENDED)
        what = command.op.replace("_", " ")
        name = self.queue.send(command)
        with self._lock:
            self._sent.append((name, what))
        return f"{what}: sent to the controlling console"

    def messages(self) -> list[str]:
        """The controller's refusals of this console's commands, since the last call."""
        with self._lock:
            told, self._told = self._told, []
        return told

    def take_over(self) -> ControllerSession:
        """Become the controller of an exercise whose controller is gone (CaseLocked: it is not)."""
        if self._take_over is None:
            raise InputError("this console cannot take the exercise over")
        made = self._take_over()
        made.role = self.role  # the cards for this person's role still stand out
        return made

    def close(self) -> None:
        """Nothing held: a joined console only reads and sends."""


def joined_role(scenario: Scenario, who: str, role: str | None) -> str:
    """The role of someone joining: as given (a scenario role, facilitator or observer), else their
    name when it is a scenario role, else `participant`."""
    roles = {r.id for r in scenario.roles}
    if role is None:
        return who if who in roles else "participant"
    if role not in roles | {FACILITATOR, "observer", "participant"}:
        known = ", ".join(sorted(roles | {FACILITATOR, "observer", "participant"}))
        raise InputError(f"--role {role!r}: not a role of {scenario.id} (one of: {known})")
    return role
