"""Credential verbs: snapshot, deactivate keys, deny all, deny old sessions, remove console access.

Order (reliability.md, "AWS revocation, in order"): record state, deactivate keys (never
delete), inline deny-all, deny sessions issued before a cut-off fixed once in the intent,
delete console access, rotate secrets, hunt what the principal minted. Every action works
through all its targets, names each one that failed, and records the prior state so its
release can restore it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from pydantic import Field

from ir.core.action import Action, ActionParams, Change, Check, Plan, StepContext
from ir.core.errors import BackendUnavailable, IrError, PartialFailure
from ir.core.journal import utc_now

Kind = Literal["user", "role"]
DENY_ALL = "agent-ir-deny-all"
REVOKE_SESSIONS = "agent-ir-revoke-older-sessions"


class PrincipalParams(ActionParams):
    """Which principals: the agent's inventory entries, plus any named here."""

    users: list[str] = Field(default_factory=list)
    """IAM user names to act on (e.g. `${{ steps.minted.outputs.users }}`)."""
    roles: list[str] = Field(default_factory=list)
    """IAM role names to act on."""
    inventory: bool = True
    """Also act on the agent's `aws.iam_user` / `aws.iam_role` credentials from the inventory."""


def targets(
    ctx: StepContext, params: PrincipalParams, kinds: Iterable[Kind] = ("user", "role")
) -> list[tuple[Kind, str]]:
    """(kind, name) of every principal the step acts on, inventory first, without repeats."""
    found: list[tuple[Kind, str]] = []
    if params.inventory:
        for ref in ctx.agent.credentials:
            extra = ref.model_extra or {}
            if ref.type == "aws.iam_user" and "user_name" in extra:
                found.append(("user", str(extra["user_name"])))
            elif ref.type == "aws.iam_role" and "role_name" in extra:
                found.append(("role", str(extra["role_name"])))
    found += [("user", u) for u in params.users] + [("role", r) for r in params.roles]
    wanted = set(kinds)
    unique: list[tuple[Kind, str]] = []
    for item in found:
        if item[0] in wanted and item not in unique:
            unique.append(item)
    return unique


def label(kind: str, name: str) -> str:
    """`aws.iam_user:NAME`, `aws.secret:ID` — how a credential is named in messages and outputs."""
    return f"aws.secret:{name}" if kind == "secret" else f"aws.iam_{kind}:{name}"


def inventory_secrets(ctx: StepContext) -> list[str]:
    """The agent's `aws.secret` credential ids, in inventory order."""
    return [
        str((r.model_extra or {})["secret_id"])
        for r in ctx.agent.credentials
        if r.type == "aws.secret" and "secret_id" in (r.model_extra or {})
    ]


def for_each(
    ctx: StepContext,
    items: list[tuple[Any, str]],
    work: Callable[[Any, str], Any],
    outputs: dict[str, Any],
    labeler: Callable[[Any, str], str] = label,
) -> dict[str, Any]:
    """Run `work` on every target; failures are collected, named, and raised together at the end."""
    failed: dict[str, str] = {}
    for kind, name in items:
        try:
            work(kind, name)
        except BackendUnavailable:
            raise
        except IrError as exc:
            failed[labeler(kind, name)] = str(exc)
            ctx.output(f"FAILED {labeler(kind, name)}: {exc}")
    outputs["failed"] = failed
    if failed:
        done = len(items) - len(failed)
        raise PartialFailure(f"{done} of {len(items)} done; not done: " + "; ".join(failed.values()), outputs)
    return outputs


def deny_all_document() -> dict[str, Any]:
    """An explicit deny of every action on every resource."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "AgentIrDenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}],
    }


def revoke_sessions_document(cutoff: str) -> dict[str, Any]:
    """Deny everything to sessions whose token was issued before `cutoff`."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AgentIrRevokeOlderSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
            }
        ],
    }


