"""The ports actions talk through. Backends implement them; the core never imports a backend.

Each Protocol lists only what actions need. Its `*_MUTATING` set names the methods that change
the world: in a dry run the engine hands actions a guard that refuses exactly those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ir.core.errors import DryRunViolation

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


@dataclass(frozen=True)
class AccessKey:
    """One long-term access key of an IAM user."""

    key_id: str
    status: Literal["Active", "Inactive"]
    created: str = ""


@dataclass(frozen=True)
class Principal:
    """An IAM user or role as the cloud reports it: keys, policies, console access."""

    kind: Literal["user", "role"]
    name: str
    arn: str
    access_keys: tuple[AccessKey, ...] = ()
    attached_policies: tuple[str, ...] = ()
    inline_policies: tuple[str, ...] = ()
    login_profile: str | None = None
    """Creation time of the console password, None when there is none."""
    mfa_devices: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (metadata only: there are no secret values here)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "access_keys": [{"key_id": k.key_id, "status": k.status, "created": k.created} for k in self.access_keys],
            "attached_policies": list(self.attached_policies),
            "inline_policies": list(self.inline_policies),
            "login_profile": self.login_profile,
            "mfa_devices": list(self.mfa_devices),
        }


@dataclass(frozen=True)
class SecretState:
    """A stored secret's metadata; its value is never read."""

    secret_id: str
    arn: str
    name: str
    rotation_enabled: bool
    versions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Version id → staging labels (AWSCURRENT, AWSPREVIOUS, AWSPENDING)."""
    last_changed: str = ""

    @property
    def current(self) -> str | None:
        """The version id labelled AWSCURRENT."""
        return next((v for v, stages in self.versions.items() if "AWSCURRENT" in stages), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "secret_id": self.secret_id,
            "arn": self.arn,
            "name": self.name,
            "rotation_enabled": self.rotation_enabled,
            "versions": {k: list(v) for k, v in self.versions.items()},
            "last_changed": self.last_changed,
        }


CREDENTIALS_MUTATING = frozenset(
    {
        "set_key_status",
        "put_inline_policy",
        "delete_inline_policy",
        "delete_login_profile",
        "rotate_secret",
        "put_random_secret_version",
    }
)
"""The CloudCredentials methods that change the world (refused in a dry run)."""


@runtime_checkable
class CloudCredentials(Protocol):
    """A cloud's identity and secrets service: AWS IAM + Secrets Manager, or the simulated world."""

    def describe(self) -> str:
        """Where this backend is, for messages."""
        ...

    def principal(self, kind: Literal["user", "role"], name: str) -> Principal:
        """Current state of a user or role; NotFoundError if absent."""
        ...

    def access_keys(self, user: str) -> tuple[AccessKey, ...]:
        """A user's access keys (`principal` reads everything else too); NotFoundError if absent."""
        ...

    def set_key_status(self, user: str, key_id: str, status: Literal["Active", "Inactive"]) -> None:
        """Activate or deactivate one access key (never delete it)."""
        ...

    def inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> dict[str, Any] | None:
        """An inline policy document, or None when the principal has no policy of that name."""
        ...

    def put_inline_policy(
        self, kind: Literal["user", "role"], name: str, policy: str, document: dict[str, Any]
    ) -> None:
        """Create or replace an inline policy."""
        ...

    def delete_inline_policy(self, kind: Literal["user", "role"], name: str, policy: str) -> None:
        """Remove an inline policy."""
        ...

    def delete_login_profile(self, user: str) -> None:
        """Remove the user's console password."""
        ...

    def secret(self, secret_id: str) -> SecretState:
        """A secret's metadata; NotFoundError if absent."""
        ...

    def rotate_secret(self, secret_id: str, token: str) -> str:
        """Start the secret's configured rotation with a fixed request token; returns the version id."""
        ...

    def put_random_secret_version(self, secret_id: str, token: str) -> str:
        """Store a new random value as AWSCURRENT with a fixed request token; returns the version id."""
        ...

    def lookup_events(self, username: str, start: str) -> list[dict[str, Any]]:
        """CloudTrail events by a user since `start` (LookupEvents); BackendError if unsupported."""
        ...


@dataclass(frozen=True)
class HostRun:
    """The outcome of an automation run across hosts."""

    ok: bool
    changed: Mapping[str, int] = field(default_factory=dict)
    """Host → number of changed tasks."""
    failures: Mapping[str, str] = field(default_factory=dict)
    """Host → first failure message (failed or unreachable)."""
    unreachable: tuple[str, ...] = ()


HOSTS_MUTATING = frozenset({"apply"})
"""The HostAutomation methods that change the world (refused in a dry run)."""


@runtime_checkable
class HostAutomation(Protocol):
    """Runs automation playbooks against hosts: ansible-runner, or the simulated world."""

    def describe(self) -> str:
        """Where this backend is, for messages."""
        ...

    def check(
        self, playbook: str, hosts: tuple[str, ...], variables: Mapping[str, Any], data_dir: str, on_line: Any
    ) -> HostRun:
        """Run in check mode (nothing changes); reports what would change."""
        ...

    def apply(
        self, playbook: str, hosts: tuple[str, ...], variables: Mapping[str, Any], data_dir: str, on_line: Any
    ) -> HostRun:
        """Run for real."""
        ...


HTTP_MUTATING = frozenset({"request"})
"""The HttpCalls methods that change the world."""


class HttpCalls(Protocol):
    """Plain HTTP calls to provider APIs that have no SDK here (LLM vendors' key revocation)."""

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float) -> int:
        """Send one request; returns the HTTP status. Connection failures raise BackendUnavailable."""
        ...


class ReadOnlyGuard:
    """Wraps a backend for a dry run: reads pass through, mutating calls raise DryRunViolation."""

    def __init__(self, inner: Any, mutating: frozenset[str]) -> None:
        self._inner = inner
        self._mutating = mutating

    def __getattr__(self, name: str) -> Any:
        if name in self._mutating:

            def refuse(*_args: Any, **_kwargs: Any) -> Any:
                raise DryRunViolation(f"dry run: refused mutating call {name}()")

            return refuse
        return getattr(self._inner, name)


class Backends(Protocol):
    """What the engine is handed to reach the world, chosen by the agent's `backend`."""

    def container_runtime(self, backend: str, host: str | None) -> ContainerRuntime:
        """The container runtime for an agent's `backend` (`docker` or `simulated`)."""
        ...

    def cloud_credentials(self, backend: str) -> CloudCredentials:
        """AWS (for `docker` agents: real infrastructure) or the simulated cloud."""
        ...

    def host_automation(self, backend: str) -> HostAutomation:
        """ansible-runner (real infrastructure) or the simulated hosts."""
        ...

    def http(self, backend: str) -> HttpCalls:
        """Real HTTP, or the simulated world's record of calls."""
        ...
