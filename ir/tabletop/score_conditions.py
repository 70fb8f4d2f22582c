"""Whether a scenario condition holds on an exercise's sandbox, with the record or state that says so.

The smallest private version of the condition evaluator scoring needs (the runtime's `holds` is
the one to keep); it reads the same things the runtime does:

    contained(AGENT)   a case of the agent has freeze, keys and sessions all succeeded (`case_times`,
                       the definition `ir cases --metrics` uses)
    frozen(AGENT)      the agent's container is paused or stopped in the simulated world
    revoked(AGENT)     every access key of the agent's IAM users is Inactive, and of the users the
                       exercise's world changes minted with them (`mint_key`, `create_user` whose
                       `by` is one of those users or keys, or names nobody), followed to a fixed point
    case_open(AGENT)   a case exists for the agent
    decided(AGENT)     a `decision` record in a case of the agent
    delivered(INJECT)  an `inject.delivered` record for it
"""

from __future__ import annotations

from typing import Any

from ir.core.records import Kind
from ir.report.times import case_times
from ir.tabletop.played import DELIVERED, EXERCISE_JOURNAL, Evidence, Played
from ir.tabletop.scenario import CONDITION

STOPPED = frozenset({"paused", "exited", "stopped"})
"""Container states that count as frozen (paused keeps memory; exited has lost it, but acts no more)."""


def holds(condition: str, p: Played) -> tuple[bool, str, list[Evidence]]:
    """(whether it holds, one line why, evidence)."""
    match = CONDITION.match(condition.strip())
    if match is None:
        return False, f"{condition!r} is not a condition", []
    name, arg = match.groups()
    if name == "delivered":
        rec = p.delivered(arg)
        if rec is None:
            return False, f"{arg} was not delivered", []
        return True, f"{arg} delivered", [Evidence(file=EXERCISE_JOURNAL, seq=rec.seq, what=f"{DELIVERED} {arg}")]
    cases = p.cases_of(arg)
    if name == "case_open":
        if not cases:
            return False, f"no case for {arg}", []
        first = cases[0]
        return True, f"case {first.id}", [Evidence(file=first.file, seq=1, what="run.started")]
    if name == "decided":
        for case in cases:
            rec = next((r for r in case.records if r.type == Kind.DECISION), None)
            if rec is not None:
                return (
                    True,
                    f"{rec.data.get('decision')} in {case.id}",
                    [Evidence(file=case.file, seq=rec.seq, what="decision")],
                )
        return False, f"no decision for {arg}", []
    if name == "contained":
        for case in cases:
            when = case_times(case.records, case.steps).contained
            if when is not None:
                rec = next(r for r in reversed(case.records) if r.ts == when)
                return (
                    True,
                    f"{case.id} contained",
                    [Evidence(file=case.file, seq=rec.seq, what="containment complete")],
                )
        return False, f"no case of {arg} has freeze, keys and sessions all succeeded", []
    if name == "frozen":
        return _frozen(arg, p)
    return _revoked(arg, p)


def _world_file(p: Played) -> str:
    return p.rel(p.workspace.path(p.workspace.settings.simulated.state))


def _frozen(agent_id: str, p: Played) -> tuple[bool, str, list[Evidence]]:
    agent = p.agent(agent_id)
    if agent is None or agent.container is None:
        return False, f"{agent_id} has no container in the sandbox inventory", []
    containers: dict[str, Any] = p.world.get("containers") or {}
    ref = agent.container.ref
    found = containers.get(ref) or next((c for c in containers.values() if c.get("id") == ref), None)
    if found is None:
        return False, f"container {ref} is not in the simulated world", []
    status = str(found.get("status"))
    ev = [Evidence(file=_world_file(p), what=f"container {ref}: {status}")]
    return status in STOPPED, f"container {ref} is {status}", ev


def minted_users(agent_id: str, p: Played) -> tuple[set[str], set[str]]:
    """(IAM users, access keys) the agent holds, and what the exercise's world changes minted with them."""
    agent = p.agent(agent_id)
    users = {str((c.model_extra or {}).get("user_name")) for c in (agent.credentials if agent else ())}
    users = {u for u in users if u != "None"}
    world_users: dict[str, Any] = (p.world.get("iam") or {}).get("users") or {}
    keys = {str(k.get("key_id")) for u in users for k in (world_users.get(u) or {}).get("access_keys") or []}
    changes = [
        c
        for rec in p.of(DELIVERED)
        for c in ((rec.data.get("details") or {}).get("world") or [])
        if isinstance(c, dict) and c.get("op") in ("mint_key", "create_user") and c.get("user")
    ]
    grew = True
    while grew:
        grew = False
        for c in changes:
            by = c.get("by")
            if (by is None or by in users or by in keys) and (
                c["user"] not in users or (c.get("key") or "") not in keys
            ):
                before = (len(users), len(keys))
                users.add(str(c["user"]))
                if c.get("key"):
                    keys.add(str(c["key"]))
                grew = grew or (len(users), len(keys)) != before
    return users, keys


def _revoked(agent_id: str, p: Played) -> tuple[bool, str, list[Evidence]]:
    users, _keys = minted_users(agent_id, p)
    if not users:
        return True, f"{agent_id} holds no IAM user", []
    world_users: dict[str, Any] = (p.world.get("iam") or {}).get("users") or {}
    live = [
        f"{k.get('key_id')} of {u} is {k.get('status')}"
        for u in sorted(users)
        for k in (world_users.get(u) or {}).get("access_keys") or []
        if k.get("status") != "Inactive"
    ]
    counted = sum(len((world_users.get(u) or {}).get("access_keys") or []) for u in users)
    if live:
        return False, "; ".join(live), [Evidence(file=_world_file(p), what="; ".join(live)), *_undone(agent_id, p)]
    what = f"{counted} access key(s) of {', '.join(sorted(users))} Inactive"
    return True, what, [Evidence(file=_world_file(p), what=what)]


def _undone(agent_id: str, p: Played) -> list[Evidence]:
    """The agent's key-deactivation steps a person skipped, or that failed: why a key is still live."""
    found = []
    for case in p.cases_of(agent_id):
        for rec in case.records:
            step = str(rec.data.get("step", ""))
            if case.action_of(step) != "credentials.deactivate_keys":
                continue
            if rec.type == Kind.STEP_SKIPPED and rec.data.get("by"):
                what = f"{step} skipped by {rec.data.get('by')}: {rec.data.get('reason') or 'no reason given'}"
                found.append(Evidence(file=case.file, seq=rec.seq, what=what))
            elif rec.type == Kind.STEP_RESULT and rec.data.get("status") != "succeeded":
                found.append(Evidence(file=case.file, seq=rec.seq, what=f"{step} {rec.data.get('status')}"))
    return found
