"""Backends: thin drivers for Docker Engine, AWS, Ansible, HTTP and the simulated world.

An agent's `backend` picks the world: `docker` agents live on real infrastructure (Docker
Engine, AWS, Ansible, HTTP); `simulated` agents live in the simulated world of the workspace.
Every entry point (`ir run`, `resume`, `contain`, `serve`, `alerts …`, the console, the exercise
runtime) gets its backends from `backends_for`: in an exercise's sandbox they are the guarded ones.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ir.core.errors import WorkspaceError
from ir.core.ports import CloudCredentials, ContainerRuntime, HostAutomation, HttpCalls
from ir.core.workspace import Workspace


class WorkspaceBackends:
    """The backends of one workspace, created on first use and then reused.

    One instance may serve several engines in several threads at once (the alert executor's
    cases share one AWS session and one Docker connection pool): each backend is made once,
    under a lock, and is itself safe to call from threads (boto3 clients, the docker SDK's
    connection pool, the simulated world's file lock).
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._cache: dict[tuple[str, ...], Any] = {}
        self._lock = threading.RLock()  # a simulated backend makes the world store inside its make()

    def _once(self, key: tuple[str, ...], make: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def world_store(self) -> Any:
        """The simulated world's store (one per workspace)."""
        from ir.backends.world_store import WorldStore

        settings = self.workspace.settings.simulated
        return self._once(
            ("store",), lambda: WorldStore(self.workspace.path(settings.state), self.workspace.path(settings.seed))
        )

    def _check(self, backend: str) -> None:
        if backend not in ("docker", "simulated"):
            raise WorkspaceError(f"{self.workspace.inventory_path}: unknown backend {backend!r}")

    def container_runtime(self, backend: str, host: str | None) -> ContainerRuntime:
        """Docker Engine (agent host, then DOCKER_HOST, then ir.yaml) or the simulated world."""
        self._check(backend)
        if backend == "simulated":
            from ir.backends.simulated import SimulatedWorld

            store = self.world_store()
            made: ContainerRuntime = self._once(
                ("sim-containers",), lambda: SimulatedWorld(store.state_path, store.seed_path, store=store)
            )
            return made
        from ir.backends.docker_engine import DockerEngine

        settings = self.workspace.settings.docker
        chosen = host or os.environ.get("DOCKER_HOST") or settings.host
        made = self._once(("docker", chosen or ""), lambda: DockerEngine(chosen, timeout=settings.timeout))
        return made

    def cloud_credentials(self, backend: str) -> CloudCredentials:
        """AWS through boto3 (AWS_REGION / AWS_PROFILE win over ir.yaml) or the simulated cloud."""
        self._check(backend)
        if backend == "simulated":
            from ir.backends.simulated_cloud import SimulatedCloud

            made: CloudCredentials = self._once(("sim-cloud",), lambda: SimulatedCloud(self.world_store()))
            return made
        from ir.backends.aws import AwsCredentials

        aws = self.workspace.settings.aws
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or aws.region
        profile = os.environ.get("AWS_PROFILE") or aws.profile
        made = self._once(("aws",), lambda: AwsCredentials(region=region, profile=profile))
        return made

    def host_automation(self, backend: str) -> HostAutomation:
        """ansible-runner with the workspace's inventory, or the simulated hosts."""
        self._check(backend)
        if backend == "simulated":
            from ir.backends.simulated_hosts import SimulatedHosts

            made: HostAutomation = self._once(("sim-hosts",), lambda: SimulatedHosts(self.world_store()))
            return made
        from ir.backends.ansible import AnsibleHosts

        inventory = self.workspace.settings.ansible.inventory
        made = self._once(("ansible",), lambda: AnsibleHosts(self.workspace.path(inventory) if inventory else None))
        return made

    def http(self, backend: str) -> HttpCalls:
        """Real HTTP, or the simulated world's recorder."""
        self._check(backend)
        if backend == "simulated":
            from ir.backends.simulated_hosts import SimulatedHttp

            made: HttpCalls = self._once(("sim-http",), lambda: SimulatedHttp(self.world_store()))
            return made
        from ir.backends.http import HttpClient

        made = self._once(("http",), HttpClient)
        return made


def backends_for(workspace: Workspace) -> WorkspaceBackends:
    """The backends of `workspace` — behind the exercise interlock when it is a tabletop exercise's
    sandbox (`exercise:` in its `ir.yaml`), however the command reached it (`ir -w …/workspace run`
    as much as `ir tabletop run`): real endpoints, credentials and unlabelled containers are refused
    at the call (ir/backends/exercise_guard.py)."""
    if workspace.settings.exercise is not None:
        from ir.backends.exercise_guard import ExerciseBackends

        return ExerciseBackends(workspace)
    return WorkspaceBackends(workspace)
