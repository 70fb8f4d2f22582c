"""The one reader of a case journal: statuses, and the state a journal's records fold into.

The journal is the only source of truth; `CaseState` is derived from it and never stored. It is
built only from typed payloads (`ir.core.records`), and everything that shows or judges a case
(screens, printers, `ir cases`, the engine on resume) asks it rather than reading raw records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from ir.core.errors import JournalError
from ir.core.journal import Record
from ir.core.records import (
    ApprovalDeclined,
    ApprovalGranted,
    ApprovalWaiting,
    DecisionPayload,
    EvidenceAdded,
    EvidenceUnavailable,
    FollowUp,
    Kind,
    Note,
    Override,
    Payload,
    RunAborted,
    RunFinished,
    RunInterrupted,
    RunResumed,
    RunStarted,
    StepIntent,
    StepResult,
    StepSkipped,
    StepStarted,
    StillLive,
    payload_of,
)


class StepStatus(StrEnum):
    """Where a step is. `failed`: the action said no; `errored`: our code or infrastructure broke."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERRORED = "errored"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """No further transition happens from this status."""
        return self in TERMINAL


TERMINAL = frozenset(
    {StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.ERRORED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)


class RunStatus(StrEnum):
    """Where a whole run is."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ERRORED = "errored"
    AWAITING_APPROVAL = "awaiting_approval"
    INTERRUPTED = "interrupted"
    PLANNED = "planned"
    ABORTED = "aborted"
    INCOMPLETE = "incomplete"
    """No step failed in the last walk, but containment is not whole: something is still live."""


FOLDED = frozenset(
    {
        Kind.RUN_STARTED,
        Kind.RUN_RESUMED,
        Kind.RUN_FINISHED,
        Kind.RUN_INTERRUPTED,
        Kind.RUN_ABORTED,
        Kind.STEP_STARTED,
        Kind.STEP_INTENT,
        Kind.STEP_RESULT,
        Kind.STEP_SKIPPED,
        Kind.APPROVAL_WAITING,
        Kind.APPROVAL_GRANTED,
        Kind.APPROVAL_DECLINED,
        Kind.OVERRIDE,
        Kind.EVIDENCE_ADDED,
        Kind.EVIDENCE_UNAVAILABLE,
        Kind.DECISION,
        Kind.FOLLOWUP,
        Kind.NOTE,
    }
)
"""The record kinds that change a case's state (`CaseState._fold` has a branch for each)."""


OUTCOME_KEYS = frozenset({"failed", "failures", "unreachable", "follow_ups"})
"""Output entries that say how a step went, not what it acted on (`nothing_to_do` ignores them)."""


@dataclass
class StepState:
    """A step's state as the journal tells it."""

    status: StepStatus = StepStatus.PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    """What its latest result produced."""
    error: str | None = None
    """Why its latest result failed or errored."""
    intent_open: bool = False
    """A mutating call was announced and no result followed (resume verifies before redoing it)."""
    attempts: int = 0
    """Attempts so far, across resumes."""
    action: str | None = None
    """The action the journal says the step runs (None until it is started or waits)."""
    skipped: StepSkipped | None = None
    """Who skipped the step and why (by is None when its `when:` did), while it stays skipped."""
    approved_by: str | None = None
    """Who approved the step, once someone has."""
    declined: ApprovalDeclined | None = None
    """The latest decline of its approval (who and why), until someone approves or it runs."""
    follow_ups: list[FollowUp] = field(default_factory=list)
    """The follow-ups the step raised: what it could not do itself, with owners."""

    @property
    def nothing_to_do(self) -> bool:
        """It succeeded and its outputs name what it acted on, all of it empty (no key, no user, no login)."""
        if self.status != StepStatus.SUCCEEDED or self.follow_ups:
            return False
        acted = [v for k, v in self.outputs.items() if k not in OUTCOME_KEYS and isinstance(v, (list, dict))]
        return bool(acted) and not any(acted)

    @property
    def display(self) -> str:
        """The status a person reads: a success is told apart when it raised follow-ups or had nothing to do."""
        if self.status == StepStatus.SUCCEEDED and self.follow_ups:
            return SUCCEEDED_FOLLOW_UPS
        if self.nothing_to_do:
            return SUCCEEDED_NOTHING
        return str(self.status)


SUCCEEDED_FOLLOW_UPS = "succeeded, follow-ups"
"""A step that succeeded but left work to a person (a provider key only its owner can revoke)."""
SUCCEEDED_NOTHING = "succeeded, nothing to do"
"""A step that succeeded without acting on anything (no key to deactivate, no login to delete)."""


