"""The decision form: re-enable, keep disabled or decommission, with the criteria checklist.

The case is verified once, in a thread worker, when the form opens (hashing every evidence file
may take minutes on a large image); keystrokes recompute only the criteria the journal answers.
The form scrolls, so at 80×24 Tab and the scroll keys reach the criteria and the button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, RadioButton, RadioSet, Static

from ir.core.case import CaseState, load_state
from ir.core.decision import CRITERIA, Decision, decide, journal_criteria, sealed, step_actions
from ir.core.errors import IrError
from ir.core.text import neutralise
from ir.core.verify import CaseReport, verify_case
from ir.tui.widgets.case_header import CaseHeader

CHECKING = {"met": False, "detail": "checking the journal and every evidence file…"}


class DecisionScreen(Screen[None]):
    """Record who decided what, why, approved by whom; the engine enforces a reenable decision."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "back", "Back")]

    class Recorded(Message):
        """The decision was recorded, or refused."""

        def __init__(self, record: Any, error: str | None) -> None:
            super().__init__()
            self.record = record
            self.error = error

    class Verified(Message):
        """The case was verified (once, when the form opened)."""

        def __init__(self, report: CaseReport) -> None:
            super().__init__()
            self.report = report

    def __init__(self, case_dir: Path) -> None:
        super().__init__()
        self.case_dir = case_dir
        self.state: CaseState | None = None
        self.actions: dict[str, str] = {}
        self.report: CaseReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield CaseHeader(self.case_dir)
        with VerticalScroll(id="decision-form"):
            yield Static(Text(f"Decision for case {self.case_dir.name}", style="bold"))
            with RadioSet(id="decision"):
                yield RadioButton("keep disabled", value=True, name=str(Decision.KEEP_DISABLED))
                yield RadioButton("re-enable", name=str(Decision.REENABLE))
                yield RadioButton("decommission", name=str(Decision.DECOMMISSION))
            yield Input(placeholder="decided by", id="by", value=str(self.app.actor))  # type: ignore[attr-defined]
            yield Input(placeholder="second approver (if the workspace requires one)", id="approver")
            yield Input(placeholder="reason", id="reason")
            yield Input(placeholder="root cause", id="root-cause")
            yield Checkbox("accept the open follow-ups as open", id="accept")
            yield Static(id="criteria")
            yield Button("Record decision", id="record", variant="primary")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        for field, label in (("by", "decided by"), ("approver", "approved by"), ("reason", "reason")):
            self.query_one(f"#{field}", Input).border_title = label
        self.query_one("#root-cause", Input).border_title = "root cause"
        self.query_one("#criteria", Static).border_title = "re-enable criteria"
        self.query_one("#decision", RadioSet).border_title = "decision"
        try:
            self.state, self.actions = load_state(self.case_dir), step_actions(self.case_dir)
        except IrError as exc:
            self.notify(str(exc), severity="error", timeout=15)
        self._show_criteria()
        self._verify()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _verify(self) -> None:
        """Hash the journal and every evidence file, off the UI thread."""
        report = verify_case(self.case_dir)
        self.app.call_from_thread(self.post_message, DecisionScreen.Verified(report))

    @on(Verified)
    def _verified(self, message: Verified) -> None:
        self.report = message.report
        self._show_criteria()

    @on(Input.Changed, "#root-cause")
    @on(Checkbox.Changed)
    def _show_criteria(self) -> None:
        """The checklist: the journal's criteria (cheap) and the one verify already made."""
        if self.state is None:
            return
        criteria = journal_criteria(
            self.state,
            self.actions,
            root_cause=self.query_one("#root-cause", Input).value or None,
            accept_follow_ups=self.query_one("#accept", Checkbox).value,
        )
        criteria["evidence_sealed"] = sealed(self.report) if self.report else CHECKING
        lines = [f"[{'x' if criteria[n]['met'] else ' '}] {n}: {criteria[n]['detail']}" for n in CRITERIA]
        self.query_one("#criteria", Static).update(Text(neutralise("\n".join(lines), keep_newlines=True)))

    @on(Button.Pressed, "#record")
    def _record(self) -> None:
        pressed = self.query_one(RadioSet).pressed_button
        choice = Decision(pressed.name if pressed and pressed.name else Decision.KEEP_DISABLED)
        values = {
            name: self.query_one(f"#{name}", Input).value.strip() for name in ("by", "approver", "reason", "root-cause")
        }
        self._decide(choice, values, self.query_one("#accept", Checkbox).value)

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def _decide(self, choice: Decision, values: dict[str, str], accept: bool) -> None:
        from ir.core.signing_trust import workspace_trust

        settings = self.app.workspace.settings  # type: ignore[attr-defined]
        try:
            record = decide(
                self.case_dir,
                decision=choice,
                by=values["by"],
                reason=values["reason"],
                approve_as=values["approver"] or None,
                second_approver=settings.decisions.second_approver,
                trust=workspace_trust(self.app.workspace),  # type: ignore[attr-defined]
                root_cause=values["root-cause"] or None,
                accept_follow_ups=accept,
            )
        except IrError as exc:
            self.app.call_from_thread(self.post_message, DecisionScreen.Recorded(None, str(exc)))
            return
        self.app.call_from_thread(self.post_message, DecisionScreen.Recorded(record, None))

    @on(Recorded)
    def _recorded(self, message: Recorded) -> None:
        status = self.query_one("#status", Static)
        if message.error:
            status.update(Text(neutralise(message.error)))
            self.notify(neutralise(message.error), severity="error", timeout=15)
            return
        self.state = load_state(self.case_dir)  # the decision (and its root cause) is in the journal now
        self.query_one(CaseHeader).refresh_case()
        data = message.record.data
        signers = ", ".join(s["principal"] for s in data.get("signatures", []))
        text = f"decision {data['decision']} recorded (journal seq {message.record.seq}), signed by {signers}"
        status.update(Text(text))
        self.notify(text)

    def action_back(self) -> None:
        """Back to the case."""
        self.app.pop_screen()
