"""What a hijacked principal minted for itself, from CloudTrail records, walked to a fixed point.

Pure: `credentials.find_minted` feeds it the records it read, and a tabletop exercise's
`revoked(AGENT)` condition feeds it the simulated world's CloudTrail, so both agree on what
"minted" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MINTING = {"CreateAccessKey", "CreateUser", "CreateRole", "CreateLoginProfile", "UpdateLoginProfile"}
"""The CloudTrail events that give a principal something new."""


def _actor(record: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(user name, role name, access key id) of whoever made the call."""
    ident = record.get("userIdentity") or {}
    user = ident.get("userName") if ident.get("type") == "IAMUser" else None
    role = None
    issuer = (ident.get("sessionContext") or {}).get("sessionIssuer") or {}
    if issuer.get("type") == "Role":
        role = issuer.get("userName")
    return user, role, ident.get("accessKeyId")


def walk(records: list[dict[str, Any]], users: set[str], roles: set[str]) -> dict[str, Any]:
    """Follow what controlled principals created until nothing new appears."""
    controlled_users, controlled_roles, keys = set(users), set(roles), set[str]()
    minted_keys: dict[str, list[str]] = {}
    login_profiles: set[str] = set()
    evidence: list[dict[str, Any]] = []
    changed = True
    while changed:
        changed = False
        for record in records:
            name = record.get("eventName")
            if name not in MINTING or record.get("errorCode"):
                continue
            user, role, key = _actor(record)
            if not (user in controlled_users or role in controlled_roles or key in keys):
                continue
            request = record.get("requestParameters") or {}
            response = record.get("responseElements") or {}
            target_user = request.get("userName") or user
            before = (len(controlled_users), len(controlled_roles), len(keys), len(login_profiles))
            if name == "CreateAccessKey" and target_user:
                key_id = (response.get("accessKey") or {}).get("accessKeyId")
                if key_id and key_id not in keys:
                    keys.add(key_id)
                    minted_keys.setdefault(target_user, []).append(key_id)
                controlled_users.add(target_user)
            elif name == "CreateUser" and request.get("userName"):
                controlled_users.add(request["userName"])
            elif name == "CreateRole" and request.get("roleName"):
                controlled_roles.add(request["roleName"])
            elif name in ("CreateLoginProfile", "UpdateLoginProfile") and target_user:
                login_profiles.add(target_user)
                controlled_users.add(target_user)
            if (len(controlled_users), len(controlled_roles), len(keys), len(login_profiles)) != before:
                changed = True
                evidence.append(
                    {
                        "eventName": name,
                        "eventTime": record.get("eventTime"),
                        "eventID": record.get("eventID"),
                        "by": user or role or key,
                        "target": request.get("userName") or request.get("roleName"),
                    }
                )
    return {
        "users": sorted(controlled_users - users),
        "roles": sorted(controlled_roles - roles),
        "access_keys": {u: sorted(k) for u, k in sorted(minted_keys.items())},
        "login_profiles": sorted(login_profiles),
        "found_by": evidence,
    }