class Snapshot(Action[PrincipalParams]):
    """Record each principal's keys, policies (with inline documents), console access and MFA,
    and each inventory secret's metadata (versions, rotation) — never a secret value."""

    name = "credentials.snapshot"
    summary = "Record the agent's IAM users and roles (keys, policies, console, MFA) and secrets' metadata."

    def _all(self, ctx: StepContext, params: PrincipalParams) -> list[tuple[Any, str]]:
        secrets = [("secret", s) for s in inventory_secrets(ctx)] if params.inventory else []
        return [*targets(ctx, params), *secrets]

    Params = PrincipalParams
    mutates = False
    captures_evidence = True
    domain = "credentials"

    def plan(self, ctx: StepContext, params: PrincipalParams) -> Plan:
        return Plan(
            changes=tuple(
                Change("case evidence", f"{label(k, n)}.json", "absent", "captured") for k, n in self._all(ctx, params)
            )
        )

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        assert ctx.evidence is not None
        cloud, captured = ctx.credentials(), {}

        def capture(kind: Any, name: str) -> None:
            artifact = f"{label(kind, name)}.json"
            item = ctx.evidence.recorded(artifact) if ctx.evidence else None
            if item is None:
                if kind == "secret":
                    state = cloud.secret(name).as_dict()
                else:
                    state = cloud.principal(kind, name).as_dict()
                    state["inline_documents"] = {
                        p: cloud.inline_policy(kind, name, p) for p in state["inline_policies"]
                    }
                state["captured_at"] = utc_now()
                blob = json.dumps(state, indent=2, sort_keys=True).encode() + b"\n"
                assert ctx.evidence is not None
                item = ctx.evidence.store(artifact, [blob], source=cloud.describe(), method="IAM read calls")
            captured[label(kind, name)] = item.sha256

        return for_each(ctx, self._all(ctx, params), capture, {"captured": captured})

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        missing = [
            label(k, n)
            for k, n in self._all(ctx, params)
            if ctx.evidence is None or ctx.evidence.recorded(f"{label(k, n)}.json") is None
        ]
        return Check(not missing, f"not yet captured: {', '.join(missing) or 'none'}")


