"""`credentials.revoke_http`: revoke provider keys that have no AWS API (LLM vendors) over HTTP.

Each `http.token` credential of the agent may name a `revoke_url` (and `method`, default POST),
and `token_env`: the environment variable holding the admin token the provider's API wants,
sent as `Authorization: Bearer`. The token is read at call time and never recorded. A
credential without a URL, or whose call fails, becomes a follow-up with its owner.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ir.core.action import Action, ActionParams, Change, Check, Plan, StepContext
from ir.core.errors import BackendUnavailable, IrError, PartialFailure

REVOKED = {200, 201, 202, 204}
ALREADY = {404, 410}


class HttpRevokeParams(ActionParams):
    """Which provider tokens: the agent's `http.token` credentials, optionally only some names."""

    names: list[str] = Field(default_factory=list)
    """Only these credential names (default: every `http.token` of the agent)."""
    timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds to wait for each provider."""


def tokens(ctx: StepContext, params: HttpRevokeParams) -> list[dict[str, Any]]:
    """The agent's `http.token` references to revoke."""
    found = [dict(r.model_extra or {}) for r in ctx.agent.credentials if r.type == "http.token"]
    return [t for t in found if not params.names or t.get("name") in params.names]


class RevokeHttp(Action[HttpRevokeParams]):
    """Call each provider's revocation endpoint; what cannot be revoked becomes a follow-up."""

    name = "credentials.revoke_http"
    summary = "Revoke provider tokens (LLM vendor keys) through a configured HTTP call, else a follow-up."
    Params = HttpRevokeParams

    def plan(self, ctx: StepContext, params: HttpRevokeParams) -> Plan:
        changes, notes = [], []
        for token in tokens(ctx, params):
            name = token.get("name", "?")
            if token.get("revoke_url"):
                changes.append(
                    Change(
                        f"http.token:{name}",
                        "state",
                        "valid",
                        f"revoked ({token.get('method', 'POST')} {token['revoke_url']})",
                    )
                )
            else:
                notes.append(
                    f"http.token:{name} has no revoke_url: a follow-up for {token.get('owner', ctx.agent.owner)}"
                )
        return Plan(tuple(changes), tuple(notes))

    def execute(self, ctx: StepContext, params: HttpRevokeParams) -> Mapping[str, Any]:
        http, revoked, followed, failed = ctx.http(), [], [], {}
        for token in tokens(ctx, params):
            name, owner = str(token.get("name", "?")), str(token.get("owner") or ctx.agent.owner)
            url = token.get("revoke_url")
            if not url:
                ctx.follow_up(f"revoke http.token:{name} at its provider", owner, "no revoke_url in the inventory")
                followed.append(name)
                continue
            headers = {"User-Agent": "agent-ir"}
            admin = os.environ.get(str(token.get("token_env", "")), "") if token.get("token_env") else ""
            if admin:
                headers["Authorization"] = f"Bearer {admin}"
            try:
                status = http.request(str(token.get("method", "POST")), str(url), headers, None, params.timeout)
            except BackendUnavailable as exc:
                status, error = 0, str(exc)
            except IrError as exc:
                status, error = 0, str(exc)
            else:
                error = f"HTTP {status}"
            if status in REVOKED or status in ALREADY:
                note = "revoked" if status in REVOKED else f"already revoked (HTTP {status})"
                ctx.output(f"http.token:{name}: {note}")
                revoked.append(name)
                continue
            failed[f"http.token:{name}"] = error
            ctx.output(f"FAILED http.token:{name}: {error}")
            ctx.follow_up(f"revoke http.token:{name} at its provider", owner, f"the revocation call failed: {error}")
            followed.append(name)
        outputs = {"revoked": revoked, "follow_ups": followed, "failed": failed}
        if failed:
            raise PartialFailure(
                f"{len(failed)} provider token(s) not revoked: " + "; ".join(f"{k} ({v})" for k, v in failed.items()),
                outputs,
            )
        return outputs

    def verify(self, ctx: StepContext, params: HttpRevokeParams) -> Check:
        return Check(False, "a provider's token state cannot be read back: call again (revocation is idempotent)")
