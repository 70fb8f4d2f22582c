"""The release gate: whether a release step (unpause, reconnect, lift a deny) may run, and on which decision.

A release runs on the approved reenable decision of one incident case (`decision.release_check`:
the case verifies completely, its latest decision is signed by the people it names and records
every criterion met). That decision is only about the agent the release acts on, and only about
that incident's containment: when the agent was contained again in a later case, the release
would lift that containment too, so each such later case must hold a releasing decision of its
own (it is named in the refusal otherwise).
"""

from __future__ import annotations

from pathlib import Path

from ir.core.action import Registry
from ir.core.case import CaseState, RecordedDecision, StepStatus
from ir.core.decision import release_check
from ir.core.journal import JOURNAL_FILE, read
from ir.core.signing_trust import Trust

NOT_REACHED = frozenset({StepStatus.PENDING, StepStatus.AWAITING_APPROVAL, StepStatus.SKIPPED})


def release_refusal(
    case_dir: Path, incident: str, agent: str, trust: Trust | None, registry: Registry
) -> tuple[str | None, RecordedDecision | None]:
    """(why a release of `agent` from case `case_dir` may not run, the decision it runs on)."""
    refusal, decision = release_check(case_dir, incident, trust, agent=agent)
    if refusal:
        return refusal, None
    incident = incident or case_dir.name
    folder = case_dir.parent / incident
    since = _started_at(folder)
    for later, started in later_containments(case_dir.parent, agent, since, registry, skip={folder, case_dir}):
        why, _ = release_check(later, "", trust, agent=agent)
        if why:
            return (
                f"agent {agent} was contained again after case {incident}, in case {later.name} (started "
                f"{started}); a decision on case {incident} does not release that containment: {why}"
            ), None
    return None, decision


def later_containments(
    cases_dir: Path, agent: str, since: str, registry: Registry, *, skip: set[Path]
) -> list[tuple[Path, str]]:
    """(case folder, start time) of each case of `agent` started after `since` that ran a containment step."""
    found = []
    for folder in sorted(p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file() and p not in skip):
        records = read(folder / JOURNAL_FILE).records
        started = records[0].ts if records else ""
        state = CaseState.replay(records)
        if state.agent_id == agent and started > since and _contained(state, registry):
            found.append((folder, started))
    return found


def _contained(state: CaseState, registry: Registry) -> bool:
    """Whether the case reached a step that takes something away (a release would undo it)."""
    for st in state.steps.values():
        action = registry.get(st.action) if st.action else None
        if action is None or st.status in NOT_REACHED:
            continue
        inverse = registry.get(action.inverse) if action.inverse else None
        if action.contains or (inverse is not None and inverse.releases):
            return True
    return False


def _started_at(folder: Path) -> str:
    """When the case's run started (its first record's UTC timestamp; '' when it has none)."""
    records = read(folder / JOURNAL_FILE).records
    return records[0].ts if records else ""
