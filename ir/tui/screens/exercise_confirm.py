"""Two questions an exercise console asks before something that cannot be taken back: end the
exercise, and quit the console that drives its clock."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class EndConfirm(ModalScreen[bool]):
    """End the exercise now (True) or not (False, the default)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("y", "end", "End it"),
        ("n", "keep", "Keep going"),
        ("escape", "keep", "Keep going"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="end-confirm"):
            yield Static(Text("End the exercise now?", style="bold"))
            yield Static(
                Text(
                    "It is recorded as ended by the facilitator: no inject comes after it, the clock stops, and "
                    "every expectation still open is scored as it stands (`ir tabletop report`)."
                )
            )
            with Horizontal(classes="confirm-buttons"):
                yield Button("Keep going (n)", id="keep", variant="primary")
                yield Button("End it (y)", id="end", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#keep").focus()

    @on(Button.Pressed, "#end")
    def action_end(self) -> None:
        """End the exercise."""
        self.dismiss(True)

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        """Back to the exercise, still running."""
        self.dismiss(False)


class QuitExercise(ModalScreen[str | None]):
    """Quitting the console that drives the clock: `end` it, `leave` it for another console to take
    over, or stay (None, the default)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("e", "end", "End and quit"),
        ("l", "leave", "Leave it running"),
        ("n", "stay", "Stay"),
        ("escape", "stay", "Stay"),
    ]

    def __init__(self, exercise_id: str) -> None:
        super().__init__()
        self.exercise_id = exercise_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="quit-exercise"):
            yield Static(Text("This console drives the exercise clock. Quit?", style="bold"))
            yield Static(
                Text(
                    "End it now (e), or leave it open (l): its clock stops delivering injects until a console "
                    f"takes it over with `ir tabletop join {self.exercise_id}`."
                )
            )
            with Horizontal(classes="confirm-buttons"):
                yield Button("Stay (n)", id="stay", variant="primary")
                yield Button("Leave it open (l)", id="leave", variant="warning")
                yield Button("End and quit (e)", id="end", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stay").focus()

    @on(Button.Pressed, "#end")
    def action_end(self) -> None:
        """End the exercise, then quit."""
        self.dismiss("end")

    @on(Button.Pressed, "#leave")
    def action_leave(self) -> None:
        """Quit and leave the exercise open for `ir tabletop join` to take over."""
        self.dismiss("leave")

    @on(Button.Pressed, "#stay")
    def action_stay(self) -> None:
        """Back to the console."""
        self.dismiss(None)
