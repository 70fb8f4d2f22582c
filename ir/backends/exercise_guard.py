"""The exercise interlock in the execution layer: backends of a sandbox that refuse what is not one.

`ExerciseBackends` is `WorkspaceBackends` for an exercise's sandbox workspace; `backends_for`
(ir/backends/__init__.py) hands it to every command run on a sandbox, not only `ir tabletop`. The
simulated world is untouched. A sandbox not started `--live-fire` refuses every other backend. In a
live-fire one, a Docker Engine runtime must be a private engine (unix socket or loopback) and is
wrapped in `LabelledRuntime`: every call naming a container first reads its labels and refuses
(PermissionDenied) one that does not carry `dev.agent-ir.exercise=<exercise id>`. AWS is checked
again whenever a step asks for it (loopback endpoint, no real credentials); Ansible hosts are
refused outright, HTTP calls off loopback too. The interlock already refused all of this before
the exercise started; this is the second line, where the calls are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from ir.backends import WorkspaceBackends
from ir.core.errors import PermissionDenied
from ir.core.ports import (
    CloudCredentials,
    ContainerRuntime,
    ContainerState,
    HostAutomation,
    HttpCalls,
    NetworkAttachment,
)
from ir.core.workspace import Workspace
from ir.tabletop.interlock import LABEL, InterlockRefused, check_aws, loopback


class LabelledRuntime:
    """A container runtime that acts only on containers labelled for one exercise."""

    def __init__(self, inner: ContainerRuntime, exercise_id: str) -> None:
        self.inner = inner
        self.exercise_id = exercise_id

    def _guard(self, ref: str) -> None:
        labels = (self.inner.inspect_raw(ref).get("Config") or {}).get("Labels") or {}
        if labels.get(LABEL) != self.exercise_id:
            raise PermissionDenied(
                f"container {ref}: exercise interlock: it does not carry the label {LABEL}={self.exercise_id}; "
                "an exercise touches only containers labelled for it"
            )

    def describe(self) -> str:
        """The inner runtime, marked as guarded."""
        return f"{self.inner.describe()} (exercise {self.exercise_id}: labelled containers only)"

    def inspect(self, ref: str) -> ContainerState:
        """Current state (of a labelled container)."""
        self._guard(ref)
        return self.inner.inspect(ref)

    def inspect_raw(self, ref: str) -> dict[str, Any]:
        """The inspect document (of a labelled container)."""
        self._guard(ref)
        return self.inner.inspect_raw(ref)

    def pause(self, ref: str) -> None:
        """Freeze a labelled container."""
        self._guard(ref)
        self.inner.pause(ref)

    def unpause(self, ref: str) -> None:
        """Thaw a labelled container."""
        self._guard(ref)
        self.inner.unpause(ref)

    def disconnect(self, ref: str, network: str) -> None:
        """Detach a labelled container from a network."""
        self._guard(ref)
        self.inner.disconnect(ref, network)

    def connect(self, ref: str, attachment: NetworkAttachment) -> None:
        """Attach a labelled container to a network."""
        self._guard(ref)
        self.inner.connect(ref, attachment)

    def stop(self, ref: str, timeout: int) -> None:
        """Stop a labelled container."""
        self._guard(ref)
        self.inner.stop(ref, timeout)

    def top(self, ref: str) -> dict[str, Any]:
        """Processes of a labelled container."""
        self._guard(ref)
        return self.inner.top(ref)

    def diff(self, ref: str) -> list[dict[str, Any]]:
        """Filesystem changes of a labelled container."""
        self._guard(ref)
        return self.inner.diff(ref)

    def logs(self, ref: str) -> Iterator[bytes]:
        """Logs of a labelled container."""
        self._guard(ref)
        return self.inner.logs(ref)

    def export(self, ref: str) -> Iterator[bytes]:
        """Filesystem export of a labelled container."""
        self._guard(ref)
        return self.inner.export(ref)

    def find_image(self, reference: str) -> str | None:
        """Image lookup (images are what the evidence step committed: not refused)."""
        return self.inner.find_image(reference)

    def commit(self, ref: str, repository: str, tag: str) -> str:
        """Commit a labelled container to an image."""
        self._guard(ref)
        return self.inner.commit(ref, repository, tag)

    def save_image(self, image: str) -> Iterator[bytes]:
        """Save an image."""
        return self.inner.save_image(image)

    def checkpoint_support(self) -> str | None:
        """As the inner runtime."""
        return self.inner.checkpoint_support()

    def checkpoint(self, ref: str, name: str) -> Iterator[bytes]:
        """Checkpoint a labelled container."""
        self._guard(ref)
        return self.inner.checkpoint(ref, name)


class ExerciseBackends(WorkspaceBackends):
    """The backends of an exercise's sandbox: simulated as ever; real ones only behind the interlock."""

    def __init__(self, workspace: Workspace, exercise_id: str | None = None, *, live_fire: bool | None = None) -> None:
        super().__init__(workspace)
        settings = workspace.settings.exercise
        self.exercise_id = exercise_id or (settings.id if settings else "")
        self.live_fire = live_fire if live_fire is not None else bool(settings and settings.live_fire)
        if not self.exercise_id:
            raise PermissionDenied(f"{workspace.settings_path}: exercise interlock: no exercise id to guard with")

    def _allowed(self, backend: str) -> None:
        """Only the simulated world, unless the exercise was started `--live-fire`."""
        if backend != "simulated" and not self.live_fire:
            raise PermissionDenied(
                f"exercise interlock: backend {backend}: exercise {self.exercise_id} was not started "
                "--live-fire, so it acts on the simulated world only"
            )

    def container_runtime(self, backend: str, host: str | None) -> ContainerRuntime:
        """The simulated world, or a private Docker Engine wrapped so only labelled containers are touched."""
        self._allowed(backend)
        if backend != "simulated":
            chosen = host or os.environ.get("DOCKER_HOST") or self.workspace.settings.docker.host
            chosen = chosen or "unix:///var/run/docker.sock"
            if not loopback(chosen):
                raise PermissionDenied(
                    f"exercise interlock: Docker host {chosen} is not a private engine (unix socket or loopback)"
                )
        runtime = super().container_runtime(backend, host)
        if backend == "simulated":
            return runtime
        guarded: ContainerRuntime = self._once(
            ("guarded", host or ""), lambda: LabelledRuntime(runtime, self.exercise_id)
        )
        return guarded

    def cloud_credentials(self, backend: str) -> CloudCredentials:
        """The simulated cloud, or AWS once the endpoint and credentials are checked again."""
        self._allowed(backend)
        if backend != "simulated":
            try:
                check_aws(os.environ, self.workspace.settings.aws)
            except InterlockRefused as exc:
                raise PermissionDenied(f"exercise interlock: {exc}") from None
        return super().cloud_credentials(backend)

    def host_automation(self, backend: str) -> HostAutomation:
        """The simulated hosts only: Ansible would act on real hosts."""
        self._allowed(backend)
        if backend != "simulated":
            raise PermissionDenied("exercise interlock: live fire does not reach hosts (Ansible)")
        return super().host_automation(backend)

    def http(self, backend: str) -> HttpCalls:
        """The simulated HTTP recorder, or real HTTP to loopback addresses only."""
        self._allowed(backend)
        inner = super().http(backend)
        return inner if backend == "simulated" else LoopbackHttp(inner)


class LoopbackHttp:
    """HTTP calls to this machine only (a stand-in provider API); anything else is refused."""

    def __init__(self, inner: HttpCalls) -> None:
        self.inner = inner

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> int:
        """Send it if `url` is on loopback."""
        if not loopback(url):
            raise PermissionDenied(f"{url}: exercise interlock: live fire calls loopback addresses only")
        return self.inner.request(method, url, headers, body, timeout)
