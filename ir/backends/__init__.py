"""Backends: thin drivers for Docker Engine and the simulated world, chosen per agent."""

from __future__ import annotations

import os
from typing import Any

from ir.core.errors import WorkspaceError
from ir.core.ports import ContainerRuntime
from ir.core.workspace import Workspace


class WorkspaceBackends:
    """The backends of one workspace, created on first use and then reused."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._cache: dict[tuple[str, str | None], Any] = {}

    def container_runtime(self, backend: str, host: str | None) -> ContainerRuntime:
        """Docker Engine (agent host, then DOCKER_HOST, then ir.yaml) or the simulated world."""
        key = (backend, host)
        if key not in self._cache:
            self._cache[key] = self._make(backend, host)
        runtime: ContainerRuntime = self._cache[key]
        return runtime

    def _make(self, backend: str, host: str | None) -> Any:
        settings = self.workspace.settings
        if backend == "docker":
            from ir.backends.docker_engine import DockerEngine

            chosen = host or os.environ.get("DOCKER_HOST") or settings.docker.host
            return DockerEngine(chosen, timeout=settings.docker.timeout)
        if backend == "simulated":
            from ir.backends.simulated import SimulatedWorld

            return SimulatedWorld(
                self.workspace.path(settings.simulated.state),
                self.workspace.path(settings.simulated.seed),
            )
        raise WorkspaceError(f"{self.workspace.inventory_path}: unknown backend {backend!r}")
