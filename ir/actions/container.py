"""Container verbs: freeze, thaw, cut and restore the network, stop.

Each reads real state first, changes only what is not already as wanted (idempotent), and
`verify()` reads state back. Freezing keeps memory and processes intact: it is the first move.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from ir.core.action import Action, ActionParams, Change, Check, Plan, StepContext
from ir.core.errors import BackendError, InputError
from ir.core.ports import ContainerState, NetworkAttachment


class ContainerParams(ActionParams):
    """Which container: by default the agent's container from the inventory."""

    container: str | None = None
    """Container name or id; default: the agent's `container` entry."""


def target(ctx: StepContext, params: ContainerParams) -> str:
    """The container reference a step acts on."""
    if params.container:
        return params.container
    if ctx.agent.container and ctx.agent.container.ref:
        return ctx.agent.container.ref
    raise InputError(f"agent {ctx.agent.id}: no container in the inventory and no `container:` argument")


def _label(state: ContainerState) -> str:
    return f"container {state.name} ({state.id[:12]})"


class Pause(Action[ContainerParams]):
    """Freeze every process of the container; memory and open files stay as they are."""

    name = "container.pause"
    summary = "Freeze the agent's container (docker pause): processes stop, memory is kept."
    Params = ContainerParams
    domain = "container"
    inverse = "container.unpause"

    def plan(self, ctx: StepContext, params: ContainerParams) -> Plan:
        state = ctx.containers().inspect(target(ctx, params))
        if state.status == "paused":
            return Plan(notes=(f"{_label(state)} is already paused: nothing to do",))
        if state.status != "running":
            return Plan(notes=(f"{_label(state)} is {state.status}: it cannot be paused",))
        return Plan(changes=(Change(_label(state), "status", "running", "paused"),))

    def execute(self, ctx: StepContext, params: ContainerParams) -> Mapping[str, Any]:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        if state.status == "running":
            runtime.pause(state.id)
            ctx.output(f"paused {_label(state)}")
        elif state.status != "paused":
            raise BackendError(f"{_label(state)} is {state.status}: cannot pause (nothing is running to freeze)")
        else:
            ctx.output(f"{_label(state)} was already paused")
        after = runtime.inspect(state.id)
        if after.status != "paused":
            raise BackendError(f"{_label(state)}: still {after.status} after pause")
        return {
            "container_id": state.id,
            "container": state.name,
            "previous_status": state.status,
            "status": after.status,
        }

    def verify(self, ctx: StepContext, params: ContainerParams) -> Check:
        state = ctx.containers().inspect(target(ctx, params))
        return Check(
            state.status == "paused",
            f"{_label(state)} is {state.status}",
            {"container_id": state.id, "container": state.name, "status": state.status},
        )


class Unpause(Action[ContainerParams]):
    """Thaw a paused container (the release of container.pause)."""

    name = "container.unpause"
    summary = "Thaw the agent's container (docker unpause); the release of container.pause."
    Params = ContainerParams
    releases = True
    inverse = "container.pause"

    def plan(self, ctx: StepContext, params: ContainerParams) -> Plan:
        state = ctx.containers().inspect(target(ctx, params))
        if state.status != "paused":
            return Plan(notes=(f"{_label(state)} is {state.status}: nothing to thaw",))
        return Plan(changes=(Change(_label(state), "status", "paused", "running"),))

    def execute(self, ctx: StepContext, params: ContainerParams) -> Mapping[str, Any]:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        if state.status == "paused":
            runtime.unpause(state.id)
            ctx.output(f"unpaused {_label(state)}")
        after = runtime.inspect(state.id)
        return {"container_id": state.id, "previous_status": state.status, "status": after.status}

    def verify(self, ctx: StepContext, params: ContainerParams) -> Check:
        state = ctx.containers().inspect(target(ctx, params))
        return Check(
            state.status != "paused",
            f"{_label(state)} is {state.status}",
            {"container_id": state.id, "status": state.status},
        )


def _attachments(state: ContainerState) -> list[dict[str, Any]]:
    return [
        {"name": n.name, "network_id": n.network_id, "aliases": list(n.aliases), "ipv4_address": n.ipv4_address}
        for n in state.networks
    ]


