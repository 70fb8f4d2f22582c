"""The release gate: whether a release step (unpause, reconnect, lift a deny) may run, and on which decision.

A release runs on the approved reenable decision of one incident case (`decision.release_check`:
the case verifies completely, its latest decision is signed by the people it names and records
every criterion met). That decision is only about the agent the release acts on, and only about
that incident's containment: when the agent was contained again in a later case, the release
would lift that containment too, so each such later case must hold a releasing decision of its
own (it is named in the refusal otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ir.core.action import Registry
from ir.core.case import RecordedDecision
from ir.core.decision import release_check
from ir.core.journal import JOURNAL_FILE, Record, read
from ir.core.records import Kind
from ir.core.signing_trust import Trust


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
    """(case folder, start time) of each case of `agent` started after `since` that started a containment step.

    Read from the raw records (a case whose records do not parse still counts when it is about
    the agent), so one broken case cannot hide a containment.
    """
    found = []
    for folder in sorted(p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file() and p not in skip):
        records = read(folder / JOURNAL_FILE).records
        if not records or records[0].type != Kind.RUN_STARTED or records[0].ts <= since:
            continue
        about = records[0].data.get("agent")
        if isinstance(about, dict) and about.get("id") == agent and _contained(records, registry):
            found.append((folder, records[0].ts))
    return found


def _contained(records: Sequence[Record], registry: Registry) -> bool:
    """Whether the case started a step that takes something away (a release would undo it)."""
    for rec in records:
        action = registry.get(str(rec.data.get("action"))) if rec.type == Kind.STEP_STARTED else None
        inverse = registry.get(action.inverse) if action is not None and action.inverse else None
        if action is not None and (action.contains or (inverse is not None and inverse.releases)):
            return True
    return False


def _started_at(folder: Path) -> str:
    """When the case's run started (its first record's UTC timestamp; '' when it has none)."""
    records = read(folder / JOURNAL_FILE).records
    return records[0].ts if records else ""
