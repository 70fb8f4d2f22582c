"""The simulated world's storage: one JSON file, locked while it changes, seeded from YAML.

Separate `ir` processes (a run, its resume, a tabletop controller) see one world. Faults can
be injected per operation name for rehearsals and tests; a consumed fault is state too.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ir.core.errors import BackendError, BackendUnavailable, NotFoundError, PermissionDenied, TransientError
from ir.core.yamlsafe import load_file

FAULTS: dict[str, Callable[[str], BackendError]] = {
    "unavailable": BackendUnavailable,
    "transient": TransientError,
    "denied": PermissionDenied,
    "notfound": NotFoundError,
    "error": BackendError,
}
SECTIONS = ("containers", "images", "iam", "secrets", "hosts", "http", "cloudtrail", "faults")


class WorldStore:
    """The JSON state file of a simulated world, created from `seed_path` on first use."""

    def __init__(self, state_path: Path, seed_path: Path | None = None) -> None:
        self.state_path = state_path
        self.seed_path = seed_path
        self.calls: list[tuple[str, str]] = []
        """(operation, target) of every call made through this store, for tests."""

    def _initial(self) -> dict[str, Any]:
        seed: dict[str, Any] = {}
        if self.seed_path is not None and self.seed_path.exists():
            seed = load_file(self.seed_path).data or {}
        world: dict[str, Any] = {name: {} for name in SECTIONS}
        world["cloudtrail"] = list(seed.get("cloudtrail") or [])
        world["faults"] = dict(seed.get("faults") or {})
        base = self.seed_path.parent if self.seed_path else Path.cwd()
        for name, spec in (seed.get("containers") or {}).items():
            world["containers"][name] = seed_container(name, spec or {}, base)
        iam = seed.get("iam") or {}
        world["iam"] = {
            "users": {n: seed_user(n, s or {}) for n, s in (iam.get("users") or {}).items()},
            "roles": {n: seed_role(n, s or {}) for n, s in (iam.get("roles") or {}).items()},
        }
        world["secrets"] = {n: seed_secret(n, s or {}) for n, s in (seed.get("secrets") or {}).items()}
        world["hosts"] = {
            n: {
                "services": dict((s or {}).get("services") or {}),
                "files": {str(k): str(v) for k, v in ((s or {}).get("files") or {}).items()},
            }
            for n, s in (seed.get("hosts") or {}).items()
        }
        world["http"] = {"calls": [], "responses": dict(seed.get("http") or {})}
        return world

    @contextmanager
    def open(self, write: bool) -> Iterator[dict[str, Any]]:
        """The world, locked; written back (atomically) if `write` and it changed."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(f"{self.state_path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            before = ""
            if self.state_path.exists():
                before = self.state_path.read_text(encoding="utf-8")
                world = json.loads(before)
            else:
                world = self._initial()
            try:
                yield world
            finally:  # a consumed fault is state too, even when the call raised
                after = json.dumps(world, indent=1, sort_keys=True)
                if write and after != before:
                    tmp = self.state_path.with_suffix(".tmp")
                    tmp.write_text(after, encoding="utf-8")
                    os.replace(tmp, self.state_path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            os.close(lock)

    def inject_fault(self, operation: str, error: str, times: int = 1) -> None:
        """Make the next `times` calls of `operation` raise `error` (a key of FAULTS)."""
        with self.open(write=True) as world:
            world["faults"][operation] = {"error": error, "times": times}

    def call(self, world: dict[str, Any], operation: str, target: str, what: str = "") -> None:
        """Record a call and raise the injected fault for `operation`, if one is pending."""
        self.calls.append((operation, target))
        fault = world["faults"].get(operation)
        if fault and fault.get("times", 0) > 0:
            fault["times"] -= 1
            label = what or target
            raise FAULTS[fault["error"]](f"{label}: {operation}: injected {fault['error']} fault (simulated world)")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def seed_container(name: str, spec: dict[str, Any], base: Path) -> dict[str, Any]:
    """A container's state from its seed entry."""
    files = {str(k): str(v) for k, v in (spec.get("files") or {}).items()}
    logs = list(spec.get("logs") or [])
    if spec.get("logs_file"):
        logs += (base / spec["logs_file"]).read_text(encoding="utf-8").splitlines()
    return {
        "id": str(spec.get("id") or _digest(f"simulated:{name}")),
        "name": name,
        "image": str(spec.get("image", f"{name}:latest")),
        "image_id": "sha256:" + _digest(str(spec.get("image", name))),
        "status": str(spec.get("status", "running")),
        "networks": [
            {
                "name": n,
                "network_id": _digest(n),
                "aliases": list((conf or {}).get("aliases") or []),
                "ipv4_address": str((conf or {}).get("ipv4_address") or ""),
            }
            for n, conf in (spec.get("networks") or {}).items()
        ],
        "network_mode": str(spec.get("network_mode", "bridge")),
        "env": [f"{k}={v}" for k, v in (spec.get("env") or {}).items()],
        "labels": {str(k): str(v) for k, v in (spec.get("labels") or {}).items()},
        "mounts": list(spec.get("mounts") or []),
        "processes": {
            "Titles": ["PID", "USER", "TIME", "COMMAND"],
            "Processes": [[str(x) for x in p] for p in spec.get("processes") or []],
        },
        "diff": [{"Path": p, "Kind": 1} for p in sorted(files)],
        "files": files,
        "logs": logs,
    }


def seed_user(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An IAM user's state from its seed entry."""
    return {
        "arn": f"arn:aws:iam::123456789012:user/{name}",
        "access_keys": [
            {
                "key_id": str(k["id"]),
                "status": str(k.get("status", "Active")),
                "created": str(k.get("created", "2026-01-01T00:00:00Z")),
            }
            for k in spec.get("access_keys") or []
        ],
        "attached_policies": list(spec.get("attached_policies") or []),
        "inline_policies": dict(spec.get("inline_policies") or {}),
        "login_profile": "2026-01-01T00:00:00Z" if spec.get("login_profile") else None,
        "mfa_devices": list(spec.get("mfa_devices") or []),
    }


def seed_role(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """An IAM role's state from its seed entry."""
    return {
        "arn": f"arn:aws:iam::123456789012:role/{name}",
        "attached_policies": list(spec.get("attached_policies") or []),
        "inline_policies": dict(spec.get("inline_policies") or {}),
    }


def seed_secret(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A secret's metadata from its seed entry (the simulated world never holds a value)."""
    return {
        "arn": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf",
        "rotation_enabled": bool(spec.get("rotation_enabled", False)),
        "versions": {"v-initial": ["AWSCURRENT"]},
        "last_changed": "2026-01-01T00:00:00Z",
    }
