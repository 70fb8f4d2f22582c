"""What a responder writes into a case outside any step: a note, or the decision to abort the run.

Both take the case's lock like a run does, so they never interleave with an engine writing the
same journal; a case another process holds is refused with a clear message, not waited on.
Each ends with a checkpoint signing the new head when the writer has an allowed key.
"""

from __future__ import annotations

from pathlib import Path

from ir.core.case import CaseState, RunStatus, StepStatus, pinned_playbook
from ir.core.errors import CaseError, InputError
from ir.core.journal import Journal, Record
from ir.core.records import Kind
from ir.core.signing_journal import case_id_of, sign_head
from ir.core.signing_trust import Trust, case_trust

NOTE_LIMIT = 4000
"""Characters a note may hold: enough for a paragraph, not a place to paste logs (use evidence)."""


def add_note(
    case_dir: Path, *, by: str, text: str, step: str | None = None, trust: Trust | None = None, key: Path | None = None
) -> Record:
    """Journal a responder's note on the case (optionally about one step)."""
    text = text.strip()
    if not text:
        raise InputError("a note needs text")
    if len(text) > NOTE_LIMIT:
        raise InputError(f"a note holds at most {NOTE_LIMIT} characters ({len(text)} given); add long text as evidence")
    if not by.strip():
        raise InputError("a note needs its author (--by)")
    with Journal(case_dir).open() as journal:
        if step is not None and step not in _step_ids(case_dir):
            raise InputError(f"{case_dir.name}: no step {step!r} in this case's playbook")
        data = {"by": by, "text": text} | ({"step": step} if step else {})
        record = journal.append(Kind.NOTE, data)
        _sign(journal, case_dir, trust, by, key, "note")
        return record


def abort_run(case_dir: Path, *, by: str, reason: str, trust: Trust | None = None, key: Path | None = None) -> Record:
    """End the case's run for good: nothing more runs in it (start a new run to continue)."""
    if not reason.strip():
        raise InputError("aborting a run needs a reason (--reason)")
    if not by.strip():
        raise InputError("aborting a run needs who decided it (--by)")
    with Journal(case_dir).open() as journal:
        state = CaseState.replay(journal.records)
        if state.run is None:
            raise CaseError(f"{case_dir}: journal has no run.started record")
        if state.run_status in (RunStatus.SUCCEEDED, RunStatus.ABORTED):
            raise InputError(f"{case_dir.name}: the run already ended ({state.run_status}); nothing to abort")
        left = [sid for sid in _step_ids(case_dir) if not state.step(sid).status.terminal]
        intents = [sid for sid, st in state.steps.items() if st.intent_open]
        record = journal.append(
            Kind.RUN_ABORTED,
            {"by": by, "reason": reason, "previous_status": str(state.run_status), "open_steps": left}
            | ({"unverified_calls": intents} if intents else {}),
        )
        _sign(journal, case_dir, trust, by, key, "abort")
        return record


def skip_step(
    case_dir: Path, *, by: str, step: str, reason: str, trust: Trust | None = None, key: Path | None = None
) -> Record:
    """Journal a responder's skip of a step that has not finished: every later resume leaves it skipped."""
    if not reason.strip():
        raise InputError(f"skipping step {step} needs a reason (--reason)")
    if not by.strip():
        raise InputError(f"skipping step {step} needs who decided it (--by)")
    with Journal(case_dir).open() as journal:
        state = _open_run(case_dir, journal.records)
        if step not in _step_ids(case_dir):
            raise InputError(f"{case_dir.name}: no step {step!r} in this case's playbook")
        st = state.step(step)
        if st.intent_open:
            raise InputError(
                f"step {step}: not skipped: a call was made and its result is unknown; "
                "resume it so verify() reads the real state first"
            )
        if st.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.RUNNING):
            raise InputError(f"step {step}: not skipped: it is {st.status}")
        record = journal.append(Kind.STEP_SKIPPED, {"step": step, "reason": reason, "by": by})
        _sign(journal, case_dir, trust, by, key, "skip")
        return record


def decline_approval(
    case_dir: Path, *, by: str, step: str, reason: str, trust: Trust | None = None, key: Path | None = None
) -> Record:
    """Journal that `by` declined the approval `step` waits for, and why (the step keeps waiting)."""
    if not reason.strip():
        raise InputError(f"declining step {step} needs a reason")
    if not by.strip():
        raise InputError(f"declining step {step} needs who declined it")
    with Journal(case_dir).open() as journal:
        state = _open_run(case_dir, journal.records)
        if state.step(step).status != StepStatus.AWAITING_APPROVAL:
            raise InputError(f"step {step}: nothing to decline: it is {state.step(step).status}")
        record = journal.append(Kind.APPROVAL_DECLINED, {"step": step, "by": by, "reason": reason})
        _sign(journal, case_dir, trust, by, key, "decline")
        return record


def _open_run(case_dir: Path, records: list[Record]) -> CaseState:
    """The case's state; CaseError when its run never started or already ended."""
    state = CaseState.replay(records)
    if state.run is None:
        raise CaseError(f"{case_dir}: journal has no run.started record")
    if state.run_status in (RunStatus.SUCCEEDED, RunStatus.ABORTED):
        raise CaseError(f"{case_dir.name}: the run already ended ({state.run_status})")
    return state


def _sign(journal: Journal, case_dir: Path, trust: Trust | None, by: str, key: Path | None, reason: str) -> None:
    """Checkpoint the head (trust: the workspace holding the case unless given)."""
    sign_head(journal, case_id_of(journal.records, case_dir), trust or case_trust(case_dir), by, key, reason)


def _step_ids(case_dir: Path) -> list[str]:
    """The steps of the case's pinned playbook, in order."""
    return [s.id for s in pinned_playbook(case_dir).playbook.steps]
