"""What people add to a case: follow-ups they owe, notes, decisions, and signed checkpoints."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ir.core.records.base import Payload, StepPayload


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


class AlertCorrelated(Payload):
    """A later alert about the agent joined its open case instead of starting a second run (or a
    `resolved` notification was recorded: it releases nothing)."""

    by: str = ""
    """Who journalled it (the alert pipeline's service principal)."""
    text: str = ""
    """One line saying what arrived and what was (not) done about it."""
    alert: dict[str, Any] = Field(default_factory=dict)
    """The alert: `inbox` ref, `source`, `kind`, `incident_key`, `status`, `severity`, `title`, `observed`."""
    request: str = ""
    """`alert-<inbox row>-<agent>`: the same alert is never journalled twice into one case."""


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
