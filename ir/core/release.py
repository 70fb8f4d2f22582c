"""The release gate: whether a release step (unpause, reconnect, lift a deny) may run, and on which decision.

A release runs on the approved reenable decision of one incident case (`decision.release_check`:
the case verifies completely, its latest decision is signed by the people it names and records
every criterion met). That decision is only about the agent the release acts on, and only about
that incident's containment. A release lifts whatever holds the agent, so every other case that
contained the agent and that no successful release has undone since (one started after it, in
another case) must hold a releasing decision of its own; it is named in the refusal otherwise.
That covers the agent contained again after the incident, and an earlier containment nobody
released.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ir.core.action import Registry
from ir.core.case import RecordedDecision
from ir.core.decision import release_check
from ir.core.journal import JOURNAL_FILE, Record, read
from ir.core.records import Kind
from ir.core.signing_trust import Trust


@dataclass(frozen=True)
class AgentCase:
    """One case of the agent, as its raw records tell it."""

    folder: Path
    started: str
    """The UTC timestamp of its `run.started`."""
    contained: bool
    """It started a step that takes something away from the agent."""
    released: bool
    """A release step of it succeeded."""


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
    for other in open_containments(agent_cases(case_dir.parent, agent, registry), skip={folder, case_dir}):
        why, _ = release_check(other.folder, "", trust, agent=agent)
        if why:
            when = "again after" if other.started > since else "before"
            return (
                f"agent {agent} was contained {when} case {incident}, in case {other.folder.name} (started "
                f"{other.started}), and no release has undone it since; a decision on case {incident} does not "
                f"release that containment: {why}"
            ), None
    return None, decision


def open_containments(cases: Sequence[AgentCase], *, skip: set[Path]) -> list[AgentCase]:
    """The containment cases (but `skip`) after which no other case (but `skip`) ran a successful release."""
    found = []
    for index, case in enumerate(cases):
        if case.folder in skip or not case.contained:
            continue
        if not any(c.released and c.folder not in skip for c in cases[index + 1 :]):
            found.append(case)
    return found


def agent_cases(cases_dir: Path, agent: str, registry: Registry) -> list[AgentCase]:
    """Every case of `agent` under `cases_dir`, oldest first.

    Read from the raw records (a case whose records do not parse still counts when it is about
    the agent), so one broken case cannot hide a containment.
    """
    found = []
    for folder in (p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file()):
        records = read(folder / JOURNAL_FILE).records
        if not records or records[0].type != Kind.RUN_STARTED:
            continue
        about = records[0].data.get("agent")
        if isinstance(about, dict) and about.get("id") == agent:
            contained, released = _effects(records, registry)
            found.append(AgentCase(folder, records[0].ts, contained, released))
    return sorted(found, key=lambda c: (c.started, c.folder.name))


def _effects(records: Sequence[Record], registry: Registry) -> tuple[bool, bool]:
    """(started a containment step, a release step succeeded) for one case's records."""
    actions: dict[str, str] = {}
    contained = released = False
    for rec in records:
        step = str(rec.data.get("step"))
        if rec.type == Kind.STEP_STARTED:
            actions[step] = str(rec.data.get("action"))
            action = registry.get(actions[step])
            inverse = registry.get(action.inverse) if action is not None and action.inverse else None
            contained |= action is not None and (action.contains or (inverse is not None and inverse.releases))
        elif rec.type == Kind.STEP_RESULT and rec.data.get("status") == "succeeded":
            action = registry.get(actions.get(step, ""))
            released |= action is not None and action.releases
    return contained, released


def _started_at(folder: Path) -> str:
    """When the case's run started (its first record's UTC timestamp; '' when it has none)."""
    records = read(folder / JOURNAL_FILE).records
    return records[0].ts if records else ""
