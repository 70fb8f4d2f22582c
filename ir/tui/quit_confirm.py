"""Quitting while a run is in progress: ask first, and say which case is left to resume."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


def resume_hint(case: str) -> str:
    """The line that tells a person how to pick a case up again."""
    return f"case {case} is left interrupted: resume it with `ir resume {case}`"


class QuitConfirm(ModalScreen[bool]):
    """A run is live: quit anyway (True) or stay (False); staying is the default."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("y", "quit_anyway", "Quit anyway"),
        ("n", "stay", "Stay"),
        ("escape", "stay", "Stay"),
    ]

    def __init__(self, case: str) -> None:
        super().__init__()
        self.case = case

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt", id="quit-confirm"):
            yield Static(Text("A run is in progress. Quit anyway?", style="bold"))
            yield Static(Text(f"The step running now stops where it is; {resume_hint(self.case)}."))
            with Horizontal(id="quit-buttons"):
                yield Button("Stay (n)", id="stay", variant="primary")
                yield Button("Quit (y)", id="quit", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stay").focus()

    @on(Button.Pressed, "#quit")
    def action_quit_anyway(self) -> None:
        """Quit; the case is left for `ir resume`."""
        self.dismiss(True)

    @on(Button.Pressed, "#stay")
    def action_stay(self) -> None:
        """Back to the run."""
        self.dismiss(False)
