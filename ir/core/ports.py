"""The ports actions talk through. Backends implement them; the core never imports a backend.

Each Protocol lists only what actions need. Its `*_MUTATING` set names the methods that change
the world: in a dry run the engine hands actions a guard that refuses exactly those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

ContainerStatus = Literal["created", "running", "paused", "restarting", "removing", "exited", "dead"]


@dataclass(frozen=True)
class NetworkAttachment:
    """One network a container is attached to, with what is needed to reattach it."""

    name: str
    network_id: str = ""
    aliases: tuple[str, ...] = ()
    ipv4_address: str = ""


@dataclass(frozen=True)
class ContainerState:
    """What the runtime reports about a container right now."""

    id: str
    name: str
    status: ContainerStatus
    image: str
    networks: tuple[NetworkAttachment, ...] = ()
    network_mode: str = ""
    mounts: tuple[Mapping[str, Any], ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def network_names(self) -> tuple[str, ...]:
        """Names of attached networks, sorted."""
        return tuple(sorted(n.name for n in self.networks))


CONTAINER_MUTATING = frozenset({"pause", "unpause", "disconnect", "connect", "stop", "commit", "checkpoint"})
"""The ContainerRuntime methods that change the world (refused in a dry run)."""


@runtime_checkable
class ContainerRuntime(Protocol):
    """A container engine: Docker Engine, or the simulated world."""

    def describe(self) -> str:
        """Where this runtime is, for messages (e.g. `docker unix:///run/docker.sock`)."""
        ...

    def inspect(self, ref: str) -> ContainerState:
        """Current state of the container `ref` (name or id); NotFoundError if absent."""
        ...

    def inspect_raw(self, ref: str) -> dict[str, Any]:
        """The engine's full inspect document for the container."""
        ...

    def pause(self, ref: str) -> None:
        """Freeze every process of the container (memory kept)."""
        ...

    def unpause(self, ref: str) -> None:
        """Thaw a paused container."""
        ...

    def disconnect(self, ref: str, network: str) -> None:
        """Detach the container from one network."""
        ...

    def connect(self, ref: str, attachment: NetworkAttachment) -> None:
        """Attach the container to a network as it was before."""
        ...

    def stop(self, ref: str, timeout: int) -> None:
        """Stop the container (destructive: processes and memory are lost)."""
        ...

    def top(self, ref: str) -> dict[str, Any]:
        """The process list inside the container."""
        ...

    def diff(self, ref: str) -> list[dict[str, Any]]:
        """Filesystem changes since the image."""
        ...

    def logs(self, ref: str) -> Iterator[bytes]:
        """Everything the container wrote to stdout/stderr, each line with its timestamp."""
        ...

    def export(self, ref: str) -> Iterator[bytes]:
        """The container's filesystem as a tar stream."""
        ...

    def find_image(self, reference: str) -> str | None:
        """Id of the image tagged `reference`, or None."""
        ...

    def commit(self, ref: str, repository: str, tag: str) -> str:
        """Commit the container to an image `repository:tag`; returns the image id."""
        ...

    def save_image(self, image: str) -> Iterator[bytes]:
        """The image as a `docker save` tar stream."""
        ...

    def checkpoint_support(self) -> str | None:
        """None when checkpoints work here, otherwise why not."""
        ...

    def checkpoint(self, ref: str, name: str) -> Iterator[bytes]:
        """A CRIU checkpoint of the running container, as a tar stream."""
        ...


class ReadOnlyGuard:
    """Wraps a backend for a dry run: reads pass through, mutating calls raise DryRunViolation."""

    def __init__(self, inner: Any, mutating: frozenset[str]) -> None:
        self._inner = inner
        self._mutating = mutating

    def __getattr__(self, name: str) -> Any:
        if name in self._mutating:
            from ir.core.errors import DryRunViolation

            def refuse(*_args: Any, **_kwargs: Any) -> Any:
                raise DryRunViolation(f"dry run: refused mutating call {name}()")

            return refuse
        return getattr(self._inner, name)


class Backends(Protocol):
    """What the engine is handed to reach the world: one runtime per agent."""

    def container_runtime(self, backend: str, host: str | None) -> ContainerRuntime:
        """The container runtime for an agent's `backend` (`docker` or `simulated`)."""
        ...
