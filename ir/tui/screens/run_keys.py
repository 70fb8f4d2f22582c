"""The run screen's keys that write into the case (approve or decline, skip, note, abort) and the
thread workers they start (the engine, the dry run).

Each key acts on the step the status line names (the one waiting, or the one the run stopped
at), else on the highlighted step; each is a journal record with who and why, shown in the output.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual import work
from textual.message import Message

from ir.core.case import RunStatus, StepStatus
from ir.core.errors import IrError
from ir.core.events import RunOptions
from ir.core.journal import Record
from ir.core.records import payload_of
from ir.tui.run_view import RunView
from ir.tui.run_workers import Start, plan_steps, run_engine
from ir.tui.widgets.run_log import RunLog


class RunKeys(RunView):
    """Approve / decline, skip, note and abort; the engine and dry-run workers they launch."""

    def action_approve(self) -> None:
        """Review the waiting step in the approval modal: its plan is made again for the resolved arguments."""
        from ir.core.interventions import decline_approval
        from ir.tui.run_workers import irreversible, plan_waiting
        from ir.tui.screens.approval import ApprovalModal, Verdict

        if self.waiting is None or self.case_dir is None:
            return
        app: Any = self.app
        waiting, case_dir = self.waiting, self.case_dir

        def decided(verdict: Verdict | None) -> None:
            if verdict is None:
                return
            self.poll()  # someone may have settled it in the last moments: never approve twice
            if self.waiting is None or self.waiting.step != waiting.step:
                self.notify(f"step {waiting.step} no longer waits: nothing done", severity="warning")
            elif verdict.approve:
                self.launch(approve=frozenset({waiting.step}))
            else:
                self.record(lambda: decline_approval(case_dir, by=app.actor, step=waiting.step, reason=verdict.reason))

        replan = partial(plan_waiting, app.workspace, app.backends, self.run_started, waiting)
        self.app.push_screen(ApprovalModal(waiting, irreversible=irreversible(waiting.action), replan=replan), decided)

    def action_skip(self) -> None:
        """Skip the step the status line names (else the highlighted one), with a reason the journal keeps."""
        from ir.core.interventions import skip_step
        from ir.tui.screens.prompt import TextPrompt

        step, named = self.key_step, self.named_step
        if step is None:
            return
        app: Any = self.app

        def answered(reason: str | None) -> None:
            if not reason:
                return
            if self.case_dir is None:  # no case yet: the engine journals it when the run reaches it
                self.skips[step] = reason
                self.query_one(RunLog).say(f"{step}: will be skipped when the run reaches it — {reason}")
                return
            case_dir = self.case_dir
            if self.record(lambda: skip_step(case_dir, by=app.actor, step=step, reason=reason)) and step == named:
                self.launch()  # the run was held by this step: it goes on past it

        self.app.push_screen(TextPrompt(f"Skip step {step}: why?", "the reason goes into the journal"), answered)

    def journal_planned_skips(self) -> None:
        """Journal the skips chosen before the case existed that the run has not reached yet."""
        from ir.core.interventions import skip_step

        app: Any = self.app
        case_dir = self.case_dir
        if case_dir is None:
            return
        for step, reason in list(self.skips.items()):
            if self.statuses.get(step) in (str(StepStatus.PENDING), str(StepStatus.AWAITING_APPROVAL)):
                self.record(partial(skip_step, case_dir, by=app.actor, step=step, reason=reason))
            self.skips.pop(step)

    def action_note(self) -> None:
        """Add a note to the case's journal (tied to the step the status line names, else the highlighted one)."""
        from ir.core.interventions import add_note
        from ir.tui.screens.prompt import TextPrompt

        step, case_dir, app = self.key_step, self.case_dir, self.app
        if case_dir is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self.record(lambda: add_note(case_dir, by=app.actor, text=text, step=step))  # type: ignore[attr-defined]

        self.app.push_screen(TextPrompt(f"Note on {step or 'the case'}:", "what you saw, decided, and why"), answered)

    def action_abort(self) -> None:
        """Abort the run for good, with a reason (nothing is rolled back)."""
        from ir.core.interventions import abort_run
        from ir.tui.screens.prompt import TextPrompt

        case_dir, app = self.case_dir, self.app
        if case_dir is None:
            return

        def answered(reason: str | None) -> None:
            if reason and self.record(lambda: abort_run(case_dir, by=app.actor, reason=reason)):  # type: ignore[attr-defined]
                self.finished, self.waiting = str(RunStatus.ABORTED), None
                self._set_status()

        prompt = "Abort this run for good? Why (nothing is rolled back; it cannot be resumed):"
        self.app.push_screen(TextPrompt(prompt, "the reason goes into the journal"), answered)

    def record(self, write: Callable[[], Record]) -> bool:
        """Write one record into the case (a note, a skip, a decline, an abort); show it, or the error."""
        try:
            rec = write()
        except IrError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return False
        self.seen = max(self.seen, rec.seq)  # shown here: the journal watch must not show it again
        self._show(payload_of(rec))
        self._refresh_steps()
        return True

    # -- the workers ------------------------------------------------------------------------------

    def launch(self, approve: frozenset[str] = frozenset()) -> None:
        """Run the engine on this case (or start it): the skips chosen before it started go along."""
        self.running = True
        self.waiting = None
        self._set_status()
        self._engine(approve, dict(self.skips))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _engine(self, approve: frozenset[str], skip: dict[str, str]) -> None:
        app: Any = self.app
        assert self.loaded is not None
        options = RunOptions(actor=app.actor, approve=approve, skip=skip)
        target = self.case_dir or Start(self.loaded, str(self.agent_id), self.params)

        def post(message: Message) -> None:
            app.call_from_thread(self.post_message, message)

        run_engine(app.workspace, app.backends, target, options, post, self.stopping)

    @work(thread=True, group="plan", exit_on_error=False)
    def _planner(self) -> None:
        app: Any = self.app
        assert self.loaded is not None
        target = Start(self.loaded, str(self.agent_id), self.params)
        message = plan_steps(app.workspace, app.backends, target, self.run_started)
        app.call_from_thread(self.post_message, message)

    def stop(self) -> None:
        """The person quits: the engine stops at its next record and journals the interruption."""
        self.stopping.set()

    @property
    def live_case(self) -> str | None:
        """The case quitting now would leave interrupted (None when no run is in progress here)."""
        if not self.running:
            return None
        return self.case_dir.name if self.case_dir else f"(the new {self.playbook_ref} case; see `ir cases`)"
