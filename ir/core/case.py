"""A case: one incident's folder (`cases/<id>/`), its pinned playbook, and its state from the journal.

The reader itself (`CaseState`, the step and run statuses) lives in `ir.core.case_state` and is
imported from here too.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from ir.core.case_state import TERMINAL, CaseState, RecordedDecision, RunStatus, StepState, StepStatus
from ir.core.errors import CaseError, IrError, JournalError
from ir.core.journal import JOURNAL_FILE, is_open, read
from ir.core.playbook import LoadedPlaybook, parse_playbook

__all__ = [
    "PLAYBOOK_FILE",
    "TERMINAL",
    "CaseState",
    "RecordedDecision",
    "RunStatus",
    "StepState",
    "StepStatus",
    "agent_status",
    "list_cases",
    "load_state",
    "new_case_id",
    "pinned_playbook",
    "resolve_case",
    "steps_running",
]

PLAYBOOK_FILE = "playbook.yaml"


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


def list_cases(cases_dir: Path, unreadable: list[str] | None = None) -> list[tuple[Path, CaseState]]:
    """Every case under `cases_dir` with its replayed state, newest first.

    With `unreadable`, a case whose journal cannot be replayed (a hostile or damaged record) is
    left out and named there in one line, so one bad case does not hide all the others; without
    it, its error is raised.
    """
    if not cases_dir.is_dir():
        return []
    found = [p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file()]
    listed = []
    for path in sorted(found, reverse=True):
        try:
            listed.append((path, load_state(path)))
        except (IrError, OSError, ValueError) as exc:  # ValueError: a status no enum knows (a hostile record)
            if unreadable is None:
                raise
            why = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
            unreadable.append(f"{path.name}: cannot be read, left out: {why} (ir verify {path.name})")
    return listed


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