class IsolateNetwork(Action[ContainerParams]):
    """Disconnect the container from every network, remembering each so it can be restored."""

    name = "container.isolate_network"
    summary = "Disconnect the agent's container from every network; outputs the networks for restore."
    Params = ContainerParams
    inverse = "container.restore_network"
    isolates = True

    def prior(self, ctx: StepContext, params: ContainerParams) -> Mapping[str, Any]:
        state = ctx.containers().inspect(target(ctx, params))
        return {"networks": _attachments(state), "network_mode": state.network_mode}

    def _refuse_host_mode(self, state: ContainerState) -> None:
        if state.network_mode == "host":
            raise BackendError(
                f"{_label(state)} uses the host's network: it cannot be cut by disconnecting; "
                "block it on the host (firewall) instead"
            )

    def plan(self, ctx: StepContext, params: ContainerParams) -> Plan:
        state = ctx.containers().inspect(target(ctx, params))
        if state.network_mode == "host":
            return Plan(
                notes=(f"{_label(state)} uses the host's network: disconnecting is impossible (the step will fail)",)
            )
        if not state.networks:
            return Plan(notes=(f"{_label(state)} is on no network: nothing to cut",))
        return Plan(
            changes=tuple(
                Change(_label(state), f"network {n.name}", "connected", "disconnected") for n in state.networks
            )
        )

    def execute(self, ctx: StepContext, params: ContainerParams) -> Mapping[str, Any]:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        self._refuse_host_mode(state)
        for network in state.networks:
            runtime.disconnect(state.id, network.name)
            ctx.output(f"disconnected {_label(state)} from {network.name}")
        after = runtime.inspect(state.id)
        if after.networks:
            raise BackendError(f"{_label(state)}: still on {', '.join(after.network_names)} after disconnecting")
        original = ctx.prior.get("networks", _attachments(state))
        return {"container_id": state.id, "networks": original, "disconnected": [n.name for n in state.networks]}

    def verify(self, ctx: StepContext, params: ContainerParams) -> Check:
        state = ctx.containers().inspect(target(ctx, params))
        done = not state.networks and state.network_mode != "host"
        return Check(
            done,
            f"{_label(state)} networks: {', '.join(state.network_names) or 'none'}",
            {"container_id": state.id, "networks": ctx.prior.get("networks", []), "disconnected": []},
        )


class RestoreParams(ContainerParams):
    """Which container, and the networks to put it back on."""

    networks: list[dict[str, Any]] = Field(default_factory=list)
    """The `networks` output of the container.isolate_network step."""


class RestoreNetwork(Action[RestoreParams]):
    """Reconnect the container to the networks it was isolated from (release of isolate)."""

    name = "container.restore_network"
    summary = "Reconnect the agent's container to the networks container.isolate_network recorded."
    Params = RestoreParams
    releases = True
    inverse = "container.isolate_network"

    def _missing(self, state: ContainerState, params: RestoreParams) -> list[NetworkAttachment]:
        have = set(state.network_names)
        wanted = [
            NetworkAttachment(
                str(n["name"]),
                str(n.get("network_id", "")),
                tuple(n.get("aliases") or ()),
                str(n.get("ipv4_address") or ""),
            )
            for n in params.networks
        ]
        return [n for n in wanted if n.name not in have]

    def plan(self, ctx: StepContext, params: RestoreParams) -> Plan:
        state = ctx.containers().inspect(target(ctx, params))
        missing = self._missing(state, params)
        if not missing:
            return Plan(notes=(f"{_label(state)} is on every recorded network: nothing to restore",))
        return Plan(
            changes=tuple(Change(_label(state), f"network {n.name}", "disconnected", "connected") for n in missing)
        )

    def execute(self, ctx: StepContext, params: RestoreParams) -> Mapping[str, Any]:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        missing = self._missing(state, params)
        for network in missing:
            runtime.connect(state.id, network)
            ctx.output(f"reconnected {_label(state)} to {network.name}")
        return {"container_id": state.id, "reconnected": [n.name for n in missing]}

    def verify(self, ctx: StepContext, params: RestoreParams) -> Check:
        state = ctx.containers().inspect(target(ctx, params))
        missing = self._missing(state, params)
        return Check(
            not missing,
            f"{_label(state)} missing: {', '.join(n.name for n in missing) or 'none'}",
            {"container_id": state.id, "reconnected": []},
        )


class StopParams(ContainerParams):
    """Which container, and how long to wait before killing it."""

    timeout: int = Field(default=10, ge=0, le=600)
    """Seconds between SIGTERM and SIGKILL."""


class Stop(Action[StopParams]):
    """Stop the container. Destructive: processes and memory are gone afterwards."""

    name = "container.stop"
    summary = "Stop the agent's container (destructive: memory is lost); needs a prior evidence step."
    Params = StopParams
    domain = "container"
    destructive = True

    def plan(self, ctx: StepContext, params: StopParams) -> Plan:
        state = ctx.containers().inspect(target(ctx, params))
        if state.status in ("exited", "dead", "created"):
            return Plan(notes=(f"{_label(state)} is {state.status}: nothing to stop",))
        return Plan(
            changes=(Change(_label(state), "status", state.status, "exited"),),
            notes=("processes and memory of the container are lost",),
        )

    def execute(self, ctx: StepContext, params: StopParams) -> Mapping[str, Any]:
        runtime = ctx.containers()
        state = runtime.inspect(target(ctx, params))
        if state.status not in ("exited", "dead", "created"):
            runtime.stop(state.id, params.timeout)
            ctx.output(f"stopped {_label(state)}")
        after = runtime.inspect(state.id)
        return {"container_id": state.id, "previous_status": state.status, "status": after.status}

    def verify(self, ctx: StepContext, params: StopParams) -> Check:
        state = ctx.containers().inspect(target(ctx, params))
        return Check(
            state.status in ("exited", "dead"),
            f"{_label(state)} is {state.status}",
            {"container_id": state.id, "status": state.status},
        )
