"""A case: one incident's folder, and the state of its run as replayed from the journal.

The journal is the only source of truth; `CaseState` is derived from it and never stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ir.core.errors import CaseError, JournalError
from ir.core.journal import JOURNAL_FILE, Record, is_open, read
from ir.core.playbook import LoadedPlaybook, parse_playbook

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


@dataclass
class StepState:
    """A step's state as the journal tells it."""

    status: StepStatus = StepStatus.PENDING
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    intent_open: bool = False
    attempts: int = 0


@dataclass
class CaseState:
    """Everything the journal says about a case's run."""

    case_id: str = ""
    started: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, StepState] = field(default_factory=dict)
    approvals: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    unavailable: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    aborted: str | None = None
    """Who aborted the run and why, once someone has."""
    run_status: RunStatus = RunStatus.RUNNING
    head: tuple[int, str] = (0, "")

    def step(self, step_id: str) -> StepState:
        """State of one step (pending when the journal never mentions it)."""
        return self.steps.setdefault(step_id, StepState())

    def apply(self, rec: Record) -> None:
        """Fold one journal record into the state."""
        data, kind = rec.data, rec.type
        self.head = (rec.seq, rec.hash)
        step_id = data.get("step")
        if kind == "run.started":
            self.started = dict(data)
            self.case_id = str(data.get("case", ""))
            self.run_status = RunStatus.RUNNING
        elif kind == "run.resumed":
            self.run_status = RunStatus.RUNNING
        elif kind == "step.started" and step_id:
            st = self.step(step_id)
            st.status, st.attempts = StepStatus.RUNNING, int(data.get("attempt", st.attempts + 1))
        elif kind == "step.intent" and step_id:
            self.step(step_id).intent_open = True
            if "prior" in data and step_id not in self.priors:
                self.priors[step_id] = dict(data["prior"])
        elif kind == "step.result" and step_id:
            st = self.step(step_id)
            st.status = StepStatus(data["status"])
            st.outputs = dict(data.get("outputs") or {})
            st.error = data.get("error")
            st.intent_open = False
        elif kind == "step.skipped" and step_id:
            self.step(step_id).status = StepStatus.SKIPPED
        elif kind == "approval.waiting" and step_id:
            self.step(step_id).status = StepStatus.AWAITING_APPROVAL
        elif kind == "approval.granted" and step_id:
            self.approvals[step_id] = str(data.get("by", ""))
            self.step(step_id).status = StepStatus.PENDING
        elif kind == "override" and step_id:
            self.overrides[step_id] = str(data.get("reason", ""))
        elif kind == "evidence.added":
            self.evidence.append(dict(data))
        elif kind == "decision":
            self.decisions.append({**data, "seq": rec.seq, "hash": rec.hash})
        elif kind == "followup":
            item = {k: data.get(k) for k in ("step", "what", "owner", "why")}
            self.follow_ups = [f for f in self.follow_ups if f["what"] != item["what"]] + [item]
        elif kind == "evidence.unavailable":
            self.unavailable.append(dict(data))
        elif kind == "run.finished":
            self.run_status = RunStatus(data["status"])
        elif kind == "run.interrupted":
            self.run_status = RunStatus.INTERRUPTED
        elif kind == "run.aborted":
            self.run_status = RunStatus.ABORTED
            self.aborted = f"by {data.get('by')}: {data.get('reason')}"

    @classmethod
    def replay(cls, records: list[Record]) -> CaseState:
        """The state after every record, in order."""
        state = cls()
        for rec in records:
            state.apply(rec)
        return state


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
        pinned = state.started.get("playbook", {}).get("sha256")
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
        if state.started.get("agent", {}).get("id") != agent_id:
            continue
        if "incident" in (state.started.get("params") or {}):
            if state.run_status == RunStatus.SUCCEEDED:
                status, because = "active", path.name
            continue
        status, because = "contained", path.name
        for decision in state.decisions:
            if decision.get("decision") == "keep-disabled":
                status = "disabled"
            elif decision.get("decision") == "decommission":
                status = "decommissioned"
    return status, because
