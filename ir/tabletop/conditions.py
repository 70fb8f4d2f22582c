"""Whether a scenario condition holds in an exercise's sandbox, and the evidence that says so.

The vocabulary (`ir.tabletop.scenario`): `contained(AGENT)`, `frozen(AGENT)`, `revoked(AGENT)`,
`case_open(AGENT)`, `decided(AGENT)`, `delivered(INJECT)`. Case facts come from the sandbox's
case journals (through the one journal reader, `CaseState`, and the report's `case_times`, so
"contained" means here what it means in `ir report`); world facts from the simulated world's
state. The runtime asks it for `unless` and `end.when`; scoring asks it for world expectations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.core.case import list_cases, pinned_playbook
from ir.core.case_state import CaseState
from ir.core.errors import InputError, IrError
from ir.core.inventory import Agent
from ir.core.journal import JOURNAL_FILE, read
from ir.core.minting import walk
from ir.core.records import Kind
from ir.report.times import case_times
from ir.tabletop.sandbox import Sandbox
from ir.tabletop.scenario import CONDITION


@dataclass(frozen=True)
class Evidence:
    """What decided a condition: one line, and the journal records it rests on."""

    text: str
    """One line, e.g. `case 2026…-support-bot-…: freeze, keys, sessions succeeded`."""
    records: tuple[tuple[str, int], ...] = ()
    """(journal path relative to the exercise folder, seq) of each record it rests on."""

    def __str__(self) -> str:
        return self.text


def holds(condition: str, sandbox: Sandbox) -> tuple[bool, Evidence]:
    """Whether `condition` holds in `sandbox` now, and why."""
    match = CONDITION.match(condition.strip())
    if not match:
        raise InputError(
            f"{condition!r} is not a condition (contained, frozen, revoked, case_open, decided, delivered)"
        )
    name, subject = match.group(1), match.group(2)
    if name == "delivered":
        return _delivered(sandbox, subject)
    agent = _agent(sandbox, subject)
    if name == "frozen":
        return _frozen(sandbox, agent)
    if name == "revoked":
        return _revoked(sandbox, agent)
    return _from_cases(sandbox, agent, name)


def _agent(sandbox: Sandbox, agent_id: str) -> Agent:
    ws = sandbox.workspace()
    return ws.inventory.get(agent_id, str(ws.inventory_path))


def _rel(sandbox: Sandbox, path: Path) -> str:
    try:
        return str(path.relative_to(sandbox.folder))
    except ValueError:
        return str(path)


def _delivered(sandbox: Sandbox, inject: str) -> tuple[bool, Evidence]:
    record = sandbox.delivered().get(inject)
    if record is None:
        return False, Evidence(f"inject {inject} not delivered")
    at = record.data.get("exercise_s")
    return True, Evidence(f"inject {inject} delivered at {at}s", ((_rel(sandbox, sandbox.journal_path), record.seq),))


def _cases(sandbox: Sandbox, agent: Agent) -> list[tuple[Path, CaseState]]:
    """The agent's cases, oldest first."""
    ws = sandbox.workspace()
    found = [(p, s) for p, s in list_cases(ws.cases_dir, unreadable=[]) if s.run and s.run.agent_id == agent.id]
    return sorted(found, key=lambda item: item[0].name)


def _from_cases(sandbox: Sandbox, agent: Agent, name: str) -> tuple[bool, Evidence]:
    cases = _cases(sandbox, agent)
    if not cases:
        return False, Evidence(f"no case for {agent.id}")
    if name == "case_open":
        path, _state = cases[0]
        where = _rel(sandbox, path / JOURNAL_FILE)
        return True, Evidence(f"case {path.name} is about {agent.id}", ((where, 1),))
    if name == "decided":
        for path, state in reversed(cases):
            if state.decisions:
                last = state.decisions[-1]
                text = f"case {path.name}: decision {last.decision} by {last.by}"
                return True, Evidence(text, ((_rel(sandbox, path / JOURNAL_FILE), int(last.seq)),))
        return False, Evidence(f"no decision in the {len(cases)} case(s) of {agent.id}")
    for path, state in cases:  # contained
        records = read(path / JOURNAL_FILE).records
        try:
            steps = _steps(path, state)
        except IrError:
            continue
        times = case_times(records, steps)
        if times.contained is not None:
            seq = next((r.seq for r in records if r.ts == times.contained and r.type == Kind.STEP_RESULT), 0)
            text = f"case {path.name}: freeze, keys and sessions succeeded at {times.contained}"
            return True, Evidence(text, ((_rel(sandbox, path / JOURNAL_FILE), seq),))
    return False, Evidence(f"none of the {len(cases)} case(s) of {agent.id} has freeze, keys and sessions succeeded")


_STEPS: dict[tuple[Path, str], list[tuple[str, str]]] = {}


def _steps(case_dir: Path, state: CaseState) -> list[tuple[str, str]]:
    """(step id, action) of the case's pinned playbook (parsed once per case and pin: it never changes)."""
    key = (case_dir, state.run.playbook.sha256 if state.run else "")
    if key not in _STEPS:
        _STEPS[key] = [(s.id, s.action) for s in pinned_playbook(case_dir, state).playbook.steps]
    return _STEPS[key]


def _container(world: Mapping[str, Any], ref: str) -> dict[str, Any] | None:
    for container in (world.get("containers") or {}).values():
        if ref in (container.get("name"), container.get("id")):
            found: dict[str, Any] = container
            return found
    return None


def _frozen(sandbox: Sandbox, agent: Agent) -> tuple[bool, Evidence]:
    if agent.container is None:
        return False, Evidence(f"{agent.id} has no container")
    ref = agent.container.ref
    container = _container(sandbox.world_state(), ref)
    if container is None:
        return False, Evidence(f"container {ref} of {agent.id} is not in the world")
    status = str(container.get("status"))
    return status in ("paused", "exited"), Evidence(f"container {ref} is {status}")


def agent_users(agent: Agent) -> tuple[set[str], set[str]]:
    """(IAM users, IAM roles) the inventory gives the agent."""
    users: set[str] = set()
    roles: set[str] = set()
    for credential in agent.credentials:
        extra = credential.model_extra or {}
        if credential.type == "aws.iam_user" and extra.get("user_name"):
            users.add(str(extra["user_name"]))
        elif credential.type == "aws.iam_role" and extra.get("role_name"):
            roles.add(str(extra["role_name"]))
    return users, roles


def _revoked(sandbox: Sandbox, agent: Agent) -> tuple[bool, Evidence]:
    world = sandbox.world_state()
    users, roles = agent_users(agent)
    if not users:
        return False, Evidence(f"{agent.id} has no IAM user: nothing to revoke")
    trail = [r for r in world.get("cloudtrail") or [] if isinstance(r, dict)]
    minted = walk(trail, users, roles)
    everyone = sorted(users | set(minted["users"]))
    iam_users = (world.get("iam") or {}).get("users") or {}
    active = [
        f"{user}:{key.get('key_id')}"
        for user in everyone
        for key in (iam_users.get(user) or {}).get("access_keys") or []
        if key.get("status") != "Inactive"
    ]
    count = sum(len((iam_users.get(u) or {}).get("access_keys") or []) for u in everyone)
    minted_note = f" (minted users: {', '.join(minted['users'])})" if minted["users"] else ""
    if active:
        return False, Evidence(f"still Active: {', '.join(active)}{minted_note}")
    return True, Evidence(f"all {count} access key(s) of {', '.join(everyone)} Inactive{minted_note}")
