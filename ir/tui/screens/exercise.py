"""The exercise screen: the exercise panel and the facilitator's keys.

Pause or resume the clock, advance it (a duration is asked for), fire the next inject now, mark a
manual expectation passed or failed with a note, note, end the exercise (after a confirm) — and,
on a console that joined, take the exercise over once the console driving it is gone. Each key
becomes a facilitator command the session carries out (the controller) or sends (a joined
console), in a thread worker; what it did shows up in the exercise journal below the panel. The
app ticks the clock and scores; this screen only shows what the app hands it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header

from ir.core.errors import IrError
from ir.core.text import neutralise
from ir.tabletop.command_queue import Command
from ir.tabletop.scenario import seconds
from ir.tabletop.sessions import ExerciseView
from ir.tui.exercise_score import Score
from ir.tui.forms import form_open
from ir.tui.widgets.exercise_panel import ExercisePanel

FACILITATOR_KEYS = frozenset({"toggle_clock", "advance", "fire_next", "mark", "note", "end_exercise"})
"""Keys that act on the exercise: none inside a form or a modal, none once it ended or while no
console drives the clock."""


class ExerciseScreen(Screen[None]):
    """The exercise: clock, injects and cards, expectations, journal; the facilitator's keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_clock", "Pause/resume"),
        Binding("t", "advance", "Advance"),
        Binding("f", "fire_next", "Fire inject"),
        Binding("m", "mark", "Mark"),
        Binding("n", "note", "Note"),
        Binding("E", "end_exercise", "End"),
        Binding("C", "take_over", "Take over"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExercisePanel(self.app.session.scenario)  # type: ignore[attr-defined]
        yield Footer()

    def on_mount(self) -> None:
        app: Any = self.app
        if app.view is not None:
            self.show(app.view)
        if app.score is not None:
            self.show_score(app.score)

    def show(self, view: ExerciseView) -> None:
        """Draw a new view; the footer follows when what the keys can do changed."""
        panel = self.query_one(ExercisePanel)
        before = panel.view
        panel.show(view)
        if before is None or _keys_state(before) != _keys_state(view):
            self.refresh_bindings()

    def show_score(self, score: Score) -> None:
        """Draw a new score."""
        self.query_one(ExercisePanel).show_score(score)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Facilitator keys only when they can do something (house rule: never inside a form)."""
        view: ExerciseView | None = getattr(self.app, "view", None)
        if action == "take_over":
            return view is not None and not view.controls and not view.controlled and not view.status.ended
        if action not in FACILITATOR_KEYS:
            return True
        if view is None or view.status.ended or not view.controlled or form_open(self.app.screen, self.app.focused):
            return False
        if action == "fire_next":
            return any(i.state == "pending" for i in view.status.injects)
        if action == "mark":
            return bool(self._manual())
        return True

    # -- the keys ------------------------------------------------------------------------------
    def action_toggle_clock(self) -> None:
        """Pause the exercise clock, or resume it when paused (pauses do not count in any time)."""
        view = self.app.view  # type: ignore[attr-defined]
        self.send("resume" if view is not None and view.status.paused else "pause")

    def action_advance(self) -> None:
        """Move exercise time forward by a duration you type (what is then due is delivered)."""
        from ir.tui.screens.prompt import TextPrompt

        def answered(text: str | None) -> None:
            if not text:
                return
            try:
                amount = seconds(text)
            except ValueError as exc:
                self.notify(neutralise(str(exc)), severity="error", markup=False)
                return
            self.send("advance", seconds=float(amount))

        self.app.push_screen(TextPrompt("Advance the exercise clock by:", "e.g. 30s, 2m, 1m30s"), answered)

    def action_fire_next(self) -> None:
        """Deliver the next pending inject now, whatever its time."""
        self.send("fire_next")

    def action_mark(self) -> None:
        """Mark a manual expectation passed or failed, with a note saying what you saw."""
        from ir.tui.screens.prompt import ChoicePrompt, TextPrompt

        def verdict(expectation: str | None) -> None:
            if expectation:
                choices = [("passed", "passed"), ("failed", "failed")]
                self.app.push_screen(ChoicePrompt(f"{expectation}:", choices), lambda v: noted(expectation, v))

        def noted(expectation: str, passed: str | None) -> None:
            if passed:
                prompt = TextPrompt(f"{expectation} {passed}: what did you see?", "the note kept with the mark")
                self.app.push_screen(prompt, lambda text: marked(expectation, passed == "passed", text))

        def marked(expectation: str, passed: bool, text: str | None) -> None:
            if text:
                self.send("mark", expectation=expectation, passed=passed, text=text)

        choices = [(e.id, neutralise(f"{e.id} {e.title} — {e.manual}")) for e in self._manual()]
        self.app.push_screen(ChoicePrompt("Mark which expectation?", choices), verdict)

    def action_note(self) -> None:
        """Write a note into the exercise journal (signed, like a mark)."""
        from ir.tui.screens.prompt import TextPrompt

        def answered(text: str | None) -> None:
            if text:
                self.send("note", text=text)

        self.app.push_screen(TextPrompt("Note for the exercise journal:", "what happened, what was said"), answered)

    def action_end_exercise(self) -> None:
        """End the exercise (asks first): no inject comes after it, the clock stops."""
        from ir.tui.screens.exercise_confirm import EndConfirm

        def answered(end: bool | None) -> None:
            if end:
                self.send("end")

        self.app.push_screen(EndConfirm(), answered)

    def action_take_over(self) -> None:
        """Drive the clock from this console: the console that did is gone."""
        self.app.take_over()  # type: ignore[attr-defined]

    # -- helpers -------------------------------------------------------------------------------
    def _manual(self) -> list[Any]:
        return [e for e in self.app.session.scenario.expectations if e.manual is not None]  # type: ignore[attr-defined]

    def send(self, op: str, **fields: Any) -> None:
        """Carry out (or send) one facilitator command in a thread worker; say what came of it."""
        app: Any = self.app
        command = Command.model_validate({"op": op, "by": app.session.who, **fields})
        run: Callable[[], str] = lambda: app.session.do(command)  # noqa: E731 (read once, in the worker)

        def work() -> None:
            try:
                said = run()
            except IrError as exc:
                app.call_from_thread(app.notify, neutralise(str(exc)), severity="error", markup=False)
                return
            app.call_from_thread(app.notify, neutralise(said), markup=False)
            app.publish_view()

        self.run_worker(work, thread=True, group="exercise-keys", exit_on_error=False)


def _keys_state(view: ExerciseView) -> tuple[object, ...]:
    """What the facilitator keys depend on."""
    pending = any(i.state == "pending" for i in view.status.injects)
    return (view.status.paused, view.status.ended, view.controls, view.controlled, pending)
