"""The simulated container engine: a documented world kept in a JSON file (see world_store).

Used by the demo workspace and by tabletop exercises. It obeys the same contract as Docker
Engine (the contract tests run against both): pausing a paused container is a conflict,
a container that does not exist is NotFoundError, export and save return real tar streams.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.backends.world_store import WorldStore
from ir.core.errors import BackendError, NotFoundError
from ir.core.ports import ContainerState, NetworkAttachment


class SimulatedWorld:
    """The containers of a simulated world stored at `state_path`, seeded from `seed_path`."""

    def __init__(self, state_path: Path, seed_path: Path | None = None, store: WorldStore | None = None) -> None:
        self.store = store or WorldStore(state_path, seed_path)
        self.state_path = self.store.state_path

    @property
    def calls(self) -> list[tuple[str, str]]:
        """(operation, container) of every call made, for tests."""
        return self.store.calls

    def _world(self, write: bool) -> Any:
        return self.store.open(write)

    def inject_fault(self, operation: str, error: str, times: int = 1) -> None:
        """Make the next `times` calls of `operation` raise `error`."""
        self.store.inject_fault(operation, error, times)

    def _call(self, world: dict[str, Any], operation: str, ref: str) -> dict[str, Any]:
        self.store.call(world, operation, ref, f"container {ref}")
        for container in world["containers"].values():
            if ref in (container["name"], container["id"]) or (len(ref) >= 12 and container["id"].startswith(ref)):
                found: dict[str, Any] = container
                return found
        raise NotFoundError(f"container {ref}: not found (simulated world)")

    # -- ContainerRuntime -------------------------------------------------------------------

    def describe(self) -> str:
        """`simulated <state file>`."""
        return f"simulated {self.state_path}"

    def inspect_raw(self, ref: str) -> dict[str, Any]:
        """An inspect document shaped like Docker's (the parts agent-ir reads)."""
        with self._world(write=True) as world:
            c = self._call(world, "inspect_raw", ref)
            return {
                "Id": c["id"],
                "Name": "/" + c["name"],
                "Image": c["image_id"],
                "State": {
                    "Status": "running" if c["status"] == "paused" else c["status"],
                    "Paused": c["status"] == "paused",
                    "Running": c["status"] in ("running", "paused"),
                },
                "Config": {"Image": c["image"], "Env": c["env"], "Labels": c["labels"]},
                "HostConfig": {"NetworkMode": c["network_mode"]},
                "NetworkSettings": {
                    "Networks": {
                        n["name"]: {
                            "NetworkID": n["network_id"],
                            "Aliases": n["aliases"],
                            "IPAMConfig": {"IPv4Address": n["ipv4_address"]} if n["ipv4_address"] else None,
                        }
                        for n in c["networks"]
                    }
                },
                "Mounts": c["mounts"],
            }

    def inspect(self, ref: str) -> ContainerState:
        """Current state."""
        with self._world(write=True) as world:
            c = self._call(world, "inspect", ref)
            return ContainerState(
                id=c["id"],
                name=c["name"],
                status=c["status"],
                image=c["image"],
                networks=tuple(
                    NetworkAttachment(n["name"], n["network_id"], tuple(n["aliases"]), n["ipv4_address"])
                    for n in c["networks"]
                ),
                network_mode=c["network_mode"],
                mounts=tuple(c["mounts"]),
                labels=dict(c["labels"]),
            )

    def _transition(self, ref: str, operation: str, allowed: set[str], to: str) -> None:
        with self._world(write=True) as world:
            c = self._call(world, operation, ref)
            if c["status"] not in allowed:
                raise BackendError(f"container {ref}: {operation}: container is {c['status']} (simulated world)")
            c["status"] = to

    def pause(self, ref: str) -> None:
        """Freeze: running → paused."""
        self._transition(ref, "pause", {"running"}, "paused")

    def unpause(self, ref: str) -> None:
        """Thaw: paused → running."""
        self._transition(ref, "unpause", {"paused"}, "running")

    def stop(self, ref: str, timeout: int) -> None:
        """running or paused → exited."""
        self._transition(ref, "stop", {"running", "paused", "exited"}, "exited")

    def disconnect(self, ref: str, network: str) -> None:
        """Detach from one network."""
        with self._world(write=True) as world:
            c = self._call(world, "disconnect", ref)
            if not any(n["name"] == network for n in c["networks"]):
                raise BackendError(f"container {ref}: not connected to network {network} (simulated world)")
            c["networks"] = [n for n in c["networks"] if n["name"] != network]

    def connect(self, ref: str, attachment: NetworkAttachment) -> None:
        """Attach to a network."""
        with self._world(write=True) as world:
            c = self._call(world, "connect", ref)
            if any(n["name"] == attachment.name for n in c["networks"]):
                raise BackendError(f"container {ref}: already connected to {attachment.name} (simulated world)")
            c["networks"].append(
                {
                    "name": attachment.name,
                    "network_id": attachment.network_id,
                    "aliases": list(attachment.aliases),
                    "ipv4_address": attachment.ipv4_address,
                }
            )

    def top(self, ref: str) -> dict[str, Any]:
        """The process table."""
        with self._world(write=True) as world:
            return dict(self._call(world, "top", ref)["processes"])

    def diff(self, ref: str) -> list[dict[str, Any]]:
        """Filesystem changes: every seeded file under a writable path counts as added."""
        with self._world(write=True) as world:
            return list(self._call(world, "diff", ref)["diff"])

    def logs(self, ref: str) -> Iterator[bytes]:
        """Timestamped log lines."""
        with self._world(write=True) as world:
            lines = list(self._call(world, "logs", ref)["logs"])
        for line in lines:
            yield (line.rstrip("\n") + "\n").encode()

    def export(self, ref: str) -> Iterator[bytes]:
        """The filesystem as a tar stream built from the seeded files."""
        with self._world(write=True) as world:
            files = dict(self._call(world, "export", ref)["files"])
        yield _tar(files)

    def find_image(self, reference: str) -> str | None:
        """Id of a committed image."""
        with self._world(write=False) as world:
            found = world["images"].get(reference)
            return str(found["id"]) if found else None

    def commit(self, ref: str, repository: str, tag: str) -> str:
        """Record an image holding the container's files."""
        with self._world(write=True) as world:
            c = self._call(world, "commit", ref)
            image_id = "sha256:" + hashlib.sha256(json.dumps(c["files"], sort_keys=True).encode()).hexdigest()
            world["images"][f"{repository}:{tag}"] = {
                "id": image_id,
                "files": c["files"],
                "config": {"Image": c["image"]},
            }
            return image_id

    def save_image(self, image: str) -> Iterator[bytes]:
        """A tar holding the image's config and files."""
        with self._world(write=False) as world:
            found = next((v for k, v in world["images"].items() if image in (k, v["id"])), None)
        if found is None:
            raise NotFoundError(f"image {image}: not found (simulated world)")
        files = {
            "manifest.json": json.dumps([{"Config": found["id"]}]),
            **{f"layer{p}": t for p, t in found["files"].items()},
        }
        yield _tar(files)

    def checkpoint_support(self) -> str | None:
        """The simulated world keeps no process memory to checkpoint."""
        return "the simulated world has no process memory to checkpoint (CRIU applies to Docker hosts)"

    def checkpoint(self, ref: str, name: str) -> Iterator[bytes]:
        """Never supported here."""
        raise BackendError(f"container {ref}: {self.checkpoint_support()}")

    def container_status(self, ref: str) -> str:
        """Status without recording a call (for tests and the demo)."""
        with self._world(write=False) as world:
            for c in world["containers"].values():
                if ref in (c["name"], c["id"]):
                    return str(c["status"])
        raise NotFoundError(ref)


def _tar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
