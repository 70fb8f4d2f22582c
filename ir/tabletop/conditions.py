"""Whether a scenario condition holds in an exercise, and the evidence that says so — the one
evaluator: the runtime asks it for `unless` and `end.when` (on the live sandbox), scoring for
world expectations (on the exercise as it ended).

    contained(AGENT)   a case of the agent has freeze, keys and sessions all succeeded
                       (`ir.report.times.case_times`: what `ir cases --metrics` and `ir report` call it)
    frozen(AGENT)      the agent's container is paused or stopped in the simulated world
    revoked(AGENT)     every access key of the agent's IAM users is Inactive, and of every user it
                       minted: the world's CloudTrail walked to a fixed point by `ir.core.minting`,
                       exactly as `credentials.find_minted` walks it
    case_open(AGENT)   a case exists for the agent
    decided(AGENT)     a `decision` record in a case of the agent
    delivered(INJECT)  an `inject.delivered` record for it

Everything is read through `ir.tabletop.played` (the exercise journal, the sandbox's case journals
through the one journal reader, the simulated world's state), so the runtime and the score can
never disagree on what a condition means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ir.core.errors import InputError
from ir.core.inventory import Agent
from ir.core.minting import walk
from ir.core.records import Kind
from ir.report.times import case_times
from ir.tabletop.played import Evidence, Played, at_text, load_played
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.sandbox import JOURNAL_FILE, Sandbox
from ir.tabletop.scenario import CONDITION

STOPPED = frozenset({"paused", "exited", "stopped"})
"""Container states that count as frozen (paused keeps memory; exited has lost it, but acts no more)."""


@dataclass(frozen=True)
class Finding:
    """Why a condition holds or not: one line, and the records or state it rests on."""

    text: str
    """One line, e.g. `case 2026…-support-bot-…: freeze, keys and sessions succeeded at …`."""
    evidence: tuple[Evidence, ...] = ()

    def __str__(self) -> str:
        return self.text


def holds(condition: str, exercise: Sandbox | Played) -> tuple[bool, Finding]:
    """Whether `condition` holds in the exercise now (a sandbox is read as it stands), and why."""
    match = CONDITION.match(condition.strip())
    if match is None:
        raise InputError(
            f"{condition!r} is not a condition (contained, frozen, revoked, case_open, decided, delivered)"
        )
    p = load_played(exercise) if isinstance(exercise, Sandbox) else exercise
    name, subject = match.groups()
    if name == "delivered":
        return _delivered(subject, p)
    if name == "case_open":
        return _case_open(subject, p)
    if name == "decided":
        return _decided(subject, p)
    if name == "contained":
        return _contained(subject, p)
    agent = p.agent(subject)
    if agent is None:
        return False, Finding(f"{subject} is not an agent of the exercise's sandbox")
    if name == "frozen":
        return _frozen(agent, p)
    return _revoked(agent, p)


def _delivered(inject: str, p: Played) -> tuple[bool, Finding]:
    rec = p.delivered(inject)
    if rec is None:
        return False, Finding(f"{inject} was not delivered")
    ev = Evidence(file=JOURNAL_FILE, seq=rec.seq, what=f"{K.INJECT_DELIVERED} {inject}")
    return True, Finding(f"{inject} delivered at {rec.data.get('exercise_s')}s", (ev,))


def _case_open(agent: str, p: Played) -> tuple[bool, Finding]:
    cases = p.cases_of(agent)
    if not cases:
        return False, Finding(f"no case for {agent}")
    first = cases[0]
    return True, Finding(f"case {first.id} is about {agent}", (Evidence(file=first.file, seq=1, what="run.started"),))


def _decided(agent: str, p: Played) -> tuple[bool, Finding]:
    cases = p.cases_of(agent)
    for case in cases:
        rec = next((r for r in case.records if r.type == Kind.DECISION), None)
        if rec is not None:
            text = f"case {case.id}: decision {rec.data.get('decision')} by {rec.data.get('by')}"
            return True, Finding(text, (Evidence(file=case.file, seq=rec.seq, what="decision"),))
    return False, Finding(f"no decision in the {len(cases)} case(s) of {agent}")


def _contained(agent: str, p: Played) -> tuple[bool, Finding]:
    cases = p.cases_of(agent)
    if not cases:
        return False, Finding(f"no case for {agent}")
    for case in cases:
        when = case_times(case.records, case.steps).contained
        if when is not None:
            rec = next(r for r in reversed(case.records) if r.ts == when)
            text = f"case {case.id}: freeze, keys and sessions succeeded at {at_text(p.clock.exercise_seconds(when))}"
            return True, Finding(text, (Evidence(file=case.file, seq=rec.seq, what="containment complete"),))
    return False, Finding(f"none of the {len(cases)} case(s) of {agent} has freeze, keys and sessions all succeeded")


def _frozen(agent: Agent, p: Played) -> tuple[bool, Finding]:
    if agent.container is None:
        return False, Finding(f"{agent.id} has no container")
    ref = agent.container.ref
    containers: dict[str, Any] = p.world.get("containers") or {}
    found = containers.get(ref) or next((c for c in containers.values() if ref in (c.get("name"), c.get("id"))), None)
    if found is None:
        return False, Finding(f"container {ref} of {agent.id} is not in the simulated world")
    status = str(found.get("status"))
    ev = Evidence(file=p.world_file, what=f"container {ref}: {status}")
    return status in STOPPED, Finding(f"container {ref} is {status}", (ev,))


def agent_principals(agent: Agent) -> tuple[set[str], set[str]]:
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


def minted_users(agent: Agent, p: Played) -> tuple[set[str], list[str]]:
    """(the agent's IAM users and every user it minted, the minted ones alone): `ir.core.minting.walk`
    over the simulated world's CloudTrail, as `credentials.find_minted` reads a real one."""
    users, roles = agent_principals(agent)
    trail = [r for r in p.world.get("cloudtrail") or [] if isinstance(r, dict)]
    minted: list[str] = walk(trail, users, roles)["users"]
    return users | set(minted), minted


def _revoked(agent: Agent, p: Played) -> tuple[bool, Finding]:
    everyone, minted = minted_users(agent, p)
    if not everyone:
        return False, Finding(f"{agent.id} has no IAM user: nothing to revoke")
    iam: dict[str, Any] = (p.world.get("iam") or {}).get("users") or {}
    keys = [(u, k) for u in sorted(everyone) for k in (iam.get(u) or {}).get("access_keys") or []]
    live = [f"{k.get('key_id')} of {u} is {k.get('status')}" for u, k in keys if k.get("status") != "Inactive"]
    minted_note = f" (minted: {', '.join(minted)})" if minted else ""
    if live:
        text = "; ".join(live)
        return False, Finding(text, (Evidence(file=p.world_file, what=text), *_undone(agent.id, p)))
    text = f"all {len(keys)} access key(s) of {', '.join(sorted(everyone))} Inactive{minted_note}"
    return True, Finding(text, (Evidence(file=p.world_file, what=text),))


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
