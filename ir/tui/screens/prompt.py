"""Small modals: ask for one line of text (a reason, a note), pick one of a list, or say why not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option


class TextPrompt(ModalScreen[str | None]):
    """One line of text; Enter submits (empty is refused), Escape cancels with None."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self, question: str, placeholder: str = "") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text(self.question, style="bold"))
            yield Input(placeholder=self.placeholder, id="answer")
            yield Static(Text("Enter to confirm · Escape to cancel"), classes="hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.notify("this needs some text", severity="warning")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)


class ChoicePrompt(ModalScreen[str | None]):
    """Pick one of `choices` (id, label); Enter picks, Escape cancels with None."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", "Cancel")]

    def __init__(self, question: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Static(Text(self.question, style="bold"))
            yield OptionList(*(Option(Text(label), id=key) for key, label in self.choices), id="choices")

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        choices.highlighted = 0 if self.choices else None
        choices.focus()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without a choice."""
        self.dismiss(None)


class Notice(ModalScreen[None]):
    """A reason that must be read (a refusal): stays until Enter or Escape, unlike a toast."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "close", "Close"), ("enter", "close", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt notice"):
            yield Static(Text(self.title_text, style="bold"))
            yield Static(Text(self.text), id="notice-text")
            yield Static(Text("Enter or Escape to close"), classes="hint")

    def action_close(self) -> None:
        """Close the notice."""
        self.dismiss(None)
