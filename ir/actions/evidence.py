"""Evidence verbs: capture a container's state into the case, most volatile first (RFC 3227).

The snapshot records, as separate hashed artifacts: inspect, process list, a CRIU checkpoint
(or why none could be taken), logs with timestamps, filesystem diff, filesystem export, the
committed image (saved), and the volumes, which export and commit leave out. A resumed step
captures only what it had not recorded yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ir.actions.container import ContainerParams, target
from ir.core.action import Action, Change, Check, Plan, StepContext
from ir.core.errors import BackendError, BackendUnavailable, IrError
from ir.core.ports import ContainerRuntime

ARTIFACTS = (
    "inspect.json",
    "top.json",
    "checkpoint.tar",
    "logs.txt",
    "diff.json",
    "filesystem.tar",
    "image.tar",
    "volumes.json",
)


class SnapshotParams(ContainerParams):
    """What to include besides the always-captured metadata and logs."""

    filesystem: bool = True
    """Export the container's filesystem (`docker export`)."""
    image: bool = True
    """Commit the container to an image and save it (`docker commit` + `docker save`)."""
    checkpoint: bool = True
    """Try a CRIU checkpoint (process memory: secret evidence) where the daemon supports it."""
    image_repository: str = "ir-evidence"
    """Repository for the committed image; the tag is derived from the case and step."""


def _json(value: Any) -> Iterable[bytes]:
    yield json.dumps(value, indent=2, sort_keys=True, default=str).encode() + b"\n"


def _redact_env(doc: dict[str, Any]) -> dict[str, Any]:
    """Keep variable names, drop values: env often carries the agent's keys."""
    config = dict(doc.get("Config") or {})
    config["Env"] = [item.split("=", 1)[0] + "=[REDACTED]" for item in config.get("Env") or []]
    return {**doc, "Config": config}


def image_tag(ctx: StepContext) -> str:
    """A valid, stable docker tag for this case and step (so a retry finds its own commit)."""
    return re.sub(r"[^a-z0-9_.-]", "-", f"{ctx.case_id}.{ctx.step_id}".lower())[:128]


class ContainerSnapshot(Action[SnapshotParams]):
    """Capture the container's state and logs as hashed, write-once evidence."""

    name = "evidence.container_snapshot"
    summary = "Capture inspect, processes, checkpoint, logs, diff, filesystem, image and volumes as evidence."
    Params = SnapshotParams
    captures_evidence = True
    domain = "container"

    def _wanted(self, params: SnapshotParams) -> list[str]:
        skip = {
            "filesystem.tar": not params.filesystem,
            "image.tar": not params.image,
            "checkpoint.tar": not params.checkpoint,
        }
        return [name for name in ARTIFACTS if not skip.get(name)]

    def plan(self, ctx: StepContext, params: SnapshotParams) -> Plan:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        label = f"case evidence of {state.name}"
        changes = [
            Change(label, name, "absent", "captured") for name in self._wanted(params) if name != "checkpoint.tar"
        ]
        notes = []
        if params.checkpoint:
            reason = runtime.checkpoint_support()
            if reason:
                notes.append(f"checkpoint.tar will be recorded as unavailable: {reason}")
            else:
                changes.insert(2, Change(label, "checkpoint.tar", "absent", "captured"))
        if params.image:
            changes.append(Change(f"image {params.image_repository}:<case>.{ctx.step_id}", "exists", False, True))
        if state.status == "running":
            notes.append("the container is running: freeze it first for a consistent snapshot")
        return Plan(changes=tuple(changes), notes=tuple(notes))

    def execute(self, ctx: StepContext, params: SnapshotParams) -> Mapping[str, Any]:
        assert ctx.evidence is not None
        runtime = ctx.containers()
        ref = target(ctx, params)
        raw = runtime.inspect_raw(ref)
        cid, name = str(raw.get("Id", ref)), str(raw.get("Name", ref)).lstrip("/")
        source = f"{runtime.describe()} container {name} ({cid[:12]})"
        captures: dict[str, Callable[[], tuple[Iterable[bytes], str, bool]]] = {
            "inspect.json": lambda: (_json(_redact_env(raw)), "docker inspect (Env values redacted)", False),
            "top.json": lambda: (_json(runtime.top(cid)), "docker top", False),
            "checkpoint.tar": lambda: self._checkpoint(runtime, cid, ctx),
            "logs.txt": lambda: (runtime.logs(cid), "docker logs --timestamps (stdout+stderr)", True),
            "diff.json": lambda: (_json(runtime.diff(cid)), "docker diff", False),
            "filesystem.tar": lambda: (runtime.export(cid), "docker export", True),
            "image.tar": lambda: self._image(runtime, cid, ctx, params),
            "volumes.json": lambda: (
                _json(self._volumes(raw)),
                "mounts from docker inspect (volume contents not in export or image)",
                False,
            ),
        }
        for artifact in self._wanted(params):
            if ctx.evidence.recorded(artifact) or ctx.evidence.recorded_unavailable(artifact):
                continue
            try:
                chunks, method, sensitive = captures[artifact]()
                item = ctx.evidence.store(artifact, chunks, source=source, method=method, sensitive=sensitive)
                ctx.output(f"captured {artifact}: sha256 {item.sha256} ({item.size} bytes)")
            except BackendUnavailable:
                raise
            except IrError as exc:
                if not isinstance(exc, BackendError):
                    raise
                ctx.evidence.unavailable(artifact, str(exc))
        return self._outputs(ctx, params)

    def _outputs(self, ctx: StepContext, params: SnapshotParams) -> dict[str, Any]:
        assert ctx.evidence is not None
        captured: dict[str, str] = {}
        missing: dict[str, str] = {}
        for artifact in self._wanted(params):
            item = ctx.evidence.recorded(artifact)
            if item:
                captured[artifact] = item.sha256
            else:
                missing[artifact] = ctx.evidence.recorded_unavailable(artifact) or "not captured"
        return {"artifacts": captured, "unavailable": missing}

    def verify(self, ctx: StepContext, params: SnapshotParams) -> Check:
        outputs = self._outputs(ctx, params)
        pending = [a for a, why in outputs["unavailable"].items() if why == "not captured"]
        return Check(not pending, f"artifacts still to capture: {', '.join(pending) or 'none'}", outputs)

    def _checkpoint(self, runtime: ContainerRuntime, cid: str, ctx: StepContext) -> tuple[Iterable[bytes], str, bool]:
        reason = runtime.checkpoint_support()
        if reason:
            raise BackendError(f"checkpoint unavailable: {reason}")
        return (
            runtime.checkpoint(cid, image_tag(ctx)),
            "CRIU checkpoint (contains process memory: secret evidence)",
            True,
        )

    def _image(
        self, runtime: ContainerRuntime, cid: str, ctx: StepContext, params: SnapshotParams
    ) -> tuple[Iterable[bytes], str, bool]:
        reference = f"{params.image_repository}:{image_tag(ctx)}"
        image_id = runtime.find_image(reference) or runtime.commit(cid, params.image_repository, image_tag(ctx))
        ctx.output(f"committed {reference} ({image_id[:19]})")
        return runtime.save_image(image_id), f"docker commit --pause=false as {reference}, docker save", True

    @staticmethod
    def _volumes(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
        keep = ("Type", "Name", "Source", "Destination", "Driver", "Mode", "RW")
        return [{k: m.get(k) for k in keep if k in m} for m in raw.get("Mounts") or []]
