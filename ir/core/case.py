"""A case: one incident's folder, and the state of its run as replayed from the journal.

The journal is the only source of truth; `CaseState` is derived from it and never stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ir.core.errors import CaseError, JournalError
from ir.core.journal import JOURNAL_FILE, Record, is_open, read
from ir.core.playbook import LoadedPlaybook, parse_playbook
from ir.core.records import (
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

PLAYBOOK_FILE = "playbook.yaml"


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
        Kind.OVERRIDE,
        Kind.EVIDENCE_ADDED,
        Kind.EVIDENCE_UNAVAILABLE,
        Kind.DECISION,
        Kind.FOLLOWUP,
        Kind.NOTE,
    }
)
"""The record kinds that change a case's state (`CaseState.fold` has a branch for each)."""


@dataclass
class StepState:
    """A step's state as the journal tells it."""

    status: StepStatus = StepStatus.PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    intent_open: bool = False
    attempts: int = 0
    action: str | None = None
    """The action the journal says the step runs (None until it is started or waits)."""
    skipped: StepSkipped | None = None
    """Who skipped the step and why (by is None when its `when:` did), while it stays skipped."""
    approved_by: str | None = None
    """Who approved the step, once someone has."""


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
    approvals: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: list[EvidenceAdded] = field(default_factory=list)
    unavailable: list[EvidenceUnavailable] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    """Open follow-ups, deduplicated by `what` (the latest wins)."""
    decisions: list[RecordedDecision] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    waits: dict[str, ApprovalWaiting] = field(default_factory=dict)
    """Step id → its latest approval wait."""
    finished: RunFinished | None = None
    """The latest end of a walk through the steps."""
    aborted: str | None = None
    """Who aborted the run and why, once someone has."""
    run_status: RunStatus = RunStatus.RUNNING
    head: tuple[int, str] = (0, "")

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
            self.fold(payload_of(rec, f"journal seq {rec.seq}"), rec)

    def fold(self, p: Payload, rec: Record) -> None:
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
            case StepIntent():
                st = self.step(p.step)
                st.intent_open, st.action = True, p.action or st.action
                if p.prior is not None and p.step not in self.priors:
                    self.priors[p.step] = dict(p.prior)
            case StepResult():
                st = self.step(p.step)
                st.status, st.outputs, st.error, st.intent_open = StepStatus(p.status), dict(p.outputs), p.error, False
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
                st.status, st.approved_by = StepStatus.PENDING, p.by
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
            case Note():
                self.notes.append(p)
            case RunFinished():
                self.finished, self.run_status = p, RunStatus(p.status)
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


def steps_running(loaded: LoadedPlaybook, *actions: str) -> list[str]:
    """The ids of the playbook's steps that run one of `actions`, in playbook order."""
    return [step.id for step in loaded.playbook.steps if step.action in actions]


def new_case_id(agent_id: str, playbook_id: str, now: datetime | None = None) -> str:
    """A sortable, unique case id: `20261121T115153Z-support-bot-agent-compromise-a1b2`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{agent_id}-{playbook_id}-{secrets.token_hex(2)}"


def resolve_case(cases_dir: Path, ref: str) -> Path:
    """A case folder from a path or a case id (a unique prefix is enough)."""
    direct = Path(ref)
    if (direct / JOURNAL_FILE).is_file():
        return direct.resolve()
    if cases_dir.is_dir():
        exact = cases_dir / ref
        if (exact / JOURNAL_FILE).is_file():
            return exact.resolve()
        matches = sorted(p for p in cases_dir.iterdir() if p.name.startswith(ref) and (p / JOURNAL_FILE).is_file())
        if len(matches) == 1:
            return matches[0].resolve()
        if len(matches) > 1:
            raise CaseError(f"{ref}: matches {len(matches)} cases in {cases_dir}; give more of the id")
    raise CaseError(f"{ref}: no such case (no {JOURNAL_FILE} there or in {cases_dir})")


def pinned_playbook(case_dir: Path, state: CaseState | None = None) -> LoadedPlaybook:
    """The exact playbook the case's run started with; with `state`, its hash is checked against
    the one the journal pinned (JournalError when it differs: the copy was edited)."""
    path = case_dir / PLAYBOOK_FILE
    try:
        loaded = parse_playbook(path.read_text(encoding="utf-8"), str(path))
    except OSError as exc:
        raise CaseError(f"{path}: cannot read the case's pinned playbook: {exc.strerror}") from None
    if state is not None:
        pinned = state.run.playbook.sha256 if state.run else None
        if loaded.sha256 != pinned:
            raise JournalError(f"{path}: content hash {loaded.sha256[:12]} differs from the pinned {str(pinned)[:12]}")
    return loaded


def load_state(case_dir: Path) -> CaseState:
    """Replay a case's journal (read-only; no lock taken). A run that is not finished and whose
    case nobody holds was interrupted (killed, or the machine went down)."""
    checked = read(case_dir / JOURNAL_FILE)
    state = CaseState.replay(checked.records)
    if state.run_status == RunStatus.RUNNING and not is_open(case_dir):
        state.run_status = RunStatus.INTERRUPTED
    return state


def list_cases(cases_dir: Path) -> list[tuple[Path, CaseState]]:
    """Every case under `cases_dir` with its replayed state, newest first."""
    if not cases_dir.is_dir():
        return []
    found = [p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file()]
    return [(p, load_state(p)) for p in sorted(found, reverse=True)]


def agent_status(cases: list[tuple[Path, CaseState]], agent_id: str, baseline: str) -> tuple[str, str | None]:
    """(status, case id that set it) from the agent's cases, oldest first, over the inventory's status.

    A containment run makes the agent `contained`; a recorded decision `disabled` or
    `decommissioned`; a successful run of a release playbook after an approved reenable makes it
    `active` again. A decommissioned agent in the inventory stays decommissioned.
    """
    status, because = baseline, None
    if baseline == "decommissioned":
        return status, because
    for path, state in sorted(cases, key=lambda item: item[0].name):
        if state.run is None or state.run.agent_id != agent_id:
            continue
        if "incident" in state.run.params:
            if state.run_status == RunStatus.SUCCEEDED:
                status, because = "active", path.name
            continue
        status, because = "contained", path.name
        for decision in state.decisions:
            if decision.decision == "keep-disabled":
                status = "disabled"
            elif decision.decision == "decommission":
                status = "decommissioned"
    return status, because
