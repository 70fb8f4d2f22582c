"""What the run screen knows about its case, and how it learns it: from its own engine's events
while it runs, and from the journal through the one reader otherwise (another responder's
approval, skip, note or whole run included, noticed by a timer that looks at the file)."""

from __future__ import annotations

import threading
from pathlib import Path

from textual.screen import Screen

from ir.core.case import CaseState, RunStatus, StepStatus
from ir.core.journal import is_open, read
from ir.core.playbook import LoadedPlaybook
from ir.core.records import ApprovalWaiting, Payload, RunStarted, StepPlanned, payload_of
from ir.core.summary_text import summary_lines
from ir.tui.case_jobs import finished_summary
from ir.tui.journal_watch import POLL_SECONDS, JournalWatch
from ir.tui.run_lines import STOPPED, step_status
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.run_log import RunLog
from ir.tui.widgets.step_detail import StepDetail
from ir.tui.widgets.steps import StepList


class RunView(Screen[None]):
    """The case's state as the run screen shows it, kept true to the journal."""

    POLL_SECONDS = POLL_SECONDS

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
        """Step id → what the step list shows (the reader's `display` once the journal was read)."""
        self.plans: dict[str, StepPlanned] = {}
        self.waiting: ApprovalWaiting | None = None
        self.running = False
        """This screen's own engine is running."""
        self.current: str | None = None
        """The step this screen's engine (or another process's run) is in."""
        self.planning = False
        self.finished: str | None = None
        self.read_only = False
        self.skips: dict[str, str] = {}
        """Skips chosen before the case existed: passed to every launch until the journal has them."""
        self.seen = 0
        """The last journal seq the output log shows."""
        self.journal_watch: JournalWatch | None = None
        self.stopping = threading.Event()
        """Set when the person quits mid-run: the engine stops at its next record."""

    # -- the journal, through the reader ----------------------------------------------------------

    def reload(self, *, log: bool = True) -> CaseState:
        """Read the case through the reader: steps, the wait, who holds it; log the records not shown yet."""
        assert self.case_dir is not None and self.loaded is not None
        path = self.case_dir / "journal.jsonl"
        if self.journal_watch is None:
            self.journal_watch = JournalWatch(path)
        records = read(path).records
        state = CaseState.replay(records)
        self.run_started, self.agent_id, self.waiting = state.run, state.agent_id, state.waiting
        self.statuses = {s.id: state.step(s.id).display for s in self.loaded.playbook.steps}
        self.read_only = is_open(self.case_dir)
        self.current = next((sid for sid, st in state.steps.items() if st.status == StepStatus.RUNNING), None)
        if state.run_status != RunStatus.RUNNING:
            self.finished = str(state.run_status)
        else:  # running: someone else holds it; nobody does: the run was killed
            self.finished = None if self.read_only else str(RunStatus.INTERRUPTED)
            self.current = self.current if self.read_only else None
        if log:
            out = self.query_one(RunLog)
            for rec in records:
                if rec.seq > self.seen:
                    out.add(payload_of(rec, f"journal seq {rec.seq}"))
            if self.seen == 0 and state.finished is not None and state.run_status != RunStatus.RUNNING:
                steps = [s.id for s in self.loaded.playbook.steps]  # a case opened after its run ended
                out.summary(summary_lines(finished_summary(self.case_dir, state, records, steps)))
        self.seen = records[-1].seq if records else 0
        return state

    def poll(self) -> None:
        """Look at the journal; when another process wrote to it, show what it wrote."""
        if self.case_dir is None or self.running or self.loaded is None:
            return
        if self.journal_watch is not None and not self.journal_watch.changed():
            return
        try:
            state = self.reload()
        except Exception as exc:  # a half-written or damaged journal: say so, keep the screen
            self.notify(f"cannot re-read the case journal: {exc}", severity="error", timeout=10)
            return
        self.follow()
        self._refresh_steps()
        self._set_status()
        for header in self.query(CaseHeader):  # who holds it, its status, how long it has been open
            header.refresh_case()
        self.settled_elsewhere(state)

    def settled_elsewhere(self, state: CaseState) -> None:
        """Close an open approval modal whose step someone else approved, skipped or ran meanwhile."""
        from ir.tui.screens.approval import ApprovalModal

        modal = next((s for s in self.app.screen_stack if isinstance(s, ApprovalModal)), None)
        if modal is None:
            return
        st = state.step(modal.waiting.step)
        if st.status == StepStatus.AWAITING_APPROVAL:
            return
        what = f"approved by {st.approved_by}" if st.approved_by else str(st.status)
        modal.withdraw(f"step {modal.waiting.step} was {what} in another process: nothing approved here")

    # -- the step the keys act on -----------------------------------------------------------------

    @property
    def named_step(self) -> str | None:
        """The step the status line names: the one waiting for approval, or the one the run stopped at."""
        if self.waiting is not None:
            return self.waiting.step
        if self.finished in STOPPED:
            return next((sid for sid, st in self.statuses.items() if st in ("failed", "errored")), None)
        return None

    @property
    def key_step(self) -> str | None:
        """The step `s` and `n` act on: the named one when there is one, else the highlighted one."""
        if self.loaded is None:
            return None
        return self.named_step or self.query_one(StepList).highlighted_step

    def follow(self) -> None:
        """Put the cursor on the step running or waiting now (or the one the run stopped at)."""
        step = self.current or self.named_step
        if step is not None:
            self.query_one(StepList).follow(step)

    # -- drawing ----------------------------------------------------------------------------------

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

    def _set_status(self) -> None:
        raise NotImplementedError  # the screen draws its status line
