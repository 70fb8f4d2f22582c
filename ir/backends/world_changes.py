"""World changes for tabletop exercises: the attacker and the agent acting in a simulated world.

An inject's `world:` list is applied here, through the same store the simulated backends use,
so the response sees the change exactly as it would see a real one: a minted key is an Active
key on the user *and* a CloudTrail `CreateAccessKey` record (what `credentials.find_minted`
walks), a new user comes with its `CreateUser` record, egress is a line in the container's log.

Slowness has consequences, and so does speed: a change made with a key that is already Inactive,
or by a principal that already carries the deny-all policy, is refused as AWS would refuse it
(`AccessDenied`, journalled in CloudTrail, nothing created); a frozen or isolated container makes
no egress and spends nothing.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ir.backends.world_store import FAULTS, WorldStore, seed_role, seed_user

DENY_ALL = "agent-ir-deny-all"
REVOKE_SESSIONS = "agent-ir-revoke-older-sessions"
"""Inline policies the containment playbook attaches: deny-all refuses every call of a user or a
role; the session cut-off refuses a role's sessions (issued before it), never a user's own keys."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimulatedWorldChanges:
    """`WorldChanges` (ir.tabletop.ports) over a simulated world's store."""

    def __init__(self, store: WorldStore) -> None:
        self.store = store

    def start(self) -> None:
        """Seed the world's state file from `world.yaml` if it does not exist yet."""
        with self.store.open(write=True):
            pass

    def apply(self, change: Mapping[str, Any]) -> dict[str, Any]:
        """Make one change; what happened (`applied` false, with `why`, when the world refuses it)."""
        op = str(change.get("op"))
        handler = getattr(self, f"_{op}", None)
        if handler is None:
            return {"op": op, "applied": False, "why": f"unknown world change {op!r}"}
        with self.store.open(write=True) as world:
            done: dict[str, Any] = handler(world, change)
        return {"op": op, **{k: v for k, v in change.items() if k != "op" and v is not None}, **done}

    def snapshot(self) -> dict[str, Any]:
        """The world's state now, read whole under the store's lock (nothing written)."""
        with self.store.open(write=False) as world:
            return copy.deepcopy(world)

    # -- who is acting ------------------------------------------------------------------------
    def _identity(self, world: dict[str, Any], by: str | None) -> tuple[dict[str, Any], str | None]:
        """(CloudTrail userIdentity for `by`, why AWS would refuse the call or None)."""
        users = world["iam"]["users"]
        if by is None:
            return {"type": "Root", "userName": "root"}, None
        for name, user in users.items():
            for key in user.get("access_keys", []):
                if key["key_id"] == by:
                    ident = {"type": "IAMUser", "userName": name, "accessKeyId": by}
                    if key["status"] != "Active":
                        return ident, f"access key {by} is {key['status']}"
                    return ident, _denied(user, f"user {name}", (DENY_ALL,))
        if by in users:
            return {"type": "IAMUser", "userName": by}, _denied(users[by], f"user {by}", (DENY_ALL,))
        role = world["iam"]["roles"].get(by)
        if role is not None:
            issuer = {"type": "Role", "userName": by, "arn": role["arn"]}
            return {"type": "AssumedRole", "sessionContext": {"sessionIssuer": issuer}}, _denied(
                role, f"role {by}", (DENY_ALL, REVOKE_SESSIONS)
            )
        return {"type": "IAMUser", "userName": by}, f"no principal or access key {by} in the world"

    def _trail(
        self,
        world: dict[str, Any],
        ident: dict[str, Any],
        name: str,
        request: dict[str, Any],
        response: dict[str, Any] | None = None,
        refused: str | None = None,
        source: str = "iam.amazonaws.com",
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "eventTime": _now(),
            "eventSource": source,
            "eventName": name,
            "eventID": str(uuid.uuid4()),
            "userIdentity": ident,
            "requestParameters": request,
        }
        if refused:
            record["errorCode"] = "AccessDenied"
            record["errorMessage"] = refused
        elif response is not None:
            record["responseElements"] = response
        world["cloudtrail"].append(record)
        return record

    # -- the operations -----------------------------------------------------------------------
    def _mint_key(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        user, key = str(change["user"]), str(change["key"])
        ident, refused = self._identity(world, change.get("by"))
        target = world["iam"]["users"].get(user)
        if refused is None and target is None:
            refused = f"no user {user} in the world"
        trail = self._trail(
            world,
            ident,
            "CreateAccessKey",
            {"userName": user},
            {"accessKey": {"accessKeyId": key, "status": "Active", "userName": user}},
            refused,
        )
        if refused:
            return {"applied": False, "why": refused, "cloudtrail": trail["eventID"]}
        target["access_keys"].append({"key_id": key, "status": "Active", "created": trail["eventTime"]})
        return {"applied": True, "cloudtrail": trail["eventID"]}

    def _create_user(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        user = str(change["user"])
        ident, refused = self._identity(world, change.get("by"))
        if refused is None and user in world["iam"]["users"]:
            refused = f"user {user} already exists (EntityAlreadyExists)"
        events = [self._trail(world, ident, "CreateUser", {"userName": user}, {"user": {"userName": user}}, refused)]
        if refused:
            return {"applied": False, "why": refused, "cloudtrail": [e["eventID"] for e in events]}
        created = seed_user(user, {})
        world["iam"]["users"][user] = created
        if change.get("key"):
            key = str(change["key"])
            response = {"accessKey": {"accessKeyId": key, "status": "Active", "userName": user}}
            events.append(self._trail(world, ident, "CreateAccessKey", {"userName": user}, response))
            created["access_keys"].append({"key_id": key, "status": "Active", "created": events[-1]["eventTime"]})
        if change.get("login_profile"):
            events.append(self._trail(world, ident, "CreateLoginProfile", {"userName": user}, {}))
            created["login_profile"] = events[-1]["eventTime"]
        return {"applied": True, "cloudtrail": [e["eventID"] for e in events]}

    def _create_role(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        role = str(change["role"])
        ident, refused = self._identity(world, change.get("by"))
        if refused is None and role in world["iam"]["roles"]:
            refused = f"role {role} already exists (EntityAlreadyExists)"
        trail = self._trail(world, ident, "CreateRole", {"roleName": role}, {"role": {"roleName": role}}, refused)
        if refused:
            return {"applied": False, "why": refused, "cloudtrail": trail["eventID"]}
        world["iam"]["roles"][role] = seed_role(role, {})
        return {"applied": True, "cloudtrail": trail["eventID"]}

    def _read_secret(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        secret = str(change["secret"])
        ident, refused = self._identity(world, change.get("by"))
        if refused is None and secret not in world["secrets"]:
            refused = f"no secret {secret} in the world"
        source = "secretsmanager.amazonaws.com"
        trail = self._trail(world, ident, "GetSecretValue", {"secretId": secret}, {}, refused, source=source)
        return {"applied": refused is None, **({"why": refused} if refused else {}), "cloudtrail": trail["eventID"]}

    def _running(self, world: dict[str, Any], change: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The agent's container when it can act (running, on a network), else why not."""
        ref = str(change.get("container") or "")
        if not ref:
            return None, None  # an agent without a container: nothing stops it here
        found = next((c for c in world["containers"].values() if ref in (c["name"], c["id"])), None)
        if found is None:
            return None, f"no container {ref} in the world"
        if found["status"] != "running":
            return found, f"container {ref} is {found['status']}"
        return found, None

    def _egress(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        container, why = self._running(world, change)
        if why is None and container is not None and not container["networks"]:
            why = f"container {container['name']} is cut off every network"
        if why:
            return {"applied": False, "why": why}
        if container is not None:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            container["logs"].append(f"{stamp} POST {change['url']}")
        return {"applied": True}

    def _spend(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        _container, why = self._running(world, change)
        if why:
            return {"applied": False, "why": why}
        spend = world.setdefault("spend", {})
        agent = str(change["agent"])
        spend[agent] = round(float(spend.get(agent, 0.0)) + float(change["usd"]), 2)
        return {"applied": True, "total_usd": spend[agent]}

    def _fault(self, world: dict[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
        kind = str(change["kind"])
        if kind not in FAULTS:
            return {"applied": False, "why": f"fault kind {kind!r} is not one of {', '.join(FAULTS)}"}
        world["faults"][str(change["operation"])] = {"error": kind, "times": 1}
        return {"applied": True}


def _denied(principal: Mapping[str, Any], who: str, policies: tuple[str, ...]) -> str | None:
    """Why a principal carrying one of the containment's deny `policies` is refused, or None."""
    held = [p for p in policies if p in (principal.get("inline_policies") or {})]
    return f"{who} is denied by {held[0]} (explicit deny)" if held else None
