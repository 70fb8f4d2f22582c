"""Verbs for after the incident: read what the incident case recorded, and note manual work.

`incident.read` hands a re-enable playbook what containment changed (the networks the container
was cut from, the keys deactivated, the principals the agent minted) and the approved decision.
It finds those steps by the action they ran in the incident's pinned playbook, never by their
ids, so a team's own containment playbook with other step names is read the same way.
`manual.follow_up` records a task a person must do, with its owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ir.core.action import Action, ActionParams, Check, Plan, StepContext
from ir.core.case import load_state, pinned_playbook, steps_running
from ir.core.decision import Decision, approved
from ir.core.errors import CaseError
from ir.core.release import release_refusal


class IncidentParams(ActionParams):
    """Which incident case."""

    incident: str
    """The incident's case id (folder name under the workspace's cases)."""


class ReadIncident(Action[IncidentParams]):
    """Read the incident case: its approved decision and what containment changed."""

    name = "incident.read"
    summary = "Read an incident case: its approved decision, the networks cut, the keys deactivated."
    Params = IncidentParams
    mutates = False

    def _folder(self, ctx: StepContext, params: IncidentParams) -> Path:
        cases = ctx.case_dir.parent if ctx.case_dir else ctx.workspace / "cases"
        folder = cases / params.incident
        if not (folder / "journal.jsonl").is_file():
            raise CaseError(f"{folder}: no such incident case")
        return folder

    def plan(self, ctx: StepContext, params: IncidentParams) -> Plan:
        from ir.actions import default_registry
        from ir.core.signing_trust import workspace_trust
        from ir.core.workspace import find_workspace

        folder = self._folder(ctx, params)
        trust = workspace_trust(find_workspace(ctx.workspace))
        refusal, _ = release_refusal(folder, "", ctx.agent.id, trust, default_registry())
        note = (
            f"verifies and has an approved reenable decision for {ctx.agent.id}, signed by those it names"
            if refusal is None
            else f"release refused: {refusal}"
        )
        return Plan(notes=(f"case {params.incident} {note}",))

    def execute(self, ctx: StepContext, params: IncidentParams) -> Mapping[str, Any]:
        folder = self._folder(ctx, params)
        state = load_state(folder)
        if state.agent_id != ctx.agent.id:
            raise CaseError(f"case {params.incident} is about agent {state.agent_id}, not {ctx.agent.id}")
        loaded = pinned_playbook(folder, state)

        def outputs(action: str) -> list[dict[str, Any]]:
            return [state.step(sid).outputs for sid in steps_running(loaded, action)]

        deactivated: dict[str, list[str]] = {}
        for out in outputs("credentials.deactivate_keys"):
            for user, keys in (out.get("deactivated") or {}).items():
                deactivated.setdefault(user, []).extend(keys)
        networks = [net for out in outputs("container.isolate_network") for net in out.get("networks") or []]
        minted = [user for out in outputs("credentials.find_minted") for user in out.get("users") or []]
        decision = approved(state, Decision.REENABLE)
        return {
            "case": params.incident,
            "networks": networks,
            "deactivated": deactivated,
            "minted_users": list(dict.fromkeys(minted)),
            "decision": {
                "by": decision.by,
                "approved_by": decision.approved_by,
                "reason": decision.reason,
                "seq": decision.seq,
            }
            if decision
            else None,
        }

    def verify(self, ctx: StepContext, params: IncidentParams) -> Check:
        return Check(False, "reads only: read again")


class FollowUpParams(ActionParams):
    """A task for a person."""

    what: str
    """What must be done."""
    owner: str = ""
    """Who does it (default: the agent's owner)."""
    why: str = ""
    """Why it cannot be done automatically."""


class FollowUp(Action[FollowUpParams]):
    """Record a follow-up: work for a person, listed in the run summary with its owner."""

    name = "manual.follow_up"
    summary = "Record a task a person must do, with its owner; listed in the run summary."
    Params = FollowUpParams
    mutates = False

    def plan(self, ctx: StepContext, params: FollowUpParams) -> Plan:
        return Plan(notes=(f"follow-up for {params.owner or ctx.agent.owner}: {params.what}",))

    def execute(self, ctx: StepContext, params: FollowUpParams) -> Mapping[str, Any]:
        owner = params.owner or ctx.agent.owner
        ctx.follow_up(params.what, owner, params.why or "manual step")
        return {"what": params.what, "owner": owner}

    def verify(self, ctx: StepContext, params: FollowUpParams) -> Check:
        return Check(False, "record again (follow-ups are deduplicated by what)")
