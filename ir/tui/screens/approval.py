"""The approval modal: the exact action and arguments a person is about to approve, and its plan,
made again when the modal opens for the arguments the engine resolved (not the plan made when
the run screen opened). Enter approves nothing by itself; an irreversible gate starts on Decline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from ir.core.records import ApprovalWaiting
from ir.core.text import neutralise


@dataclass(frozen=True)
class Verdict:
    """What the approver said: approve, or decline with a reason."""

    approve: bool
    reason: str = ""


class ApprovalModal(ModalScreen[Verdict | None]):
    """Approve or decline one gated step; dismisses with a Verdict, or None when closed undecided."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("y", "approve", "Approve"),
        ("n", "decline", "Decline (with a reason)"),
        ("escape", "close", "Close, undecided"),
    ]

    def __init__(
        self, waiting: ApprovalWaiting, *, irreversible: bool = False, replan: Callable[[], str] | None = None
    ) -> None:
        super().__init__()
        self.waiting = waiting
        self.irreversible = irreversible
        self.replan = replan

    def compose(self) -> ComposeResult:
        args = json.dumps(self.waiting.args or {}, indent=2, sort_keys=True)
        approvers = ", ".join(self.waiting.approvers) or "anyone"
        with Vertical(id="approval"):
            with VerticalScroll(id="approval-body", can_focus=True):
                yield Static(Text(f"Approve step {self.waiting.step}?", style="bold"))
                if self.irreversible:
                    yield Static(Text("irreversible: what it changes cannot be put back", style="bold red"))
                yield Static(Text(neutralise(f"action: {self.waiting.action}")))
                yield Static(Text(neutralise(f"arguments:\n{args}", keep_newlines=True)))
                yield Static(Text("plan: planning for these arguments…"), id="approval-plan")
                yield Static(Text(f"who may approve: {approvers}"))
            with Horizontal(id="approval-buttons"):
                yield Button("Approve (y)", id="yes", variant="warning")
                yield Button("Decline (n)", id="no")
        yield Footer()

    def on_mount(self) -> None:
        # Enter presses the focused button: an irreversible gate starts on Decline, any other on
        # the text, where Enter does nothing; approving always takes `y` or a deliberate Tab.
        target = "#no" if self.irreversible else "#approval-body"
        self.query_one(target).focus()
        if self.replan is not None:
            self._plan(self.replan)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _plan(self, replan: Callable[[], str]) -> None:
        text = replan()
        self.app.call_from_thread(self._show_plan, text)

    def _show_plan(self, text: str) -> None:
        if not self.is_attached:  # closed before the plan came back
            return
        self.query_one("#approval-plan", Static).update(Text(neutralise(text, keep_newlines=True)))

    @on(Button.Pressed, "#yes")
    def action_approve(self) -> None:
        """Approve: the case resumes with this step approved."""
        self.dismiss(Verdict(approve=True))

    @on(Button.Pressed, "#no")
    def action_decline(self) -> None:
        """Decline, with a reason the journal keeps: the step keeps waiting."""
        from ir.tui.screens.prompt import TextPrompt

        def answered(reason: str | None) -> None:
            if reason:
                self.dismiss(Verdict(approve=False, reason=reason))

        question = f"Decline step {self.waiting.step}: why?"
        self.app.push_screen(TextPrompt(question, "the reason goes into the journal"), answered)

    def action_close(self) -> None:
        """Close without deciding: nothing is recorded, the step keeps waiting."""
        self.dismiss(None)

    def withdraw(self, why: str) -> None:
        """Someone else settled this step meanwhile: close, say why, approve nothing."""
        self.notify(why, severity="warning", timeout=10)
        while self.app.screen is not self:  # a decline's reason prompt above it goes too
            self.app.pop_screen()
        self.dismiss(None)
