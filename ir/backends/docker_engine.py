"""ContainerRuntime on Docker Engine, through the `docker` SDK's low-level API.

Vendor errors are translated once, in `translate_errors()`; nothing above this module sees a
docker or requests exception.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from ir.core.errors import (
    BackendError,
    BackendUnavailable,
    NotFoundError,
    PermissionDenied,
    TransientError,
)
from ir.core.ports import ContainerState, NetworkAttachment

CHUNK = 1 << 20
POOL = 64
"""Connections kept to the daemon: one per case an alert runs at once (`alerts.fleet.parallel` ≤ 64)."""


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Map docker/requests exceptions to ir errors naming `what`."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise NotFoundError(f"{what}: not found ({_explain(exc)})") from exc
    except docker.errors.APIError as exc:
        status = exc.status_code or 0
        if status in (401, 403):
            raise PermissionDenied(f"{what}: permission denied ({_explain(exc)})") from exc
        if status in (429, 502, 503, 504):
            raise TransientError(f"{what}: daemon busy ({_explain(exc)})") from exc
        raise BackendError(f"{what}: {_explain(exc)}") from exc
    except (requests.exceptions.ConnectionError, FileNotFoundError, ConnectionRefusedError) as exc:
        raise BackendUnavailable(f"{what}: Docker Engine unreachable ({exc.__class__.__name__})") from exc
    except requests.exceptions.Timeout as exc:
        raise TransientError(f"{what}: Docker Engine timed out") from exc
    except docker.errors.DockerException as exc:
        text = str(exc)
        if "fetching server API version" in text:
            cause = "no socket there" if "FileNotFoundError" in text else "connection failed"
            cause = "connection refused" if "ConnectionRefused" in text else cause
            raise BackendUnavailable(f"{what}: Docker Engine unreachable ({cause})") from exc
        raise BackendError(f"{what}: {text.splitlines()[0] if text else exc.__class__.__name__}") from exc


def _explain(exc: docker.errors.APIError) -> str:
    text = exc.explanation if isinstance(exc.explanation, str) else str(exc)
    return text.strip().splitlines()[0] if text.strip() else f"HTTP {exc.status_code}"


def _state(doc: dict[str, Any]) -> ContainerState:
    state = doc.get("State") or {}
    status = "paused" if state.get("Paused") else str(state.get("Status") or "created")
    settings = doc.get("NetworkSettings") or {}
    networks = tuple(
        NetworkAttachment(
            name=name,
            network_id=str(conf.get("NetworkID") or ""),
            aliases=tuple(a for a in (conf.get("Aliases") or ()) if a != doc.get("Id", "")[:12]),
            ipv4_address=str((conf.get("IPAMConfig") or {}).get("IPv4Address") or ""),
        )
        for name, conf in sorted((settings.get("Networks") or {}).items())
        if name not in ("none",)
    )
    config = doc.get("Config") or {}
    return ContainerState(
        id=str(doc.get("Id", "")),
        name=str(doc.get("Name", "")).lstrip("/"),
        status=status,  # type: ignore[arg-type]
        image=str(config.get("Image") or doc.get("Image") or ""),
        networks=networks,
        network_mode=str((doc.get("HostConfig") or {}).get("NetworkMode") or ""),
        mounts=tuple(doc.get("Mounts") or ()),
        labels=dict(config.get("Labels") or {}),
    )


class DockerEngine:
    """A Docker daemon, at `host` or wherever DOCKER_HOST points."""

    def __init__(self, host: str | None = None, timeout: float = 60.0) -> None:
        self.host = host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        self.timeout = timeout
        self._client: docker.APIClient | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        """`docker <host>`."""
        return f"docker {self.host}"

    @property
    def api(self) -> docker.APIClient:
        """The low-level client, created on first use (so a down daemon fails in a step)."""
        with self._lock:  # cases running side by side share one engine (and one connection pool)
            if self._client is None:
                with translate_errors(self.describe()):
                    self._client = docker.APIClient(
                        base_url=self.host, version="auto", timeout=int(self.timeout), max_pool_size=POOL
                    )
            return self._client

    def close(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def inspect_raw(self, ref: str) -> dict[str, Any]:
        """`docker inspect`."""
        with translate_errors(f"container {ref}"):
            return dict(self.api.inspect_container(ref))

    def inspect(self, ref: str) -> ContainerState:
        """Container state from `docker inspect`."""
        return _state(self.inspect_raw(ref))

    def pause(self, ref: str) -> None:
        """`docker pause`."""
        with translate_errors(f"container {ref}: pause"):
            self.api.pause(ref)

    def unpause(self, ref: str) -> None:
        """`docker unpause`."""
        with translate_errors(f"container {ref}: unpause"):
            self.api.unpause(ref)

    def disconnect(self, ref: str, network: str) -> None:
        """`docker network disconnect`."""
        with translate_errors(f"container {ref}: disconnect from {network}"):
            self.api.disconnect_container_from_network(ref, network, force=False)

    def connect(self, ref: str, attachment: NetworkAttachment) -> None:
        """`docker network connect`, with the aliases and address it had."""
        with translate_errors(f"container {ref}: connect to {attachment.name}"):
            self.api.connect_container_to_network(
                ref,
                attachment.network_id or attachment.name,
                aliases=list(attachment.aliases) or None,
                ipv4_address=attachment.ipv4_address or None,
            )

    def stop(self, ref: str, timeout: int) -> None:
        """`docker stop`."""
        with translate_errors(f"container {ref}: stop"):
            self.api.stop(ref, timeout=timeout)

    def top(self, ref: str) -> dict[str, Any]:
        """`docker top` (works on a paused container: it reads the cgroup)."""
        with translate_errors(f"container {ref}: top"):
            return dict(self.api.top(ref))

    def diff(self, ref: str) -> list[dict[str, Any]]:
        """`docker diff`."""
        with translate_errors(f"container {ref}: diff"):
            return list(self.api.diff(ref) or [])

    def logs(self, ref: str) -> Iterator[bytes]:
        """`docker logs --timestamps`, stdout and stderr, streamed."""
        with translate_errors(f"container {ref}: logs"):
            stream = self.api.logs(ref, stdout=True, stderr=True, timestamps=True, stream=True, follow=False)
        yield from self._guarded(stream, f"container {ref}: logs")

    def export(self, ref: str) -> Iterator[bytes]:
        """`docker export`, streamed."""
        with translate_errors(f"container {ref}: export"):
            stream = self.api.export(ref, chunk_size=CHUNK)
        yield from self._guarded(stream, f"container {ref}: export")

    def find_image(self, reference: str) -> str | None:
        """Id of the image tagged `reference`, if any."""
        try:
            with translate_errors(f"image {reference}"):
                return str(self.api.inspect_image(reference)["Id"])
        except NotFoundError:
            return None

    def commit(self, ref: str, repository: str, tag: str) -> str:
        """`docker commit --pause=false` (the container is already frozen or must stay as is)."""
        with translate_errors(f"container {ref}: commit"):
            result = self.api.commit(ref, repository=repository, tag=tag, message="agent-ir evidence", pause=False)
        return str(result["Id"])

    def save_image(self, image: str) -> Iterator[bytes]:
        """`docker save`, streamed."""
        with translate_errors(f"image {image}: save"):
            stream = self.api.get_image(image, chunk_size=CHUNK)
        yield from self._guarded(stream, f"image {image}: save")

    def checkpoint_support(self) -> str | None:
        """Why CRIU checkpoints cannot be taken here, or None when they can."""
        with translate_errors(self.describe()):
            info = self.api.info()
        if not info.get("ExperimentalBuild"):
            return "the daemon runs without experimental features (dockerd --experimental), which checkpoints need"
        if not self.host.startswith("unix://"):
            return "checkpoint files stay on the daemon's host; only a local daemon's can be collected"
        if shutil.which("criu") is None:
            return "CRIU is not installed on the daemon's host"
        return None

    def checkpoint(self, ref: str, name: str) -> Iterator[bytes]:
        """A CRIU checkpoint (container keeps running) as a tar of its checkpoint directory."""
        with tempfile.TemporaryDirectory(prefix="ir-ckpt-") as tmp:
            with translate_errors(f"container {ref}: checkpoint"):
                url = self.api._url("/containers/{0}/checkpoints", ref)
                res = self.api._post_json(url, data={"CheckpointID": name, "Exit": False, "CheckpointDir": tmp})
                self.api._raise_for_status(res)
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as tar:
                tar.add(Path(tmp), arcname=name)
            yield buffer.getvalue()

    @staticmethod
    def _guarded(stream: Any, what: str) -> Iterator[bytes]:
        with translate_errors(what):
            yield from stream
