"""`credentials.rotate_secrets`: rotate every Secrets Manager secret the agent could read.

Each secret gets a ClientRequestToken derived from the case, step and secret, so a retry or a
resume after a crash finds the version it already made instead of rotating twice. A secret with
rotation configured is rotated by its own rotation; otherwise a new random version becomes
current, and a follow-up says the old value may still work wherever it was issued.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ir.actions.credentials import for_each, inventory_secrets
from ir.core.action import Action, ActionParams, Change, Check, Plan, StepContext


class SecretParams(ActionParams):
    """Which secrets: the agent's `aws.secret` credentials, plus any named here."""

    secrets: list[str] = Field(default_factory=list)
    """Secret ids or ARNs to rotate besides the inventory's."""
    inventory: bool = True
    """Also rotate the agent's `aws.secret` credentials from the inventory."""


def secret_ids(ctx: StepContext, params: SecretParams) -> list[str]:
    """Every secret the step acts on, inventory first, without repeats."""
    found = inventory_secrets(ctx) if params.inventory else []
    return list(dict.fromkeys(found + params.secrets))


def token_for(ctx: StepContext, secret_id: str) -> str:
    """The fixed ClientRequestToken of this case, step and secret (a UUID: 36 characters)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"agent-ir:{ctx.case_id}:{ctx.step_id}:{secret_id}"))


class RotateSecrets(Action[SecretParams]):
    """Rotate the agent's secrets once per case, safely across retries and resumes."""

    name = "credentials.rotate_secrets"
    summary = "Rotate the agent's Secrets Manager secrets (configured rotation, else a new random version)."
    Params = SecretParams

    def plan(self, ctx: StepContext, params: SecretParams) -> Plan:
        cloud, changes = ctx.credentials(), []
        for sid in secret_ids(ctx, params):
            state = cloud.secret(sid)
            how = "rotation" if state.rotation_enabled else "new random version"
            changes.append(Change(f"aws.secret:{sid}", "AWSCURRENT version", state.current, f"new ({how})"))
        return Plan(tuple(changes))

    def execute(self, ctx: StepContext, params: SecretParams) -> Mapping[str, Any]:
        cloud, rotated = ctx.credentials(), {}

        def rotate(_kind: Any, sid: str) -> None:
            token = token_for(ctx, sid)
            state = cloud.secret(sid)
            if token in state.versions:
                ctx.output(f"aws.secret:{sid} already has this case's version {token}: not rotated again")
            elif state.rotation_enabled:
                cloud.rotate_secret(sid, token)
                ctx.output(f"started rotation of aws.secret:{sid} (version {token})")
            else:
                cloud.put_random_secret_version(sid, token)
                ctx.output(f"replaced aws.secret:{sid} with a random value (version {token})")
                ctx.follow_up(
                    f"revoke the old value of aws.secret:{sid} where it was issued",
                    ctx.agent.owner,
                    "the stored value was replaced, but a copy the agent read still "
                    "works wherever it was issued until revoked there",
                )
            rotated[sid] = token

        return for_each(
            ctx,
            [("secret", s) for s in secret_ids(ctx, params)],
            rotate,
            {"rotated": rotated},
            labeler=lambda _k, sid: f"aws.secret:{sid}",
        )

    def verify(self, ctx: StepContext, params: SecretParams) -> Check:
        cloud = ctx.credentials()
        done = {
            sid: token_for(ctx, sid)
            for sid in secret_ids(ctx, params)
            if token_for(ctx, sid) in cloud.secret(sid).versions
        }
        missing = [s for s in secret_ids(ctx, params) if s not in done]
        return Check(not missing, f"not rotated yet: {', '.join(missing) or 'none'}", {"rotated": done, "failed": {}})
