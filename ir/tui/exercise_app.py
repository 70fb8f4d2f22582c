"""The console on an exercise: the usual screens in the exercise's sandbox workspace, plus the
exercise screen (`X` from anywhere), the exercise banner on every screen, the clock ticking.

A Textual timer ticks the session (`TICK_SECONDS`) in a thread worker — the controller delivers
what is due and serves other consoles' commands; a joined console reads the journal — and hands
the new view to the exercise screen when it is up. The score is taken in a thread worker too, at
most every `SCORE_EVERY` seconds and only when what it reads changed (or time may have run
past a deadline). The app owns the session, the last view and the last score; screens show them.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from ir.core.errors import IrError
from ir.core.text import neutralise
from ir.core.workspace import Workspace
from ir.tabletop.command_queue import Command
from ir.tabletop.sessions import ControllerSession, ExerciseView, Session
from ir.tui.app import IrApp
from ir.tui.exercise_score import SCORE_EVERY, Score, inputs_stamp, score

TICK_SECONDS = 0.5
"""How often the clock is ticked (and a joined console looks at the journal)."""
RESCORE_SECONDS = 10.0
"""Score again at least this often while the exercise runs: a deadline passes without a write."""


class ExerciseCommands(Provider):
    """Ctrl+P: the exercise screen, found by name."""

    async def discover(self) -> Hits:
        """The exercise screen, before anything is typed."""
        app: Any = self.app
        yield DiscoveryHit("Show exercise", app.action_show_exercise, help="the exercise panel and facilitator keys")

    async def search(self, query: str) -> Hits:
        """The exercise screen, when what was typed matches."""
        app: Any = self.app
        matcher = self.matcher(query)
        found = matcher.match("Show exercise")
        if found > 0:
            yield Hit(found, matcher.highlight("Show exercise"), app.action_show_exercise, text="Show exercise")


class ExerciseApp(IrApp):
    """agent-ir's console on an exercise (see the module docstring)."""

    COMMANDS = IrApp.COMMANDS | {ExerciseCommands}
    BINDINGS: ClassVar[list[BindingType]] = [Binding("X", "show_exercise", "Exercise")]
    FORM_SAFE = IrApp.FORM_SAFE | {"show_exercise"}

    def __init__(self, workspace: Workspace, session: Session, backends: Any = None, actor: str = "responder") -> None:
        super().__init__(workspace, backends=backends, actor=actor)
        self.session = session
        self.view: ExerciseView | None = None
        self.score: Score | None = None
        self._ticking = threading.Lock()
        self._scoring = threading.Lock()
        self._scored: tuple[object, float] = (None, 0.0)

    def first_screen(self) -> Screen[None]:
        """The exercise screen."""
        from ir.tui.screens.exercise import ExerciseScreen

        return ExerciseScreen()

    def on_mount(self) -> None:
        """Open on the exercise screen and start the clock's timer and the scorer's."""
        self.view = self.session.view()
        super().on_mount()
        self.set_interval(TICK_SECONDS, self.tick)
        self.set_interval(SCORE_EVERY, self.rescore)
        self.rescore()

    # -- the timers ------------------------------------------------------------------------------
    def tick(self) -> None:
        """Tick the session in a thread worker (skipped while the last tick is still running)."""
        self.run_worker(self._tick, thread=True, group="exercise-tick", exit_on_error=False)

    def _tick(self) -> None:
        if not self._ticking.acquire(blocking=False):
            return
        try:
            self.session.tick()
            told = self.session.messages()
        except IrError as exc:
            told = [str(exc)]
        finally:
            self._ticking.release()
        for line in told:
            self.call_from_thread(self.notify, neutralise(line), severity="error", timeout=15, markup=False)
        self.publish_view()

    def publish_view(self) -> None:
        """From a worker thread: take the session's view and show it on the exercise screen."""
        self.call_from_thread(self._show, self.session.view())

    def _show(self, view: ExerciseView) -> None:
        from ir.tui.screens.exercise import ExerciseScreen

        self.view = view
        for screen in self.screen_stack:
            if isinstance(screen, ExerciseScreen):
                screen.show(view)

    def rescore(self, force: bool = False) -> None:
        """Score in a thread worker when what it reads changed (or a while has passed)."""
        self.run_worker(lambda: self._score(force), thread=True, group="exercise-score", exit_on_error=False)

    def _score(self, force: bool) -> None:
        if not self._scoring.acquire(blocking=False):
            return
        try:
            sandbox = self.session.sandbox
            stamp = inputs_stamp(sandbox.folder, sandbox.workspace_root)
            last, when = self._scored
            running = self.view is not None and not self.view.status.ended
            stale = running and time.monotonic() - when >= RESCORE_SECONDS
            if not force and stamp == last and not stale:
                return
            try:
                new = score(sandbox.folder, self.session.scenario)
            except IrError as exc:  # a journal being written or damaged: say so, try again later
                self.call_from_thread(self.notify, neutralise(f"scoring: {exc}"), severity="warning", markup=False)
                return
            self._scored = (stamp, time.monotonic())
            self.call_from_thread(self._show_score, new)
        finally:
            self._scoring.release()

    def _show_score(self, new: Score) -> None:
        from ir.tui.screens.exercise import ExerciseScreen

        self.score = new
        for screen in self.screen_stack:
            if isinstance(screen, ExerciseScreen):
                screen.show_score(new)

    # -- actions ---------------------------------------------------------------------------------
    def action_show_exercise(self) -> None:
        """Go to the exercise screen: clock, injects, expectations, the facilitator's keys."""
        from ir.tui.screens.exercise import ExerciseScreen

        if not isinstance(self.screen, ExerciseScreen):
            self.switch_screen(ExerciseScreen())

    def take_over(self) -> None:
        """Make this console the controller (in a thread worker: it opens the journal and the world)."""
        old = self.session

        def work() -> None:
            try:
                new = old.take_over()  # type: ignore[attr-defined]
            except IrError as exc:
                self.call_from_thread(self.notify, neutralise(str(exc)), severity="error", markup=False)
                return
            self.session = new
            self.call_from_thread(self.notify, "this console drives the exercise clock now", markup=False)
            self.publish_view()

        self.run_worker(work, thread=True, group="exercise-keys", exit_on_error=False)

    async def action_quit(self) -> None:
        """Quit; the console driving a running exercise asks first whether to end it or leave it open."""
        from ir.tui.screens.exercise_confirm import QuitExercise

        session = self.session
        if not isinstance(session, ControllerSession) or session.exercise.ended:
            await super().action_quit()
            return

        async def answered(choice: str | None) -> None:
            if choice == "end":
                try:
                    session.do(Command(op="end", by=session.who))
                except IrError as exc:
                    self.notify(neutralise(str(exc)), severity="error", markup=False)
                    return
            if choice:
                await IrApp.action_quit(self)

        if not isinstance(self.screen, QuitExercise):
            self.push_screen(QuitExercise(session.sandbox.id), answered)
