"""The journal's vocabulary: every record kind, and the frozen payload each kind carries.

A record on disk is `{seq, ts, type, data, prev, hash}`; `type` is a `Kind` (a `StrEnum`, so the
bytes on disk and in `--json` are the plain strings they always were) and `data` parses into the
kind's payload model. Payloads allow extra fields: a record written by an older or newer agent-ir
still loads, and what a model does not name is kept. A payload also reads as the mapping it was
written as (`payload["step"]`, `dict(payload)`), which keeps code written against raw record data
working; new code reads attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ir.core.errors import JournalError


class Kind(StrEnum):
    """Every record type the journal holds (and `step.planned`, the dry run's event)."""

    RUN_STARTED = "run.started"
    RUN_RESUMED = "run.resumed"
    RUN_FINISHED = "run.finished"
    RUN_INTERRUPTED = "run.interrupted"
    RUN_ABORTED = "run.aborted"
    STEP_STARTED = "step.started"
    STEP_INTENT = "step.intent"
    STEP_RESULT = "step.result"
    STEP_SKIPPED = "step.skipped"
    STEP_VERIFIED = "step.verified"
    STEP_RETRY = "step.retry"
    STEP_OUTPUT = "step.output"
    STEP_PLANNED = "step.planned"
    APPROVAL_WAITING = "approval.waiting"
    APPROVAL_GRANTED = "approval.granted"
    APPROVAL_REFUSED = "approval.refused"
    OVERRIDE = "override"
    EVIDENCE_ADDED = "evidence.added"
    EVIDENCE_UNAVAILABLE = "evidence.unavailable"
    EVIDENCE_PARTS_REMOVED = "evidence.parts_removed"
    DERIVED_ADDED = "derived.added"
    FOLLOWUP = "followup"
    NOTE = "note"
    DECISION = "decision"
    DECISION_REFUSED = "decision.refused"
    DECISION_CHECKED = "decision.checked"
    CHECKPOINT = "checkpoint"
    JOURNAL_TORN_TAIL = "journal.torn_tail"


class Payload(BaseModel, Mapping[str, Any]):
    """A record's `data`, validated; unknown kinds parse to this base (extra fields kept)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def _written(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)

    def __getitem__(self, key: str) -> Any:
        return self._written()[key]

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        return iter(self._written())

    def __len__(self) -> int:
        return len(self._written())


class StepPayload(Payload):
    """A payload about one step."""

    step: str
    """The step's id in the pinned playbook."""


# -- runs ---------------------------------------------------------------------------------------


class PlaybookPin(BaseModel):
    """Which playbook a run is pinned to."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    """The playbook's id."""
    version: str = ""
    """Its semver version."""
    sha256: str = ""
    """Content hash of its canonical form."""
    text_sha256: str | None = None
    """sha256 of the exact bytes copied into the case (`playbook.yaml`)."""
    source: str | None = None
    """Where it was loaded from."""
    file: str | None = None
    """The copy's file name inside the case folder."""


class RunStarted(Payload):
    """A run began: the case, the pinned playbook, the agent as the inventory described it."""

    case: str
    """The case id (the case folder's name)."""
    run_id: str | None = None
    """The run's id (today the case id)."""
    playbook: PlaybookPin
    """The playbook the run is pinned to."""
    agent: dict[str, Any] = Field(default_factory=dict)
    """The agent's inventory entry at the start of the run."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The playbook's parameters, resolved."""
    actor: str = ""
    """Who started the run."""
    pid: int | None = None
    """The process that ran it."""

    @property
    def agent_id(self) -> str:
        """The agent's id ('?' when the record does not name one)."""
        return str(self.agent.get("id", "?"))


class RunResumed(Payload):
    """A run was resumed from its journal."""

    actor: str = ""
    """Who resumed it."""
    pid: int | None = None
    """The process that resumed it."""
    approve: list[str] = Field(default_factory=list)
    """Steps approved on resume (`--approve`)."""
    approve_all: bool = False
    """Whether every step was approved (`--yes`)."""


class RunFinished(Payload):
    """A walk through the steps ended (for good, or at an approval)."""

    status: str
    """The run's status (a `RunStatus` value: succeeded, failed, incomplete, awaiting_approval…)."""
    steps: dict[str, str] = Field(default_factory=dict)
    """Step id → its status at the end."""
    message: str | None = None
    """The first problem, when there was one."""
    follow_ups: int = 0
    """How many follow-ups the case holds."""
    still_live: list[dict[str, Any]] = Field(default_factory=list)
    """What containment left live (keys, sessions, minted principals), when the run knows."""


class RunInterrupted(Payload):
    """The run was interrupted (Ctrl-C) during a step."""

    step: str | None = None
    """The step in progress, if any."""


class RunAborted(Payload):
    """A person ended the run for good."""

    by: str = ""
    """Who aborted it."""
    reason: str = ""
    """Why."""
    previous_status: str | None = None
    """The run's status before the abort."""
    open_steps: list[str] = Field(default_factory=list)
    """Steps that never ran."""
    unverified_calls: list[str] = Field(default_factory=list)
    """Steps whose call was made but whose result was never recorded."""


# -- steps --------------------------------------------------------------------------------------


class StepStarted(StepPayload):
    """An attempt at a step began."""

    action: str
    """The action the step runs."""
    attempt: int = 1
    """Which attempt this is (counting across resumes)."""


class StepIntent(StepPayload):
    """A mutating call is about to be made (written and fsynced before the call)."""

    action: str = ""
    """The action."""
    args: Any = None
    """The rendered arguments."""
    key: str | None = None
    """The call's idempotency key."""
    attempt: int = 1
    """Which attempt."""
    prior: dict[str, Any] | None = None
    """The state before the first attempt changed anything (what a release restores)."""


class StepResult(StepPayload):
    """A step ended."""

    status: str
    """Its status (a `StepStatus` value)."""
    outputs: dict[str, Any] = Field(default_factory=dict)
    """What it produced (later steps reference these)."""
    error: str | None = None
    """Why it failed or errored."""
    recovered: bool = False
    """Found already done by `verify()` on resume."""


class StepSkipped(StepPayload):
    """A step was skipped: its `when:` was false, or a person skipped it."""

    reason: str = ""
    """Why."""
    by: str | None = None
    """Who skipped it (None when its `when:` condition did)."""


class StepVerified(StepPayload):
    """After a restart, `verify()` read whether an interrupted call took effect."""

    done: bool
    """Whether the effect is in place."""
    detail: str = ""
    """What was read."""


class StepRetry(StepPayload):
    """A transient error: the step runs again after a delay."""

    attempt: int = 1
    """The attempt that failed."""
    error: str = ""
    """The transient error."""
    delay_s: float = 0.0
    """Seconds before the next attempt."""


class StepOutput(StepPayload):
    """One line of a step's live output."""

    line: str
    """The line (text from the agent's world: neutralise before display)."""


class PlannedChange(BaseModel):
    """One change a dry run found a step would make."""

    model_config = ConfigDict(frozen=True, extra="allow")

    resource: Any = None
    """What would change (`aws.iam_user:agent-x`, a container)."""
    attribute: Any = None
    """Which of its attributes."""
    before: Any = None
    """Its value now."""
    after: Any = None
    """Its value after the step."""


class StepPlan(BaseModel):
    """What a dry run found a step would do."""

    model_config = ConfigDict(frozen=True, extra="allow")

    changes: list[PlannedChange] = Field(default_factory=list)
    """Each change, from → to."""
    notes: list[Any] = Field(default_factory=list)
    """What else a person should know."""


class StepPlanned(StepPayload):
    """Dry run only (never journalled): what a step would change."""

    action: str = ""
    """The action."""
    args: Any = None
    """The rendered arguments."""
    approval: bool = False
    """Whether the step needs approval."""
    plan: StepPlan = Field(default_factory=StepPlan)
    """The changes and notes."""
    error: str | None = None
    """Why it could not be planned."""


# -- approvals and overrides -------------------------------------------------------------------


class ApprovalWaiting(StepPayload):
    """A step waits for a person's approval."""

    action: str = ""
    """The action it would run."""
    args: Any = None
    """With these arguments."""
    approvers: list[str] = Field(default_factory=list)
    """Who may approve (people and `group:` names); empty: anyone."""


class ApprovalGranted(StepPayload):
    """A person approved a step."""

    by: str = ""
    """Who approved it."""
    action: str | None = None
    """The action approved."""
    args: Any = None
    """The arguments approved."""


class ApprovalRefused(StepPayload):
    """Someone who may not approve a step tried to."""

    by: str = ""
    """Who tried."""
    reason: str = ""
    """Why it was refused."""


class Override(StepPayload):
    """A destructive step runs without a successful evidence step, on someone's say-so."""

    by: str = ""
    """Who overrode the requirement."""
    reason: str = ""
    """Why."""


# -- evidence and case files -------------------------------------------------------------------


class EvidenceAdded(StepPayload):
    """An evidence file was stored (content-addressed, read-only)."""

    name: str
    """The artifact's name (`logs.txt`, `inspect.json`…)."""
    sha256: str
    """Its content hash (its path under `evidence/sha256/`)."""
    size: int
    """Its size in bytes."""
    source: str = ""
    """What it was read from."""
    method: str = ""
    """How it was acquired."""
    sensitive: bool = False
    """Whether it may hold secrets (exports treat it with care)."""


class EvidenceUnavailable(StepPayload):
    """An artifact could not be acquired."""

    name: str
    """The artifact's name."""
    reason: str = ""
    """Why not."""


class RemovedPart(BaseModel):
    """One leftover part of an interrupted capture."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str
    """Its file name."""
    size: int = 0
    """Its size in bytes."""


class EvidencePartsRemoved(Payload):
    """Leftover `.tmp` parts of an interrupted capture were removed on resume."""

    files: list[RemovedPart] = Field(default_factory=list)
    """The parts removed."""


class DerivedAdded(Payload):
    """A derived case file (timeline, report, ansible artifacts) was hashed into the journal."""

    step: str | None = None
    """The step that wrote it, if any."""
    name: str
    """What it is."""
    path: str
    """Its path relative to the case folder."""
    sha256: str
    """Its content hash."""
    size: int = 0
    """Its size in bytes."""


class FollowUp(Payload):
    """Work a person must do (it could not be done automatically)."""

    step: str | None = None
    """The step that raised it."""
    what: str
    """What must be done."""
    owner: str = ""
    """Who does it."""
    why: str = ""
    """Why it was not done automatically."""


class Note(Payload):
    """A responder's note on the case."""

    by: str = ""
    """Who wrote it."""
    text: str = ""
    """What it says."""
    step: str | None = None
    """The step it is about, if any."""
    attached: dict[str, Any] | None = None
    """Set when a second run was refused and attached to this case instead (`--attach`)."""


# -- decisions, checkpoints, the journal itself ------------------------------------------------


class DecisionPayload(Payload):
    """What happens to the agent after the incident, who decided, why, on what evidence."""

    decision: str
    """`reenable`, `keep-disabled` or `decommission`."""
    by: str = ""
    """Who decided."""
    reason: str = ""
    """The rationale."""
    approved_by: str | None = None
    """The second approver, if any."""
    approved: bool = False
    """Whether the decision stands approved."""
    criteria: dict[str, Any] = Field(default_factory=dict)
    """Each re-enable criterion: `met` and `detail`."""
    root_cause: str | None = None
    """The root cause recorded with it."""
    accepted_follow_ups: bool = False
    """Whether open follow-ups were accepted as open."""
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    """The evidence it rests on (name, sha256)."""
    agent: str | None = None
    """The agent it is about."""
    follows: dict[str, Any] | None = None
    """The journal head (`seq`, `hash`) the decision follows (signed decisions)."""
    signatures: list[dict[str, Any]] = Field(default_factory=list)
    """Signatures over the decision: `principal`, `role`, `key`, `signature`."""


class DecisionRefused(DecisionPayload):
    """A decision that may not stand (criteria unmet, no second approver), and why."""

    why: str = ""
    """Why it was refused."""


class DecisionChecked(StepPayload):
    """A release step checked the approved reenable decision it relies on."""

    case: str = ""
    """The incident case holding the decision."""
    decision_seq: int | None = None
    """The decision's journal seq."""
    decision_hash: str | None = None
    """The decision's journal hash."""
    by: str = ""
    """Who decided."""
    approved_by: str | None = None
    """Who approved."""


class Checkpoint(Payload):
    """A signed journal head."""

    signed: dict[str, Any] = Field(default_factory=dict)
    """The head signed: `seq` and `hash`."""
    principal: str = ""
    """Who signed (a name in the allowed signers)."""
    key: str = ""
    """The key's fingerprint (`SHA256:…`)."""
    namespace: str = ""
    """The SSHSIG namespace."""
    reason: str = ""
    """What ended: run, resume, note, decision or abort."""
    signature: str = ""
    """The armored SSHSIG signature."""


class JournalTornTail(Payload):
    """A torn last line (a crash mid-write) was set aside when the case was reopened."""

    bytes: int = 0
    """How many bytes were set aside."""
    sha256: str = ""
    """Their hash."""
    saved_as: str = ""
    """The side file holding them."""


PAYLOADS: dict[Kind, type[Payload]] = {
    Kind.RUN_STARTED: RunStarted,
    Kind.RUN_RESUMED: RunResumed,
    Kind.RUN_FINISHED: RunFinished,
    Kind.RUN_INTERRUPTED: RunInterrupted,
    Kind.RUN_ABORTED: RunAborted,
    Kind.STEP_STARTED: StepStarted,
    Kind.STEP_INTENT: StepIntent,
    Kind.STEP_RESULT: StepResult,
    Kind.STEP_SKIPPED: StepSkipped,
    Kind.STEP_VERIFIED: StepVerified,
    Kind.STEP_RETRY: StepRetry,
    Kind.STEP_OUTPUT: StepOutput,
    Kind.STEP_PLANNED: StepPlanned,
    Kind.APPROVAL_WAITING: ApprovalWaiting,
    Kind.APPROVAL_GRANTED: ApprovalGranted,
    Kind.APPROVAL_REFUSED: ApprovalRefused,
    Kind.OVERRIDE: Override,
    Kind.EVIDENCE_ADDED: EvidenceAdded,
    Kind.EVIDENCE_UNAVAILABLE: EvidenceUnavailable,
    Kind.EVIDENCE_PARTS_REMOVED: EvidencePartsRemoved,
    Kind.DERIVED_ADDED: DerivedAdded,
    Kind.FOLLOWUP: FollowUp,
    Kind.NOTE: Note,
    Kind.DECISION: DecisionPayload,
    Kind.DECISION_REFUSED: DecisionRefused,
    Kind.DECISION_CHECKED: DecisionChecked,
    Kind.CHECKPOINT: Checkpoint,
    Kind.JOURNAL_TORN_TAIL: JournalTornTail,
}


class RawRecord(Protocol):
    """Anything with a record's `type` and `data` (a journal `Record`)."""

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


def parse(kind: str, data: Mapping[str, Any], where: str = "") -> Payload:
    """The typed payload of one record or event; JournalError (naming `where`) when it does not fit."""
    try:
        model = PAYLOADS[Kind(kind)]
    except ValueError:
        return Payload.model_validate(dict(data))  # a kind from a newer agent-ir: kept, not interpreted
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "data"
        place = f"{where}: " if where else ""
        raise JournalError(f"{place}{kind} record: {field}: {first['msg'].lower()}") from None


def payload_of(rec: RawRecord, where: str = "") -> Payload:
    """The typed payload of a journal record."""
    return parse(rec.type, rec.data, where)