@dataclass
class CaseState:
    """Everything the journal says about a case's run: the one reader of a journal.

    Built only from typed payloads (`ir.core.records`); screens, printers, `ir cases` and the
    report ask it and never interpret raw records themselves.
    """

    case_id: str = ""
    run: RunStarted | None = None
    """The run's start: case, pinned playbook, agent, params (None before `run.started`)."""
    started: dict[str, Any] = field(default_factory=dict)
    """The `run.started` data as written (`run` is the typed form)."""
    steps: dict[str, StepState] = field(default_factory=dict)
    """Step id → its state, for the steps the journal mentions."""
    approvals: dict[str, str] = field(default_factory=dict)
    """Step id → who approved it."""
    overrides: dict[str, str] = field(default_factory=dict)
    """Step id → why its evidence requirement was overridden."""
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Step id → the state before its first mutating call (what a release restores)."""
    evidence: list[EvidenceAdded] = field(default_factory=list)
    """Every evidence file stored, in order."""
    unavailable: list[EvidenceUnavailable] = field(default_factory=list)
    """Every artifact that could not be acquired, with why."""
    follow_ups: list[FollowUp] = field(default_factory=list)
    """Open follow-ups, deduplicated by `what` (the latest wins)."""
    decisions: list[RecordedDecision] = field(default_factory=list)
    """Every decision, oldest first (the latest stands)."""
    notes: list[Note] = field(default_factory=list)
    """Responders' notes, oldest first."""
    waits: dict[str, ApprovalWaiting] = field(default_factory=dict)
    """Step id → its latest approval wait."""
    finished: RunFinished | None = None
    """The latest end of a walk through the steps."""
    aborted: str | None = None
    """Who aborted the run and why, once someone has."""
    run_status: RunStatus = RunStatus.RUNNING
    """Where the run is, as the journal tells it (`load_state` also tells a killed run)."""
    head: tuple[int, str] = (0, "")
    """(seq, hash) of the last record folded in."""

    def step(self, step_id: str) -> StepState:
        """State of one step (pending when the journal never mentions it)."""
        return self.steps.setdefault(step_id, StepState())

    @property
    def agent_id(self) -> str:
        """The agent the run is about ('?' before the run started)."""
        return self.run.agent_id if self.run else "?"

    @property
    def waiting(self) -> ApprovalWaiting | None:
        """The step the run waits on for approval, while it does."""
        if self.run_status != RunStatus.AWAITING_APPROVAL:
            return None
        return next((w for sid, w in self.waits.items() if self.step(sid).status == StepStatus.AWAITING_APPROVAL), None)

    @property
    def still_live(self) -> list[StillLive]:
        """What the latest run end said containment left live (keys, sessions, minted principals)."""
        return list(self.finished.still_live or []) if self.finished else []

    @property
    def actions(self) -> dict[str, str]:
        """Step id → action, for the steps the journal names an action for."""
        return {sid: st.action for sid, st in self.steps.items() if st.action}

    def apply(self, rec: Record) -> None:
        """Fold one journal record into the state."""
        self.head = (rec.seq, rec.hash)
        if rec.type in FOLDED:  # the rest (output lines above all) change no state: not parsed on every replay
            self._fold(payload_of(rec, f"journal seq {rec.seq}"), rec)

    def _fold(self, p: Payload, rec: Record) -> None:
        """Fold one typed payload (of record `rec`) into the state."""
        match p:
            case RunStarted():
                self.run, self.started, self.case_id = p, dict(rec.data), p.case
                self.run_status = RunStatus.RUNNING
            case RunResumed():
                self.run_status = RunStatus.RUNNING
            case StepStarted():
                st = self.step(p.step)
                st.status, st.attempts, st.action, st.skipped = StepStatus.RUNNING, p.attempt, p.action, None
                st.declined, st.follow_ups = None, []
            case StepIntent():
                st = self.step(p.step)
                st.intent_open, st.action = True, p.action or st.action
                if p.prior is not None and p.step not in self.priors:
                    self.priors[p.step] = dict(p.prior)
            case StepResult():
                st = self.step(p.step)
                st.status, st.outputs, st.error, st.intent_open = (
                    _status(StepStatus, p.status, rec),
                    dict(p.outputs),
                    p.error,
                    False,
                )
            case StepSkipped():
                st = self.step(p.step)
                st.status, st.skipped = StepStatus.SKIPPED, p
            case ApprovalWaiting():
                st = self.step(p.step)
                st.status, st.action = StepStatus.AWAITING_APPROVAL, p.action or st.action
                self.waits[p.step] = p
            case ApprovalGranted():
                self.approvals[p.step] = p.by
                st = self.step(p.step)
                st.status, st.approved_by, st.declined = StepStatus.PENDING, p.by, None
            case ApprovalDeclined():
                self.step(p.step).declined = p  # the step keeps waiting: a decline is on record, not a stop
            case Override():
                self.overrides[p.step] = p.reason
            case EvidenceAdded():
                self.evidence.append(p)
            case EvidenceUnavailable():
                self.unavailable.append(p)
            case DecisionPayload() if rec.type == Kind.DECISION:
                self.decisions.append(RecordedDecision.model_validate({**rec.data, "seq": rec.seq, "hash": rec.hash}))
            case FollowUp():
                self.follow_ups = [f for f in self.follow_ups if f.what != p.what] + [p]
                if p.step:
                    raised = self.step(p.step).follow_ups
                    raised[:] = [f for f in raised if f.what != p.what] + [p]
            case Note():
                self.notes.append(p)
            case RunFinished():
                self.finished, self.run_status = p, _status(RunStatus, p.status, rec)
            case RunInterrupted():
                self.run_status = RunStatus.INTERRUPTED
            case RunAborted():
                self.run_status = RunStatus.ABORTED
                self.aborted = f"by {p.by}: {p.reason}"

    @classmethod
    def replay(cls, records: Iterable[Record]) -> CaseState:
        """The state after every record, in order."""
        state = cls()
        for rec in records:
            state.apply(rec)
        return state


class RecordedDecision(DecisionPayload):
    """A decision with where it sits in the journal (a release names the record it relies on)."""

    seq: int
    """The decision record's journal seq."""
    hash: str
    """The decision record's journal hash."""


_S = TypeVar("_S", bound=StrEnum)


def _status(enum: type[_S], value: str, rec: Record) -> _S:
    """`value` as a status of `enum`; a record that chains but names no such status is one line."""
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(str(member) for member in enum)
        raise JournalError(
            f"journal seq {rec.seq}: {rec.type} record: status {str(value)[:40]!r} is not one of {known}"
        ) from None
