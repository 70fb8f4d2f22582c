"""The simulated cloud: IAM users and roles, secrets and CloudTrail of a simulated world.

Behaves as AWS does where actions can tell: unknown principals are NotFoundError, a missing
login profile cannot be deleted, a ClientRequestToken that was used before returns the same
version instead of making a second one. No secret value is ever stored.
"""

from __future__ import annotations

from typing import Any, Literal

from ir.backends.world_store import WorldStore
from ir.core.errors import BackendError, NotFoundError
from ir.core.journal import utc_now
from ir.core.ports import AccessKey, Principal, SecretState


class SimulatedCloud:
    """CloudCredentials over a WorldStore."""

    def __init__(self, store: WorldStore) -> None:
        self.store = store

    def describe(self) -> str:
        """`simulated cloud <state file>`."""
        return f"simulated cloud {self.store.state_path}"

    def _principal(self, world: dict[str, Any], op: str, kind: str, name: str) -> dict[str, Any]:
        self.store.call(world, op, name, f"aws.iam_{kind}:{name}")
        found: dict[str, Any] | None = world["iam"][f"{kind}s"].get(name)
        if found is None:
            raise NotFoundError(f"aws.iam_{kind}:{name}: not found (NoSuchEntity, simulated world)")
        return found

    def principal(self, kind: Literal["user", "role"], name: str) -> Principal:
        """A user's or role's state."""
        with self.store.open(write=True) as world:
            p = self._principal(world, "principal", kind, name)
            keys = tuple(AccessKey(k["key_id"], k["status"], k["created"]) for k in p.get("access_keys", []))
            return Principal(
                kind,
                name,
                p["arn"],
                keys,
                tuple(p.get("attached_policies", [])),
                tuple(sorted(p.get("inline_policies", {}))),
                p.get("login_profile"),
                tuple(p.get("mfa_devices", [])),
            )

    def access_keys(self, user: str) -> tuple[AccessKey, ...]:
        """A user's keys (the same read as `principal`, and the same faults)."""
        return self.principal("user", user).access_keys

    def set_key_status(self, user: str, key_id: str, status: Literal["Active", "Inactive"]) -> None:
        """Change one key's status."""
        with self.store.open(write=True) as world:
            p = self._principal(world, "set_key_status", "user", user)
            for key in p["access_keys"]:
                if key["key_id"] == key_id:
                    key["status"] = status
                    return
            raise NotFoundError(f"aws.iam_user:{user} key {key_id}: not found (simulated world)")

    def inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> dict[str, Any] | None:
        """An inline policy document or None."""
        with self.store.open(write=True) as world:
            found = self._principal(world, "inline_policy", kind, name)["inline_policies"].get(policy)
            return dict(found) if found is not None else None

    def put_inline_policy(
        self, kind: Literal["user", "role"], name: str, policy: str, document: dict[str, Any]
    ) -> None:
        """Create or replace an inline policy."""
        with self.store.open(write=True) as world:
            self._principal(world, "put_inline_policy", kind, name)["inline_policies"][policy] = document

    def delete_inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> None:
        """Remove an inline policy."""
        with self.store.open(write=True) as world:
            policies = self._principal(world, "delete_inline_policy", kind, name)["inline_policies"]
            if policy not in policies:
                raise NotFoundError(f"aws.iam_{kind}:{name} policy {policy}: not found (simulated world)")
            del policies[policy]

    def delete_login_profile(self, user: str) -> None:
        """Remove the console password."""
        with self.store.open(write=True) as world:
            p = self._principal(world, "delete_login_profile", "user", user)
            if not p.get("login_profile"):
                raise NotFoundError(f"aws.iam_user:{user} console password: not found (simulated world)")
            p["login_profile"] = None

    def _secret(self, world: dict[str, Any], op: str, secret_id: str) -> dict[str, Any]:
        self.store.call(world, op, secret_id, f"aws.secret:{secret_id}")
        found: dict[str, Any] | None = world["secrets"].get(secret_id)
        if found is None:
            raise NotFoundError(f"aws.secret:{secret_id}: not found (ResourceNotFoundException, simulated world)")
        return found

    def secret(self, secret_id: str) -> SecretState:
        """A secret's metadata."""
        with self.store.open(write=True) as world:
            s = self._secret(world, "secret", secret_id)
            return SecretState(
                secret_id,
                s["arn"],
                secret_id,
                s["rotation_enabled"],
                {v: tuple(st) for v, st in s["versions"].items()},
                s["last_changed"],
            )

    def _new_version(self, op: str, secret_id: str, token: str, *, needs_rotation: bool) -> str:
        with self.store.open(write=True) as world:
            s = self._secret(world, op, secret_id)
            if needs_rotation and not s["rotation_enabled"]:
                raise BackendError(f"aws.secret:{secret_id}: rotation is not configured (simulated world)")
            if token not in s["versions"]:
                for stages in s["versions"].values():
                    if "AWSCURRENT" in stages:
                        stages.remove("AWSCURRENT")
                        stages.append("AWSPREVIOUS")
                s["versions"][token] = ["AWSCURRENT"]
                s["last_changed"] = utc_now()
            return token

    def rotate_secret(self, secret_id: str, token: str) -> str:
        """Rotate (only where rotation is configured)."""
        return self._new_version("rotate_secret", secret_id, token, needs_rotation=True)

    def put_random_secret_version(self, secret_id: str, token: str) -> str:
        """A new current version (the simulated world keeps no value)."""
        return self._new_version("put_random_secret_version", secret_id, token, needs_rotation=False)

    def lookup_events(self, username: str, start: str) -> list[dict[str, Any]]:
        """The world's CloudTrail records by `username` since `start`."""
        with self.store.open(write=True) as world:
            self.store.call(world, "lookup_events", username, f"cloudtrail LookupEvents for {username}")
            return [
                r
                for r in world["cloudtrail"]
                if (r.get("userIdentity") or {}).get("userName") == username and str(r.get("eventTime", "")) >= start
            ]
