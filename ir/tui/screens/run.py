"""The run screen: a playbook's steps with their status, the selected step's guidance and plan,
live output, and the keys a responder needs: run, approve, skip with a reason, retry, note, abort.

The engine (and the dry run) run in thread workers and report through messages; the screen
changes only in their handlers. The case journal is the truth: the screen re-reads it through
the reader when its own run ends and whenever another process writes to it (a timer looks at the
file), so another responder's approval, skip or note shows up here. Keys act on the step the
status line names; the cursor follows the step running or waiting. Text from the agent's world
is plain text, never markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, ListView, Static

from ir.core.case import RunStatus, pinned_playbook
from ir.core.errors import IrError
from ir.core.playbook import find_playbook
from ir.core.records import ApprovalWaiting, RunStarted, StepStarted, parse
from ir.core.summary_text import summary_lines
from ir.tui.run_lines import ENDED, STOPPED, status_line
from ir.tui.run_workers import EngineEvent, Finished, Planned
from ir.tui.screens.output_search import OutputSearch
from ir.tui.screens.run_keys import RunKeys
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.run_log import RunLog
from ir.tui.widgets.step_detail import StepDetail
from ir.tui.widgets.steps import StepList

SKIPPABLE = ("pending", "awaiting_approval", "failed", "errored")


class RunScreen(RunKeys, OutputSearch):
    """One case: plan it, start it, watch it, approve or skip its steps, note, abort, resume it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run / resume"),
        Binding("r", "retry", "Retry"),
        Binding("y", "approve", "Approve"),
        Binding("s", "skip", "Skip step"),
        Binding("n", "note", "Note"),
        Binding("x", "abort", "Abort run"),
        Binding("p", "plan", "Plan"),
        Binding("e", "evidence", "Evidence"),
        Binding("t", "timeline", "Timeline"),
        Binding("d", "decide", "Decision"),
        Binding("R", "reenable", "Re-enable"),
        Binding("escape", "back", "Back"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="case-glance"):  # the case at a glance
            yield CaseHeader(self.case_dir)
        with Horizontal(id="run-body"):
            yield StepList(id="steps")
            with Vertical(id="detail"):
                yield StepDetail(id="step-detail")
                yield RunLog(id="output")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        workspace = self.app.workspace  # type: ignore[attr-defined]
        try:
            if self.case_dir is not None:
                self.loaded = pinned_playbook(self.case_dir)
                self.reload()
            else:
                self.loaded = find_playbook(workspace.playbooks_dir, str(self.playbook_ref))
                self.statuses = {s.id: "pending" for s in self.loaded.playbook.steps}
        except IrError as exc:
            self.notify(str(exc), severity="error")
            return
        self._refresh_steps()
        self.follow()
        self._set_status()
        self.set_interval(self.POLL_SECONDS, self.poll)
        if self.finished not in ENDED:
            self.action_plan()  # before anything (more) runs, show what each step would change

    # -- display ----------------------------------------------------------------------------------

    @on(ListView.Highlighted)
    def _highlighted(self, _event: ListView.Highlighted) -> None:
        self._show_detail()
        self.refresh_bindings()

    def _set_status(self) -> None:
        text = status_line(
            read_only=self.read_only,
            running=self.running,
            waiting=self.waiting,
            finished=self.finished,
            case=self.case_dir.name if self.case_dir else None,
            idle=f"press r to start {self.playbook_ref} for {self.agent_id}",
            step=self.current or self.named_step,
        )
        self.query_one("#status", Static).update(Text(text))
        self.refresh_bindings()

    # -- messages from the workers ----------------------------------------------------------------

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        payload = parse(message.event.kind, message.event.data)
        if isinstance(payload, RunStarted):
            self.case_dir = self.app.workspace.cases_dir / payload.case  # type: ignore[attr-defined]
            self.run_started = payload
            self.query_one(CaseHeader).show_case(self.case_dir)
        if isinstance(payload, StepStarted):
            self.current = payload.step
            self._set_status()
        if self._show(payload):  # output lines leave the step list as it is
            self._refresh_steps()
            if isinstance(payload, (StepStarted, ApprovalWaiting)):
                self.query_one(StepList).follow(payload.step)  # the cursor goes where the run is

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running, self.current = False, None
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
            self.query_one(RunLog).say(f"error: {message.error}")
        if self.case_dir is not None:
            self.reload(log=False)  # the reader's view: follow-ups, nothing to do, who holds it now
            self.journal_planned_skips()
            self.query_one(CaseHeader).refresh_case()
        if message.summary is not None:
            summary = message.summary
            self.finished = str(summary.status)
            self.query_one(RunLog).summary(summary_lines(summary))
            ok = summary.status == RunStatus.SUCCEEDED
            self.notify(f"run {summary.status}", severity="information" if ok else "warning")
        self._refresh_steps()
        self._set_status()

    @on(Planned)
    def _planned(self, message: Planned) -> None:
        self.planning = False
        self.plans = message.plans
        if message.error:
            self.notify(f"dry run: {message.error}", severity="error", timeout=10)
        self._show_detail()
        self.refresh_bindings()

    # -- keys -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something now."""
        idle = not self.running and not self.read_only
        if action == "run":
            return idle and not self.waiting and self.finished not in ENDED + STOPPED
        if action == "retry":
            return idle and self.finished in STOPPED
        if action == "approve":
            return idle and self.waiting is not None
        if action == "skip":
            step = self.key_step
            return idle and self.finished not in ENDED and self.statuses.get(str(step)) in SKIPPABLE
        if action in ("note", "abort"):
            return idle and self.case_dir is not None and (action == "note" or self.finished not in ENDED)
        if action == "plan":
            return not self.running and not self.planning and self.loaded is not None
        if action == "evidence":
            return self.case_dir is not None
        if action == "timeline":
            return self.case_dir is not None and (self.case_dir / "timeline.jsonl").is_file()
        if action in ("decide", "reenable"):
            is_incident = self.loaded is not None and "incident" not in self.loaded.playbook.params
            return self.case_dir is not None and idle and is_incident
        return True

    def action_run(self) -> None:
        """Start the run, or resume the case."""
        self.launch()

    def action_retry(self) -> None:
        """Resume a failed run: the failed step runs again (after verify(), if its call may have happened)."""
        self.launch()

    def action_plan(self) -> None:
        """Dry-run every step against real state: what each would change (nothing is changed)."""
        self.planning = True
        self._show_detail()
        self.refresh_bindings()
        self._planner()
