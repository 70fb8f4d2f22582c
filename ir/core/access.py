"""Per-run access to the backends: created on first use, read-only in a dry run."""

from __future__ import annotations

from typing import Any, cast

from ir.core.inventory import Agent
from ir.core.ports import (
    CONTAINER_MUTATING,
    CREDENTIALS_MUTATING,
    HOSTS_MUTATING,
    HTTP_MUTATING,
    Backends,
    CloudCredentials,
    ContainerRuntime,
    HostAutomation,
    HttpCalls,
    ReadOnlyGuard,
)


class WorldAccess:
    """The backends one agent's steps may use; each wrapped in a ReadOnlyGuard for a dry run."""

    def __init__(self, backends: Backends, agent: Agent, *, dry_run: bool) -> None:
        self._backends = backends
        self._agent = agent
        self._dry_run = dry_run
        self._cache: dict[str, Any] = {}

    def _get(self, key: str, make: Any, mutating: frozenset[str]) -> Any:
        if key not in self._cache:
            made = make()
            self._cache[key] = ReadOnlyGuard(made, mutating) if self._dry_run else made
        return self._cache[key]

    def containers(self) -> ContainerRuntime:
        """The runtime holding the agent's container."""
        host = self._agent.container.host if self._agent.container else None
        made = self._get(
            "containers", lambda: self._backends.container_runtime(self._agent.backend, host), CONTAINER_MUTATING
        )
        return cast(ContainerRuntime, made)

    def credentials(self) -> CloudCredentials:
        """The cloud holding the agent's credentials."""
        made = self._get(
            "credentials", lambda: self._backends.cloud_credentials(self._agent.backend), CREDENTIALS_MUTATING
        )
        return cast(CloudCredentials, made)

    def hosts(self) -> HostAutomation:
        """Automation for the agent's hosts."""
        made = self._get("hosts", lambda: self._backends.host_automation(self._agent.backend), HOSTS_MUTATING)
        return cast(HostAutomation, made)

    def http(self) -> HttpCalls:
        """HTTP to provider APIs."""
        return cast(HttpCalls, self._get("http", lambda: self._backends.http(self._agent.backend), HTTP_MUTATING))
