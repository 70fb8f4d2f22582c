"""`?` help: the keys of the screen it was opened on, one line each, generated from their BINDINGS.

Each line shows the key, the binding's description, what its action does (the action method's
docstring) and whether it does anything now (`check_action`), so the help cannot drift from the
keys; Ctrl+P (every command, by name) is named at the end.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

HelpLine = tuple[str, str, str, bool]
"""(key as shown, description, what the action does, whether it does anything now)."""


def help_lines(screen: Screen[object]) -> list[HelpLine]:
    """The screen's keys, then the app's, each once: from BINDINGS along the class hierarchy."""
    lines: list[HelpLine] = []
    seen: set[str] = set()
    for node in (screen, screen.app):
        for cls in type(node).__mro__:
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                name = f"{binding.key}:{binding.action}"
                if name in seen or not binding.description:
                    continue
                seen.add(name)
                now = node.check_action(binding.action, ()) is not False if isinstance(node, DOMNode) else True
                lines.append((screen.app.get_key_display(binding), binding.description, _doc(node, binding), now))
    return lines


def _doc(node: object, binding: Binding) -> str:
    """The first line of the action method's docstring (what the key does, in a sentence)."""
    method = getattr(node, f"action_{binding.action.split('(')[0]}", None)
    doc = (getattr(method, "__doc__", None) or "").strip().splitlines()
    return doc[0] if doc else ""


class HelpScreen(ModalScreen[None]):
    """The keys of one screen, one line each; Escape or `?` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help-box { width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    HelpScreen .help-line { text-wrap: nowrap; text-overflow: ellipsis; }
    """  # a screen every other screen opens: it carries its own layout, like a reusable widget

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.lines = help_lines(screen)
        about = (type(screen).__doc__ or type(screen).__name__).strip().splitlines()[0]
        self.title_text = f"Keys — {about}"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="prompt"):
            yield Static(Text(self.title_text, style="bold"), id="help-title")
            for key, description, doc, now in self.lines:
                line = Text(f"{key:>8}  ", style="bold" if now else "dim")
                line.append(f"{description:<16} ", style="" if now else "dim")
                line.append(("" if now else "(not now) ") + doc, style="" if now else "dim")
                yield Static(line, classes="help-line")
            yield Static(Text("  ctrl+p  Commands: every screen and action, by name (open case, verify, report…)"))
