"""Injects: when each is due, and delivering one through the path it would take in real life.

A card is recorded (the console shows it); an alert goes through the sandbox's real alert path in
this process (inbox → normalise → resolve → route → policy → case), so routes and policies are
rehearsed too; log lines are appended to the sandbox's files (the timeline grows); world changes
go to the sandbox's world through the `WorldChanges` port the CLI hands in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.alerts.executor import LocalExecutor
from ir.alerts.inbox import Inbox
from ir.alerts.pipeline import Pipeline
from ir.core.errors import InputError
from ir.core.signing_trust import workspace_trust
from ir.core.workspace import Workspace
from ir.core.yamlsafe import Located
from ir.tabletop.ports import Runtime
from ir.tabletop.sandbox import Sandbox
from ir.tabletop.scenario import Inject, Scenario, seconds

MAX_BODY = 1024 * 1024
"""The largest alert body an inject may carry (the same cap as `ir serve`)."""


def due_at(inject: Inject, delivered: Mapping[str, float]) -> float | None:
    """Exercise time `inject` is due at: its `at`, or `delay` after its `after` was delivered (None: not yet)."""
    if inject.at is not None:
        return float(seconds(inject.at))
    if inject.after is not None and inject.after in delivered:
        return delivered[inject.after] + seconds(inject.delay)
    return None


def alert_bodies(scenario: Scenario, scenario_file: Path, located: Located | None = None) -> dict[str, bytes]:
    """Inject id → the bytes its alert sends, read before the exercise starts (a missing file is
    an InputError naming `scenario.yaml:line:col`)."""
    bodies: dict[str, bytes] = {}
    for index, inject in enumerate(scenario.injects):
        if inject.alert is None:
            continue
        if inject.alert.file is None:
            bodies[inject.id] = json.dumps(inject.alert.body, sort_keys=True).encode()
            continue
        path = scenario_file.parent / inject.alert.file
        where = located.where(("injects", index, "alert", "file")) if located else str(scenario_file)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{where}: injects.{inject.id}.alert.file: cannot read {path}: {exc.strerror}") from None
        if len(body) > MAX_BODY:
            raise InputError(f"{where}: injects.{inject.id}.alert.file: larger than {MAX_BODY} bytes")
        bodies[inject.id] = body
    return bodies


class Delivery:
    """Delivers injects into one exercise's sandbox."""

    def __init__(self, sandbox: Sandbox, runtime: Runtime, bodies: Mapping[str, bytes]) -> None:
        self.sandbox = sandbox
        self.runtime = runtime
        self.bodies = bodies
        self.ws: Workspace = sandbox.workspace()
        settings = self.ws.settings.alerts
        service_key = sandbox.key_for(settings.service.principal)
        executor = LocalExecutor(
            self.ws,
            lambda handler: runtime.engine_for(handler, service_key),
            actor=settings.service.principal,
            parallel=settings.fleet.parallel,
        )
        self.inbox = Inbox(self.ws.path(settings.inbox))
        self.pipeline = Pipeline(
            self.ws, self.inbox, executor, container_labels=runtime.container_labels, trust=workspace_trust(self.ws)
        )

    def deliver(self, inject: Inject) -> tuple[list[str], dict[str, Any]]:
        """Deliver every part of `inject`; (what was delivered, the details for `inject.delivered`)."""
        what: list[str] = []
        details: dict[str, Any] = {}
        if inject.card is not None:
            what.append("card")
            details["card"] = {"title": inject.card.title, "to": inject.card.to, "body": inject.card.body}
        if inject.alert is not None:
            what.append("alert")
            details["alert"] = self._alert(inject)
        if inject.logs:
            what.append("logs")
            details["logs"] = [self._append(log.path, log.lines) for log in inject.logs]
        if inject.world:
            what.append("world")
            details["world"] = [
                self._world(inject, n, change.model_dump(exclude_none=True))
                for n, change in enumerate(inject.world, start=1)
            ]
        return what, details

    def _alert(self, inject: Inject) -> dict[str, Any]:
        assert inject.alert is not None
        source = inject.alert.source
        found = self.ws.settings.alerts.sources.get(source)
        if found is None:
            return {"source": source, "delivery": None, "cases": [], "outcome": f"no source {source!r} in alerts"}
        accepted = self.inbox.accept(
            source=source,
            fmt=found.format,
            body=self.bodies[inject.id],
            delivery_key=f"{self.sandbox.id}:{inject.id}",
            headers={},
            via="exercise",
        )
        self.pipeline.process(accepted.id)
        rows = self.inbox.alerts_of(accepted.id)
        delivery = self.inbox.delivery(accepted.id)
        cases = [str(c["case"]) for row in rows for c in row.cases if c.get("case")]
        out: dict[str, Any] = {
            "source": source,
            "delivery": accepted.id,
            "cases": list(dict.fromkeys(cases)),
            "alerts": [{"ref": row.ref, "outcome": row.outcome, "reason": row.reason} for row in rows],
        }
        if delivery is not None and delivery.state == "rejected":
            out["rejected"] = delivery.reason
        return out

    def _append(self, rel: str, lines: tuple[str, ...] | list[str]) -> str:
        path = self.ws.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line.rstrip("\n") + "\n")
        return rel

    def _world(self, inject: Inject, number: int, change: dict[str, Any]) -> dict[str, Any]:
        agent_id = change.get("agent")
        if agent_id and agent_id in self.ws.inventory.agents:
            container = self.ws.inventory.agents[agent_id].container
            if container is not None:
                change["container"] = container.ref
        done = self.runtime.world.apply(change)
        if change["op"] == "egress" and done.get("applied") and change.get("log"):
            call = {
                "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "agent": agent_id,
                "tool": "http.post",
                "call_id": f"{self.sandbox.id}-{inject.id}-{number}",
                "arguments": {"url": change["url"]},
                "success": True,
            }
            done["log"] = self._append(str(change["log"]), [json.dumps(call, sort_keys=True)])
        return done
