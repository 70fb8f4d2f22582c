"""The journal's vocabulary: every record kind, and the frozen payload each kind carries.

A record on disk is `{seq, ts, type, data, prev, hash}`; `type` is a `Kind` (a `StrEnum`, so the
bytes on disk and in `--json` are the plain strings they always were) and `data` parses into the
kind's payload model. Payloads allow extra fields: a record written by an older or newer agent-ir
still loads, and what a model does not name is kept. A payload also reads as the mapping it was
written as (`payload["step"]`, `dict(payload)`), which keeps code written against raw record data
working; new code reads attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol

from pydantic import ValidationError

from ir.core.errors import JournalError
from ir.core.records.base import Payload, StepPayload
from ir.core.records.case_files import (
    DerivedAdded,
    EvidenceAdded,
    EvidencePartsRemoved,
    EvidenceUnavailable,
    JournalTornTail,
    RemovedPart,
)
from ir.core.records.people import (
    AlertCorrelated,
    Checkpoint,
    DecisionChecked,
    DecisionPayload,
    DecisionRefused,
    FollowUp,
    Note,
)
from ir.core.records.runs import (
    ApprovalDeclined,
    ApprovalGranted,
    ApprovalRefused,
    ApprovalWaiting,
    Override,
    PlannedChange,
    PlaybookPin,
    RunAborted,
    RunFinished,
    RunInterrupted,
    RunResumed,
    RunStarted,
    StepIntent,
    StepOutput,
    StepPlan,
    StepPlanned,
    StepResult,
    StepRetry,
    StepSkipped,
    StepStarted,
    StepVerified,
    StillLive,
)

__all__ = [
    "PAYLOADS",
    "AlertCorrelated",
    "ApprovalDeclined",
    "ApprovalGranted",
    "ApprovalRefused",
    "ApprovalWaiting",
    "Checkpoint",
    "DecisionChecked",
    "DecisionPayload",
    "DecisionRefused",
    "DerivedAdded",
    "EvidenceAdded",
    "EvidencePartsRemoved",
    "EvidenceUnavailable",
    "FollowUp",
    "JournalTornTail",
    "Kind",
    "Note",
    "Override",
    "Payload",
    "PlannedChange",
    "PlaybookPin",
    "RemovedPart",
    "RunAborted",
    "RunFinished",
    "RunInterrupted",
    "RunResumed",
    "RunStarted",
    "StepIntent",
    "StepOutput",
    "StepPayload",
    "StepPlan",
    "StepPlanned",
    "StepResult",
    "StepRetry",
    "StepSkipped",
    "StepStarted",
    "StepVerified",
    "StillLive",
    "parse",
    "payload_of",
]


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
    APPROVAL_DECLINED = "approval.declined"
    OVERRIDE = "override"
    EVIDENCE_ADDED = "evidence.added"
    EVIDENCE_UNAVAILABLE = "evidence.unavailable"
    EVIDENCE_PARTS_REMOVED = "evidence.parts_removed"
    DERIVED_ADDED = "derived.added"
    FOLLOWUP = "followup"
    NOTE = "note"
    ALERT_CORRELATED = "alert.correlated"
    DECISION = "decision"
    DECISION_REFUSED = "decision.refused"
    DECISION_CHECKED = "decision.checked"
    CHECKPOINT = "checkpoint"
    JOURNAL_TORN_TAIL = "journal.torn_tail"


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
    Kind.APPROVAL_DECLINED: ApprovalDeclined,
    Kind.OVERRIDE: Override,
    Kind.EVIDENCE_ADDED: EvidenceAdded,
    Kind.EVIDENCE_UNAVAILABLE: EvidenceUnavailable,
    Kind.EVIDENCE_PARTS_REMOVED: EvidencePartsRemoved,
    Kind.DERIVED_ADDED: DerivedAdded,
    Kind.FOLLOWUP: FollowUp,
    Kind.NOTE: Note,
    Kind.ALERT_CORRELATED: AlertCorrelated,
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
