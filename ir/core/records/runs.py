"""What a run records as it walks its steps: start and end, each step's progress, approvals, overrides."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ir.core.records.base import Payload, StepPayload


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
    trigger: dict[str, Any] | None = None
    """What started a headless run: the alert (`inbox` ref, `source`, `incident_key`, `title`,
    `resolved_by` rule) and the `route` and `policy` that chose this playbook."""

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


class StillLive(BaseModel):
    """One thing containment should have taken away and real state says is still live."""

    model_config = ConfigDict(frozen=True, extra="allow")

    what: str
    """What is live, in one line (an access key still Active, a role whose old sessions work)."""
    step: str = ""
    """The step that should have handled it."""
    why: str = ""
    """Why it is still live (or why it could not be read: unknown is not contained)."""


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
    still_live: list[StillLive] | None = None
    """What containment left live, when the run assessed it (None: not assessed; older runs never did)."""


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
    policy: str | None = None
    """Set when no person approved it: the alert route whose `auto` policy granted it."""
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


class ApprovalDeclined(StepPayload):
    """A person declined a step's approval: the step keeps waiting, and the decline is on record."""

    by: str = ""
    """Who declined it."""
    reason: str = ""
    """Why."""


class Override(StepPayload):
    """A destructive step runs without a successful evidence step, on someone's say-so."""

    by: str = ""
    """Who overrode the requirement."""
    reason: str = ""
    """Why."""
