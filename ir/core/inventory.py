"""The agent inventory (`agents.yaml`): every agent with its owner, container and credentials.

Credentials are references (a user name, a secret id), never secret values: the inventory is
kept in git and its contents are journalled.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ir.core.errors import WorkspaceError
from ir.core.validation import validate
from ir.core.yamlsafe import YamlInputError, load_file

AGENT_ID = r"^[a-z0-9][a-z0-9._-]{0,62}$"


class Frozen(BaseModel):
    """Base for data loaded from files: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class AgentStatus(StrEnum):
    """Where an agent is in its lifecycle."""

    ACTIVE = "active"
    CONTAINED = "contained"
    DISABLED = "disabled"
    DECOMMISSIONED = "decommissioned"


class ContainerRef(Frozen):
    """Which container runs the agent."""

    name: str | None = None
    """Container name (preferred: stable across restarts)."""
    id: str | None = None
    """Container id, when the name is not stable."""
    host: str | None = None
    """Docker host URL for this container; default from ir.yaml or DOCKER_HOST."""
    image: str | None = None
    """The image it runs (`registry/name:tag`), for "which agents run this image?" (`ir agents affected`)."""

    @property
    def ref(self) -> str:
        """The name or id to hand to the container runtime."""
        return self.name or self.id or ""


class CredentialRef(Frozen):
    """A typed reference to one credential the agent holds; extra keys identify it."""

    model_config = ConfigDict(frozen=True, extra="allow")
    type: str
    """Credential kind, e.g. `aws.iam_user`, `aws.iam_role`, `aws.secret`, `http.token`."""

    def ident(self) -> str:
        """A short stable label such as `aws.iam_user:agent-support-bot`."""
        extra: dict[str, Any] = self.model_extra or {}
        for key in ("user_name", "role_name", "secret_id", "name", "access_key_id"):
            if key in extra:
                return f"{self.type}:{extra[key]}"
        return self.type


class LogSource(Frozen):
    """One place the agent's activity is recorded, for the timeline."""

    type: Literal["docker", "otel", "cloudtrail", "jsonl", "mcp", "claude", "codex"]
    """Format of the source."""
    path: str | None = None
    """File or folder, relative to the workspace (not for `docker`)."""


class Agent(Frozen):
    """One autonomous agent under the team's care."""

    id: str = Field(pattern=AGENT_ID)
    """Inventory key, e.g. `support-bot`."""
    owner: str
    """Who answers for this agent (a person or a team address)."""
    purpose: str
    """Why the agent exists: the justification the registry asks for."""
    status: AgentStatus = AgentStatus.ACTIVE
    """Lifecycle status."""
    backend: Literal["docker", "simulated"] = "docker"
    """Which container runtime drives this agent's container."""
    container: ContainerRef | None = None
    """The agent's container, if it runs in one."""
    credentials: tuple[CredentialRef, ...] = ()
    """References to every credential the agent holds."""
    hosts: tuple[str, ...] = ()
    """Ansible inventory names of the hosts the agent runs on."""
    logs: tuple[LogSource, ...] = ()
    """Sources for the timeline."""
    egress_allowlist: tuple[str, ...] = ()
    """Hosts the agent is expected to talk to."""


class Inventory(Frozen):
    """The whole of `agents.yaml`."""

    agents: dict[Annotated[str, Field(pattern=AGENT_ID)], Agent] = Field(default_factory=dict)
    """Agents by id."""

    @field_validator("agents", mode="before")
    @classmethod
    def _inject_ids(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: ({"id": key, **body} if isinstance(body, dict) else body) for key, body in value.items()}
        return value

    def get(self, agent_id: str, where: str) -> Agent:
        """The agent called `agent_id`, or a WorkspaceError naming the inventory file."""
        try:
            return self.agents[agent_id]
        except KeyError:
            known = ", ".join(sorted(self.agents)) or "none"
            raise WorkspaceError(f"{where}: unknown agent {agent_id!r} (known: {known})") from None


def load_inventory(path: Path) -> Inventory:
    """Load and validate `agents.yaml`; errors name file:line:col."""
    if not path.exists():
        return Inventory()
    try:
        located = load_file(path)
    except YamlInputError as exc:
        raise WorkspaceError(str(exc)) from None
    if located.data is None:
        return Inventory()
    return validate(Inventory, located, WorkspaceError)
