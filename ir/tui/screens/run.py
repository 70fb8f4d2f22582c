"""The run screen: a playbook's steps with their status, the selected step's guidance and plan,
live output, and the keys a responder needs: run, approve, skip with a reason, retry, note, abort.

The engine (and the dry run) run in thread workers and report through messages; the screen
changes only in their handlers. A step waiting for approval opens the approval modal; approving
resumes the case with that step approved. Text from the agent's world is plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, ListView, Static

from ir.core.case import CaseState, RunStatus, pinned_playbook
from ir.core.errors import IrError
from ir.core.events import RunOptions
from ir.core.journal import Record, is_open, read
from ir.core.playbook import LoadedPlaybook, find_playbook
from ir.core.records import ApprovalWaiting, Payload, RunStarted, StepPlanned, parse, payload_of
from ir.tui.run_lines import ENDED, STOPPED, status_line, step_status
from ir.tui.run_workers import EngineEvent, Finished, Planned, Start, plan_steps, run_engine
from ir.tui.widgets.run_log import RunLog
from ir.tui.widgets.step_detail import StepDetail, plan_text
from ir.tui.widgets.steps import StepList

SKIPPABLE = ("pending", "awaiting_approval", "failed", "errored")


class RunScreen(Screen[None]):
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

    def __init__(
        self,
        *,
        agent_id: str | None = None,
        playbook: str | None = None,
        case_dir: Path | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.playbook_ref = playbook
        self.params = params or {}
        self.case_dir = case_dir
        self.loaded: LoadedPlaybook | None = None
        self.run_started: RunStarted | None = None
        self.statuses: dict[str, str] = {}
        self.plans: dict[str, StepPlanned] = {}
        self.waiting: ApprovalWaiting | None = None
        self.running = False
        self.planning = False
        self.finished: str | None = None
        self.read_only = False

    def compose(self) -> ComposeResult:
        yield Header()
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
                records = read(self.case_dir / "journal.jsonl").records
                state = CaseState.replay(records)
                self.run_started, self.agent_id, self.waiting = state.run, state.agent_id, state.waiting
                self.statuses = {s.id: str(state.step(s.id).status) for s in self.loaded.playbook.steps}
                self.read_only = is_open(self.case_dir)
                if state.run_status != RunStatus.RUNNING:
                    self.finished = str(state.run_status)
                elif not self.read_only:  # not finished, and nobody holds it: the run was killed
                    self.finished = str(RunStatus.INTERRUPTED)
                self.query_one(RunLog).replay(records)
            else:
                self.loaded = find_playbook(workspace.playbooks_dir, str(self.playbook_ref))
                self.statuses = {s.id: "pending" for s in self.loaded.playbook.steps}
        except IrError as exc:
            self.notify(str(exc), severity="error")
            return
        self._refresh_steps()
        self._set_status()
        if self.finished not in ENDED:
            self.action_plan()  # before anything (more) runs, show what each step would change

    # -- display ----------------------------------------------------------------------------------

    def _refresh_steps(self) -> None:
        assert self.loaded is not None
        self.query_one(StepList).show(self.loaded.playbook.steps, self.statuses)
        self._show_detail()

    def _show_detail(self) -> None:
        if self.loaded is None:
            return
        step_id = self.query_one(StepList).highlighted_step or self.loaded.playbook.steps[0].id
        step = self.loaded.playbook.step(step_id)
        self.query_one(StepDetail).show(step, self.plans.get(step_id), self.planning)

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
        )
        self.query_one("#status", Static).update(Text(text))
        self.refresh_bindings()

    def _show(self, payload: Payload) -> bool:
        """Log the payload's line and apply its step status; True when a step's status changed."""
        moved, changed = step_status(payload), False
        if moved is not None:
            changed = self.statuses.get(moved[0]) != moved[1]
            self.statuses[moved[0]] = str(moved[1])
        if isinstance(payload, ApprovalWaiting):
            self.waiting = payload
        self.query_one(RunLog).add(payload)
        return changed

    # -- messages from the workers ----------------------------------------------------------------

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        payload = parse(message.event.kind, message.event.data)
        if isinstance(payload, RunStarted):
            self.case_dir = self.app.workspace.cases_dir / payload.case  # type: ignore[attr-defined]
            self.run_started = payload
        if self._show(payload):  # output lines leave the step list as it is
            self._refresh_steps()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
            self.query_one(RunLog).say(f"error: {message.error}")
        elif message.summary is not None:
            summary = message.summary
            if summary.status != RunStatus.AWAITING_APPROVAL:
                self.waiting = None
            self.finished = str(summary.status)
            if summary.case_dir:
                self.case_dir = Path(summary.case_dir)
            self.notify(
                f"run {summary.status}", severity="information" if summary.status == RunStatus.SUCCEEDED else "warning"
            )
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
            step = self.query_one(StepList).highlighted_step if self.loaded else None
            return idle and self.finished not in ENDED and self.statuses.get(str(step)) in SKIPPABLE
        if action == "note":
            return idle and self.case_dir is not None
        if action == "abort":
            return idle and self.case_dir is not None and self.finished not in ENDED
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
        self._launch()

    def action_retry(self) -> None:
        """Resume a failed run: the failed step runs again (after verify(), if its call may have happened)."""
        self._launch()

    def action_approve(self) -> None:
        """Review the waiting step in the approval modal."""
        from ir.tui.screens.approval import ApprovalModal

        if self.waiting is None:
            return
        waiting = self.waiting
        plan = plan_text(self.plans[waiting.step]) if waiting.step in self.plans else None

        def decided(approved: bool | None) -> None:
            if approved:
                self._launch(approve=frozenset({waiting.step}))

        self.app.push_screen(ApprovalModal(waiting, plan), decided)

    def action_skip(self) -> None:
        """Skip the highlighted step, with a reason the journal keeps."""
        from ir.tui.screens.prompt import TextPrompt

        step = self.query_one(StepList).highlighted_step
        if step is None:
            return

        def answered(reason: str | None) -> None:
            if reason:
                self._launch(skip={step: reason})

        self.app.push_screen(TextPrompt(f"Skip step {step}: why?", "the reason goes into the journal"), answered)

    def action_note(self) -> None:
        """Add a note to the case's journal (tied to the highlighted step)."""
        from ir.core.interventions import add_note
        from ir.tui.screens.prompt import TextPrompt

        step, case_dir = self.query_one(StepList).highlighted_step, self.case_dir
        if case_dir is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self._record(lambda: add_note(case_dir, by=self.app.actor, text=text, step=step))  # type: ignore[attr-defined]

        self.app.push_screen(TextPrompt(f"Note on {step or 'the case'}:", "what you saw, decided, and why"), answered)

    def action_abort(self) -> None:
        """Abort the run for good, with a reason (nothing is rolled back)."""
        from ir.core.interventions import abort_run
        from ir.tui.screens.prompt import TextPrompt

        case_dir = self.case_dir
        if case_dir is None:
            return

        def answered(reason: str | None) -> None:
            if reason and self._record(lambda: abort_run(case_dir, by=self.app.actor, reason=reason)):  # type: ignore[attr-defined]
                self.finished, self.waiting = str(RunStatus.ABORTED), None
                self._set_status()

        prompt = "Abort this run for good? Why (nothing is rolled back; it cannot be resumed):"
        self.app.push_screen(TextPrompt(prompt, "the reason goes into the journal"), answered)

    def _record(self, write: Callable[[], Record]) -> bool:
        """Write one record into the case (a note, an abort); show it, or the error as a notification."""
        try:
            rec = write()
        except IrError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return False
        self._show(payload_of(rec))
        return True

    def action_plan(self) -> None:
        """Dry-run every step against real state: what each would change (nothing is changed)."""
        self.planning = True
        self._show_detail()
        self.refresh_bindings()
        self._planner()

    def action_evidence(self) -> None:
        """The case's evidence files and hashes."""
        from ir.tui.screens.evidence import EvidenceScreen

        if self.case_dir is not None:
            self.app.push_screen(EvidenceScreen(self.case_dir))

    def action_timeline(self) -> None:
        """The timeline explorer on this case's timeline."""
        from ir.tui.screens.timeline import TimelineScreen

        if self.case_dir is not None:
            self.app.push_screen(TimelineScreen(self.case_dir / "timeline.jsonl"))

    def action_decide(self) -> None:
        """The decision form for this incident."""
        from ir.tui.screens.decision import DecisionScreen

        if self.case_dir is not None:
            self.app.push_screen(DecisionScreen(self.case_dir))

    def action_reenable(self) -> None:
        """Start the re-enable playbook for this incident (the engine checks the decision)."""
        if self.case_dir is not None:
            self.app.push_screen(
                RunScreen(agent_id=self.agent_id, playbook="agent-reenable", params={"incident": self.case_dir.name})
            )

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.app.pop_screen()

    # -- the workers ------------------------------------------------------------------------------

    def _launch(self, approve: frozenset[str] = frozenset(), skip: dict[str, str] | None = None) -> None:
        self.running = True
        self.waiting = None
        self._set_status()
        self._engine(approve, skip or {})

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _engine(self, approve: frozenset[str], skip: dict[str, str]) -> None:
        app: Any = self.app
        assert self.loaded is not None
        options = RunOptions(actor=app.actor, approve=approve, skip=skip)
        target = self.case_dir or Start(self.loaded, str(self.agent_id), self.params)
        run_engine(app.workspace, app.backends, target, options, lambda m: app.call_from_thread(self.post_message, m))

    @work(thread=True, group="plan", exit_on_error=False)
    def _planner(self) -> None:
        app: Any = self.app
        assert self.loaded is not None
        target = Start(self.loaded, str(self.agent_id), self.params)
        message = plan_steps(app.workspace, app.backends, target, self.run_started)
        app.call_from_thread(self.post_message, message)
