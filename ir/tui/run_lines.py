"""What a journal record or engine event means on the run screen: a step's new status, a log line."""

from __future__ import annotations

from ir.core.case import RunStatus, StepStatus
from ir.core.records import (
    AlertCorrelated,
    ApprovalDeclined,
    ApprovalGranted,
    ApprovalWaiting,
    DecisionPayload,
    DecisionRefused,
    EvidenceUnavailable,
    FollowUp,
    Note,
    Payload,
    RunAborted,
    RunStarted,
    StepOutput,
    StepResult,
    StepSkipped,
    StepStarted,
)

ENDED = (str(RunStatus.SUCCEEDED), str(RunStatus.ABORTED))
"""Run statuses after which nothing more runs in the case."""
STOPPED = (str(RunStatus.FAILED), str(RunStatus.ERRORED), str(RunStatus.INCOMPLETE))
"""Run statuses a responder may retry (resume redoes what is missing), skip past or abort."""


def status_line(
    *,
    read_only: bool,
    running: bool,
    waiting: ApprovalWaiting | None,
    finished: str | None,
    case: str | None,
    idle: str,
    step: str | None = None,
) -> str:
    """The run screen's status line: where the run is, the step `s`/`y`/`n` act on, which keys move it on."""
    if read_only:
        return "case is open in another process: read-only view, it updates as they go"
    if running:
        return f"running {step}…" if step else "running…"
    if waiting:
        return f"step {waiting.step} waits for approval: y to review it, s to skip it with a reason"
    if finished == str(RunStatus.INTERRUPTED):
        return "run interrupted: r resumes it (a step whose call may have happened is verified first)"
    if finished in STOPPED and step:
        return f"run {finished} at step {step}: r retries it, s skips it with a reason, x aborts the run"
    if finished in STOPPED:
        return f"run {finished}: r retries, s skips the highlighted step with a reason, x aborts the run"
    if finished:
        return f"run {finished}" + (f" — case {case}" if case else "")
    return idle


def step_status(p: Payload) -> tuple[str, StepStatus] | None:
    """(step id, its new status) when `p` moves a step, else None."""
    match p:
        case StepResult():
            return p.step, StepStatus(p.status)
        case StepStarted():
            return p.step, StepStatus.RUNNING
        case StepSkipped():
            return p.step, StepStatus.SKIPPED
        case ApprovalWaiting():
            return p.step, StepStatus.AWAITING_APPROVAL
    return None


def log_line(p: Payload) -> str | None:
    """The output log's line for `p` (None: nothing to log). Text is neutralised by the caller."""
    match p:
        case StepResult():
            return f"{p.step}: {p.status}" + (f" — {p.error}" if p.error else "")
        case StepStarted():
            return f"→ {p.step}: {p.action}"
        case StepSkipped():
            who = f" by {p.by}" if p.by else ""
            return f"{p.step}: skipped{who} — {p.reason}"
        case ApprovalWaiting():
            return f"{p.step}: waits for approval of {p.action}"
        case ApprovalGranted():
            return f"{p.step}: approved by {p.by}" + (f" ({p.policy})" if p.policy else "")
        case ApprovalDeclined():
            return f"{p.step}: approval declined by {p.by} — {p.reason}"
        case StepOutput():
            return f"    {p.line}"
        case EvidenceUnavailable():
            return f"    {p.reason}"
        case FollowUp():
            return f"    {p.what}"
        case RunStarted():
            trigger = p.trigger or {}
            if trigger.get("inbox"):
                how = f"route {trigger.get('route')}, policy {trigger.get('policy')}"
                return f"case {p.case} — opened by alert {trigger['inbox']} from {trigger.get('source')} ({how})"
            return f"case {p.case}"
        case AlertCorrelated():
            return f"alert {p.alert.get('inbox', '?')} ({p.alert.get('status', '?')}): {p.text}"
        case Note():
            return f"note by {p.by}" + (f" on {p.step}" if p.step else "") + f": {p.text}"
        case RunAborted():
            return f"run aborted by {p.by}: {p.reason}"
        case DecisionRefused():
            return None
        case DecisionPayload():
            return f"decision {p.decision} by {p.by}: {p.reason}"
    return None