class DeactivateKeys(Action[PrincipalParams]):
    """Set every access key of the users to Inactive (never deleted: the ids stay for the investigation)."""

    name = "credentials.deactivate_keys"
    summary = "Deactivate (never delete) every access key of the agent's IAM users."
    Params = PrincipalParams
    inverse = "credentials.reactivate_keys"
    contains = True

    def prior(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud, keys = ctx.credentials(), {}
        for _, user in targets(ctx, params, ("user",)):
            try:
                keys[user] = [{"key_id": k.key_id, "status": k.status} for k in cloud.access_keys(user)]
            except BackendUnavailable:
                raise
            except IrError as exc:
                keys[user] = [{"error": str(exc)}]
        return {"keys": keys}

    def plan(self, ctx: StepContext, params: PrincipalParams) -> Plan:
        cloud, changes, notes = ctx.credentials(), [], []
        for _, user in targets(ctx, params, ("user",)):
            for key in cloud.access_keys(user):
                if key.status == "Active":
                    changes.append(Change(f"{label('user', user)} key {key.key_id}", "status", "Active", "Inactive"))
                else:
                    notes.append(f"{label('user', user)} key {key.key_id} is already Inactive")
        return Plan(tuple(changes), tuple(notes))

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud, deactivated = ctx.credentials(), {}

        def deactivate(_kind: Kind, user: str) -> None:
            done = []
            for key in cloud.access_keys(user):
                if key.status == "Active":
                    cloud.set_key_status(user, key.key_id, "Inactive")
                    ctx.output(f"deactivated {label('user', user)} key {key.key_id}")
                    done.append(key.key_id)
            deactivated[user] = done

        return for_each(ctx, targets(ctx, params, ("user",)), deactivate, {"deactivated": deactivated})

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        cloud = ctx.credentials()
        active = [
            (user, k.key_id)
            for _, user in targets(ctx, params, ("user",))
            for k in cloud.access_keys(user)
            if k.status == "Active"
        ]
        before = ctx.prior.get("keys", {})
        deactivated = {u: [k["key_id"] for k in keys if k.get("status") == "Active"] for u, keys in before.items()}
        return Check(
            not active,
            f"active keys: {', '.join(f'{u}:{k}' for u, k in active) or 'none'}",
            {"deactivated": deactivated, "failed": {}},
            live=tuple(f"{label('user', u)} access key {k} is Active" for u, k in active),
        )


class ReactivateParams(ActionParams):
    """Which keys to turn back on: the `deactivated` output of the deactivate step."""

    keys: dict[str, list[str]] = Field(default_factory=dict)
    """User name → access key ids (e.g. `${{ steps.keys.outputs.deactivated }}`)."""


class ReactivateKeys(Action[ReactivateParams]):
    """Set the given access keys back to Active (the release of credentials.deactivate_keys)."""

    name = "credentials.reactivate_keys"
    summary = "Reactivate the access keys a deactivate step turned off (release)."
    Params = ReactivateParams
    releases = True
    inverse = "credentials.deactivate_keys"

    def _pairs(self, params: ReactivateParams) -> list[tuple[str, str]]:
        return [(user, key) for user, keys in params.keys.items() for key in keys]

    def plan(self, ctx: StepContext, params: ReactivateParams) -> Plan:
        return Plan(
            tuple(Change(f"{label('user', u)} key {k}", "status", "Inactive", "Active") for u, k in self._pairs(params))
        )

    def execute(self, ctx: StepContext, params: ReactivateParams) -> Mapping[str, Any]:
        cloud = ctx.credentials()
        for user, key in self._pairs(params):
            cloud.set_key_status(user, key, "Active")
            ctx.output(f"reactivated {label('user', user)} key {key}")
        return {"reactivated": params.keys}

    def verify(self, ctx: StepContext, params: ReactivateParams) -> Check:
        cloud = ctx.credentials()
        status = {(u, k.key_id): k.status for u in params.keys for k in cloud.access_keys(u)}
        off = [f"{u}:{k}" for u, k in self._pairs(params) if status.get((u, k)) != "Active"]
        return Check(not off, f"still inactive: {', '.join(off) or 'none'}", {"reactivated": params.keys})


class _InlinePolicyAction(Action[PrincipalParams]):
    """Shared shape of the verbs that attach one named inline policy to each principal."""

    Params = PrincipalParams
    policy_name: str = ""
    contains = True
    live_text = "has no {policy}"
    """How a principal without the policy is reported as still live (`{policy}` is its name)."""

    def document(self, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedError

    def plan(self, ctx: StepContext, params: PrincipalParams) -> Plan:
        cloud, changes, notes = ctx.credentials(), [], []
        for kind, name in targets(ctx, params):
            current = cloud.inline_policy(kind, name, self.policy_name)
            if current is None:
                changes.append(Change(label(kind, name), f"inline policy {self.policy_name}", "absent", "attached"))
            else:
                notes.append(f"{label(kind, name)} already has {self.policy_name} (it is replaced)")
        return Plan(tuple(changes), tuple(notes))

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud, document, attached = ctx.credentials(), self.document(ctx), []

        def attach(kind: Kind, name: str) -> None:
            # no read first: PutUserPolicy/PutRolePolicy replace the document, so writing it again
            # changes nothing, and a fleet's cases make a fifth fewer IAM calls before contained
            cloud.put_inline_policy(kind, name, self.policy_name, document)
            ctx.output(f"attached {self.policy_name} to {label(kind, name)}")
            attached.append(label(kind, name))

        return for_each(ctx, targets(ctx, params), attach, {"attached": attached, "policy": self.policy_name})

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        cloud, document = ctx.credentials(), self.document(ctx)
        missing = [
            label(k, n) for k, n in targets(ctx, params) if cloud.inline_policy(k, n, self.policy_name) != document
        ]
        done = [label(k, n) for k, n in targets(ctx, params) if label(k, n) not in missing]
        return Check(
            not missing,
            f"without {self.policy_name}: {', '.join(missing) or 'none'}",
            {"attached": done, "policy": self.policy_name, "failed": {}},
            live=tuple(f"{who} {self.live_text.format(policy=self.policy_name)}" for who in missing),
        )


class DenyAll(_InlinePolicyAction):
    """Attach an inline deny-all policy: every call the principal makes is refused."""

    name = "credentials.deny_all"
    summary = "Attach an inline explicit deny of everything to the agent's IAM users and roles."
    inverse = "credentials.remove_deny_all"
    policy_name = DENY_ALL
    live_text = "is not denied (no {policy})"

    def document(self, ctx: StepContext) -> dict[str, Any]:
        return deny_all_document()


LIMITS = (
    "a session deny does nothing to long-term access keys (deactivate them); sessions issued after "
    "the cut-off are not affected; IAM changes take effect within seconds to minutes, not at once"
)


class RevokeSessions(_InlinePolicyAction):
    """Deny every session whose token was issued before a cut-off fixed once, in the intent record."""

    name = "credentials.revoke_sessions"
    summary = "Deny sessions issued before now (aws:TokenIssueTime), the cut-off fixed once per case."
    policy_name = REVOKE_SESSIONS
    live_text = "sessions issued before the cut-off are not denied (no {policy})"

    def prior(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        return {"cutoff": utc_now()[:19] + "Z"}

    def document(self, ctx: StepContext) -> dict[str, Any]:
        cutoff = str(ctx.prior.get("cutoff") or utc_now()[:19] + "Z")
        return revoke_sessions_document(cutoff)

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        outputs = dict(super().execute(ctx, params))
        ctx.output(f"limits: {LIMITS}")
        return {**outputs, "cutoff": ctx.prior.get("cutoff"), "limits": LIMITS}

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        check = super().verify(ctx, params)
        outputs = {**check.outputs, "cutoff": ctx.prior.get("cutoff"), "limits": LIMITS}
        return Check(check.done, check.detail, outputs, live=check.live)


class RemoveDenyAll(Action[PrincipalParams]):
    """Remove the inline deny-all policy (the release of credentials.deny_all)."""

    name = "credentials.remove_deny_all"
    summary = "Remove the inline deny-all policy from the agent's IAM users and roles (release)."
    Params = PrincipalParams
    releases = True
    inverse = "credentials.deny_all"

    def plan(self, ctx: StepContext, params: PrincipalParams) -> Plan:
        cloud = ctx.credentials()
        return Plan(
            tuple(
                Change(label(k, n), f"inline policy {DENY_ALL}", "attached", "absent")
                for k, n in targets(ctx, params)
                if cloud.inline_policy(k, n, DENY_ALL) is not None
            )
        )

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud, removed = ctx.credentials(), []

        def remove(kind: Kind, name: str) -> None:
            if cloud.inline_policy(kind, name, DENY_ALL) is not None:
                cloud.delete_inline_policy(kind, name, DENY_ALL)
                removed.append(label(kind, name))

        return for_each(ctx, targets(ctx, params), remove, {"removed": removed})

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        cloud = ctx.credentials()
        left = [label(k, n) for k, n in targets(ctx, params) if cloud.inline_policy(k, n, DENY_ALL) is not None]
        return Check(not left, f"still denied: {', '.join(left) or 'none'}", {"removed": [], "failed": {}})


class RemoveConsoleAccess(Action[PrincipalParams]):
    """Delete the users' console passwords. There is no release: a password cannot be restored."""

    name = "credentials.remove_console_access"
    summary = "Delete the console password (login profile) of the agent's IAM users; cannot be undone."
    Params = PrincipalParams
    contains = True

    def prior(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud = ctx.credentials()
        return {
            "login_profiles": {u: cloud.principal("user", u).login_profile for _, u in targets(ctx, params, ("user",))}
        }

    def plan(self, ctx: StepContext, params: PrincipalParams) -> Plan:
        cloud, changes = ctx.credentials(), []
        for _, user in targets(ctx, params, ("user",)):
            if cloud.principal("user", user).login_profile:
                changes.append(Change(label("user", user), "console password", "present", "deleted"))
        return Plan(tuple(changes), ("a deleted console password cannot be restored; the owner sets a new one",))

    def execute(self, ctx: StepContext, params: PrincipalParams) -> Mapping[str, Any]:
        cloud, removed = ctx.credentials(), []

        def remove(_kind: Kind, user: str) -> None:
            if cloud.principal("user", user).login_profile:
                cloud.delete_login_profile(user)
                ctx.output(f"deleted the console password of {label('user', user)}")
                removed.append(user)

        return for_each(
            ctx,
            targets(ctx, params, ("user",)),
            remove,
            {"removed": removed, "restore": "not possible: the owner sets a new password"},
        )

    def verify(self, ctx: StepContext, params: PrincipalParams) -> Check:
        cloud = ctx.credentials()
        left = [u for _, u in targets(ctx, params, ("user",)) if cloud.principal("user", u).login_profile]
        had = [u for u, when in (ctx.prior.get("login_profiles") or {}).items() if when]
        return Check(
            not left,
            f"still with console access: {', '.join(left) or 'none'}",
            {"removed": had, "restore": "not possible: the owner sets a new password", "failed": {}},
            live=tuple(f"{label('user', u)} still has a console password" for u in left),
        )
