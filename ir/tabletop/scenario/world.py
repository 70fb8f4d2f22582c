"""A scenario's world: its own agents and simulated world, and the changes injects make to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ir.core.inventory import Frozen
from ir.tabletop.crossref import agent_problems
from ir.tabletop.problems import path_of

WORLD_OPS = ("mint_key", "create_user", "create_role", "egress", "read_secret", "fault", "spend")
"""What a world change can do (`WorldChange.op`)."""
RESERVED_FILES = {
    "ir.yaml": "the sandbox's settings",
    "agents.yaml": "the sandbox's inventory",
    "world.yaml": "the simulated world's seed",
    "exercise.jsonl": "an exercise journal's name",
    "scenario.yaml": "the scenario copy's name",
}
"""Files of the sandbox workspace (and names that make a folder look like an exercise) a log may not be."""
RESERVED_DIRS = {
    "playbooks": "the sandbox's playbooks",
    "cases": "the sandbox's cases",
    ".ir": "the sandbox's state and signing keys",
}
"""Folders of the sandbox workspace a log file may not be in."""


def log_path_problem(path: str, others: list[str]) -> str | None:
    """Why `path` cannot be a `world.logs` file of the sandbox (None when it can): relative, no `..`,
    not one of the sandbox's own files or folders, and no file where another log path needs a folder."""
    parts = Path(path).parts
    if Path(path).is_absolute() or ".." in parts or not parts:
        return "a log path is relative to the exercise workspace, without '..'"
    if parts[0] in RESERVED_FILES:
        return f"reserved: {parts[0]} is {RESERVED_FILES[parts[0]]}; put the log elsewhere (e.g. under logs/)"
    if parts[0] in RESERVED_DIRS:
        return f"reserved: {parts[0]}/ holds {RESERVED_DIRS[parts[0]]}; put the log elsewhere (e.g. under logs/)"
    for other in others:
        if other != path and Path(other).parts[: len(parts)] == parts:
            return f"it is a file, and {other!r} needs it to be a folder"
    return None


class World(Frozen):
    """The exercise's own inventory and simulated world: nothing of the team's real one is touched.

    `agents` is an `agents.yaml` `agents:` mapping (every agent's backend must be `simulated`,
    unless the exercise runs `--live-fire`: the interlock decides);
    the other sections are the simulated world's seed, in the format of `demo/world.yaml`;
    `logs` are the agents' log files (path relative to the exercise workspace → initial text; never
    the sandbox's own files: `ir.yaml`, `agents.yaml`, `world.yaml`, `playbooks/`, `cases/`, `.ir/`…).
    """

    agents: dict[str, dict[str, Any]]
    """Agents by id, as in `agents.yaml`."""
    containers: dict[str, Any] = Field(default_factory=dict)
    """Simulated containers (name → spec)."""
    images: dict[str, Any] = Field(default_factory=dict)
    """Simulated images."""
    iam: dict[str, Any] = Field(default_factory=dict)
    """Simulated IAM: `users`, `roles`."""
    secrets: dict[str, Any] = Field(default_factory=dict)
    """Simulated secrets (id → spec)."""
    hosts: dict[str, Any] = Field(default_factory=dict)
    """Simulated hosts (name → services, files)."""
    http: dict[str, Any] = Field(default_factory=dict)
    """Simulated HTTP endpoints (provider token revocation)."""
    cloudtrail: tuple[dict[str, Any], ...] = ()
    """CloudTrail records already in the world when the exercise starts."""
    logs: dict[str, str] = Field(default_factory=dict)
    """Log files (path → initial text); injects append to them. Not the sandbox's own files or folders."""

    @field_validator("agents")
    @classmethod
    def _agents(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        problems = [p for p in agent_problems(value) if p.severity == "error"]  # each at its own place
        if problems:
            first = problems[0]
            raise ValueError(f"{path_of(first.loc[2:], value)}: {first.message}" if first.loc[2:] else first.message)
        return value

    @field_validator("logs")
    @classmethod
    def _log_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            problem = log_path_problem(path, list(value))
            if problem is not None:
                raise ValueError(f"{path!r}: {problem}")
        return value


class WorldChange(Frozen):
    """A change in the simulated world, made as the attacker or the agent would make it.

    `op`: `mint_key` (user, key: a new Active access key on a user, with its CloudTrail record by
    `by`), `create_user` (user, key optional, login_profile, by), `create_role` (role, by),
    `egress` (agent, url: the agent calls a new host; a tool-call line in `log` if given),
    `read_secret` (secret, by), `fault` (operation, kind: a backend fault, e.g. IAM unavailable),
    `spend` (agent, usd: model spend grows).
    """

    op: Literal["mint_key", "create_user", "create_role", "egress", "read_secret", "fault", "spend"]
    """What happens."""
    user: str | None = None
    """IAM user (mint_key, create_user)."""
    role: str | None = None
    """IAM role (create_role)."""
    key: str | None = None
    """Access key id (mint_key, create_user)."""
    by: str | None = None
    """Access key id or user the change is made with (recorded in CloudTrail)."""
    login_profile: bool = False
    """create_user: also a console password."""
    agent: str | None = None
    """Agent (egress, spend)."""
    url: str | None = None
    """egress: where the agent sends data."""
    log: str | None = None
    """egress: a `world.logs` path the tool call is written to."""
    secret: str | None = None
    """read_secret: secret id."""
    operation: str | None = None
    """fault: the simulated backend operation that fails next (its method name, e.g. `set_key_status`,
    `put_inline_policy`, `pause`)."""
    kind: Literal["unavailable", "transient", "denied", "notfound", "error"] | None = None
    """fault: unavailable, transient, denied, notfound, error."""
    usd: float | None = None
    """spend: dollars added."""

    @model_validator(mode="after")
    def _fields(self) -> WorldChange:
        needed = {
            "mint_key": ("user", "key"),
            "create_user": ("user",),
            "create_role": ("role",),
            "egress": ("agent", "url"),
            "read_secret": ("secret",),
            "fault": ("operation", "kind"),
            "spend": ("agent", "usd"),
        }[self.op]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.op} needs {', '.join(missing)}")
        return self
