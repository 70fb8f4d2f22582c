"""The exercise panel: the clock and the next inject's countdown, the injects with their cards, the
objectives and expectations turning pass/fail, the exercise journal's latest lines.

Attributes down: the screen holding it calls `show(view)` on every refresh and `show_score(score)`
when a new score is in; the panel only draws (`ir/tui/exercise_lines.py`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from ir.tabletop.scenario import Scenario
from ir.tabletop.sessions import ExerciseView
from ir.tui.exercise_lines import clock_lines, expectation_lines, inject_lines, journal_lines
from ir.tui.exercise_score import Score


class ExercisePanel(Vertical):
    """Everything a facilitator follows during an exercise, on one screen."""

    DEFAULT_CSS = """
    ExercisePanel { height: 1fr; }
    ExercisePanel #exercise-clock { height: auto; border: round $primary; padding: 0 1; }
    ExercisePanel #exercise-body { height: 1fr; }
    ExercisePanel #exercise-injects-box { width: 1fr; border: round $secondary; padding: 0 1; }
    ExercisePanel #exercise-expectations-box { width: 1fr; border: round $secondary; padding: 0 1; }
    ExercisePanel #exercise-journal { height: auto; max-height: 10; border: round $secondary; padding: 0 1; }
    """

    def __init__(self, scenario: Scenario, *, id: str | None = "exercise-panel") -> None:
        super().__init__(id=id)
        self.scenario = scenario
        self.view: ExerciseView | None = None
        self.score: Score | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="exercise-clock")
        with Horizontal(id="exercise-body"):
            with VerticalScroll(id="exercise-injects-box"):
                yield Static(id="exercise-injects")
            with VerticalScroll(id="exercise-expectations-box"):
                yield Static(id="exercise-expectations")
        yield Static(id="exercise-journal")

    def on_mount(self) -> None:
        self.query_one("#exercise-clock").border_title = "Exercise"
        self.query_one("#exercise-injects-box").border_title = "Injects"
        self.query_one("#exercise-expectations-box").border_title = "Objectives and expectations"
        self.query_one("#exercise-journal").border_title = "Exercise journal"

    def show(self, view: ExerciseView) -> None:
        """Draw the clock, the injects and the journal as `view` has them."""
        self.view = view
        self.query_one("#exercise-clock", Static).update(clock_lines(view, self.score))
        self.query_one("#exercise-injects", Static).update(inject_lines(view, self.scenario))
        self.query_one("#exercise-journal", Static).update(journal_lines(view))

    def show_score(self, score: Score) -> None:
        """Draw a new score: the expectations, and the times on the clock line."""
        self.score = score
        self.query_one("#exercise-expectations", Static).update(expectation_lines(self.scenario, score))
        if self.view is not None:
            self.query_one("#exercise-clock", Static).update(clock_lines(self.view, score))

    def text(self) -> str:
        """Everything the panel shows, as plain text (what a person reads; the tests read it too)."""
        return "\n".join(str(_plain(w.render())) for w in self.query(Static))


def _plain(renderable: object) -> str:
    return renderable.plain if isinstance(renderable, Text) else str(renderable)
