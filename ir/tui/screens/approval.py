"""The approval modal: the exact action and arguments a person is about to approve, and its dry-run plan."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ir.core.records import ApprovalWaiting
from ir.core.text import neutralise


class ApprovalModal(ModalScreen[bool]):
    """Approve or decline one gated step; dismisses with True when approved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("y", "approve", "Approve"),
        ("n", "decline", "Decline"),
        ("escape", "decline", "Decline"),
    ]

    def __init__(self, waiting: ApprovalWaiting, plan: str | None = None) -> None:
        super().__init__()
        self.waiting = waiting
        self.plan = plan

    def compose(self) -> ComposeResult:
        args = json.dumps(self.waiting.args or {}, indent=2, sort_keys=True)
        approvers = ", ".join(self.waiting.approvers) or "anyone"
        with Vertical(id="approval"):
            yield Static(Text(f"Approve step {self.waiting.step}?", style="bold"))
            yield Static(Text(neutralise(f"action: {self.waiting.action}")))
            yield Static(Text(neutralise(f"arguments:\n{args}", keep_newlines=True)))
            if self.plan:
                yield Static(Text(neutralise(self.plan, keep_newlines=True)))
            yield Static(Text(f"who may approve: {approvers}"))
            with Horizontal(id="approval-buttons"):
                yield Button("Approve (y)", id="yes", variant="warning")
                yield Button("Decline (n)", id="no")

    @on(Button.Pressed, "#yes")
    def action_approve(self) -> None:
        """Approve: the case resumes with this step approved."""
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_decline(self) -> None:
        """Decline: the case keeps waiting."""
        self.dismiss(False)
