"""From an inbox delivery to cases: normalise → route → resolve → policy → executor → inbox.

Exactly once, across crashes: a delivery's alert rows are created once; an alert row is final
only after its cases are started (or it was folded, deduplicated, observed…). A row still `new`
after a crash is handled again, and a case it already started is found by the `trigger` its
`run.started` record carries: an open one is resumed, a finished one is reported, never a second
run. A later alert about an agent with an open case of the route's playbook is journalled into
that case (`alert.correlated`). An incident already contained, re-sent (GuardDuty re-sends a
finding every 6 h), is a duplicate: journalled, not contained again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.alerts.executor import CaseOutcome, CaseRequest, Executor
from ir.alerts.formats import decode, normalise
from ir.alerts.inbox import AlertRow, Delivery, Inbox
from ir.alerts.model import Alert, AlertFormatError
from ir.alerts.resolve import FLEET_RULES, ContainerLabels, Resolution, resolve
from ir.alerts.route import choose
from ir.core.agent_lock import open_case
from ir.core.alert_settings import Route
from ir.core.attach import Attached, correlate, latest_case
from ir.core.case import StepStatus, load_state
from ir.core.errors import InputError, IrError
from ir.core.signing_trust import Trust, workspace_trust
from ir.core.workspace import Workspace

AUTOMATIC = frozenset({"auto", "auto_then_approve"})
"""Policies whose cases count against the breaker."""


@dataclass(frozen=True)
class Settled:
    """What one alert row came to (for `ir contain`'s summary)."""

    ref: str
    outcome: str
    reason: str
    cases: list[dict[str, Any]]


class Pipeline:
    """Processes inbox deliveries for one workspace."""

    def __init__(
        self,
        ws: Workspace,
        inbox: Inbox,
        executor: Executor,
        *,
        container_labels: ContainerLabels | None = None,
        clock: Callable[[], float] = time.time,
        on_case_started: Callable[[str], None] | None = None,
        trust: Trust | None = None,
    ) -> None:
        self.ws, self.inbox, self.executor = ws, inbox, executor
        self.settings = ws.settings.alerts
        self.container_labels = container_labels
        self.clock = clock
        self.on_case_started = on_case_started
        self.actor = self.settings.service.principal
        self.trust = trust or workspace_trust(ws)

    def process_pending(self) -> list[Settled]:
        """Every delivery not yet done, oldest first (after a crash: what was cut short)."""
        done: list[Settled] = []
        for delivery in self.inbox.unfinished():
            done.extend(self.process(delivery.id))
        return done

    def process(self, delivery_id: int) -> list[Settled]:
        """Normalise one delivery and settle each of its alerts."""
        claimed = self.inbox.claim(delivery_id)
        if claimed is None:
            return []  # finished, or another live process is on it
        delivery, recovering = claimed
        try:
            alerts = _read(delivery)
        except AlertFormatError as exc:
            self.inbox.set_delivery(delivery.id, "rejected", str(exc))
            return [Settled(str(delivery.id), "rejected", str(exc), [])]
        settled = []
        for row in self.inbox.add_alerts(delivery.id, alerts):
            if row.outcome == "new":
                self.handle(row, recovering)
            final = self.inbox.alert(row.id) or row
            settled.append(Settled(final.ref, final.outcome, final.reason, final.cases))
        self.inbox.set_delivery(delivery.id, "done")
        return settled

    def handle(self, row: AlertRow, recovering: bool = False) -> None:
        """Route, resolve and act on one alert row (it ends final, or waiting for a person)."""
        alert = row.alert
        route = choose(alert, self.settings.routes)
        fleet = route.fleet_by if route else tuple(FLEET_RULES)
        found = resolve(alert, self.ws.inventory, self.container_labels, fleet)
        facts: dict[str, Any] = {
            "resolution": found.as_dict(),
            "route": route.name if route else "",
            "policy": route.policy if route else "",
        }
        if alert.status == "resolved":
            self._resolved(row, found, route, facts)
        elif route is None:
            self.inbox.settle(row.id, "waiting", "no route matches this alert (ir.yaml alerts.routes)", **facts)
        elif not found.actionable:
            self.inbox.settle(row.id, "waiting", f"{found.state}: {found.detail}", **facts)
        elif route.policy == "observe":
            self.inbox.settle(row.id, "observed", f"route {route.name}: policy observe (journalled only)", **facts)
        elif len(found.agents) > route.max_agents:
            why = f"{len(found.agents)} agents, more than route {route.name} contains at once ({route.max_agents})"
            self.inbox.settle(row.id, "waiting", why, **facts)
        elif route.policy == "shadow":
            plans = [self.executor.plan(self._request(row, route, found, agent)).as_dict() for agent in found.agents]
            why = f"route {route.name}: policy shadow (nothing ran)"
            self.inbox.settle(row.id, "shadowed", why, cases=plans, **facts)
        else:
            self._contain(row, route, found, facts, recovering)

    def fail(self, delivery_id: int, reason: str) -> None:
        """The pipeline broke on a delivery (a bug, not the alert): its unsettled alerts become
        `failed` with the reason, for a person to settle (`ir alerts assign`), and it is not retried."""
        for row in self.inbox.alerts_of(delivery_id):
            if row.outcome == "new":
                self.inbox.settle(row.id, "failed", f"internal error: {reason}")
        self.inbox.set_delivery(delivery_id, "failed", reason)

    def preview(self, alert: Alert) -> dict[str, Any]:
        """What `handle` would do with `alert`, changing nothing (`ir contain --dry-run`)."""
        route = choose(alert, self.settings.routes)
        found = resolve(alert, self.ws.inventory, self.container_labels, route.fleet_by if route else FLEET_RULES)
        lines = [f"agents: {', '.join(found.agents) or 'none'} ({found.state}: {found.detail})"]
        if route is None:
            lines.append("route: none matches (it would wait for a person)")
        else:
            lines.append(f"route: {route.name} → {route.playbook} under policy {route.policy}")
        plans = []
        if route is not None and found.actionable and alert.status == "firing":
            for agent in found.agents[: route.max_agents]:
                row = AlertRow(0, 0, alert.index, alert.incident_key, alert, "new", "", {}, "", "", [], "")
                plan = self.executor.plan(self._request(row, route, found, agent))
                plans.append(plan.as_dict())
                lines.append(f"{agent}: would run {route.playbook}:")
                lines.extend(f"  {line}" for line in plan.plan)
                if plan.status == "error":
                    lines.append(f"  cannot plan: {plan.message}")
        return {
            "alert": alert.index,
            "resolution": found.as_dict(),
            "route": route.name if route else None,
            "policy": route.policy if route else None,
            "plans": plans,
            "lines": lines,
        }

    def assign(self, row: AlertRow, agents: tuple[str, ...], by: str) -> None:
        """A person names the agents of a waiting alert: its route runs for them, with `by` recorded."""
        if row.outcome != "waiting":
            raise InputError(f"alert {row.ref} is {row.outcome}, not waiting for a person")
        route = choose(row.alert, self.settings.routes)
        if route is None:
            raise InputError(f"alert {row.ref}: no route matches it; add one to ir.yaml (alerts.routes)")
        detail = f"assigned by {by}: {', '.join(agents)}"
        found = Resolution("attributed" if len(agents) == 1 else "fleet", "person", agents, detail)
        facts: dict[str, Any] = {"resolution": found.as_dict(), "route": route.name, "policy": route.policy}
        if route.policy in ("observe", "shadow"):
            self.inbox.settle(row.id, "observed", f"route {route.name}: policy {route.policy}; {detail}", **facts)
            return
        kept = [c for c in row.cases if c.get("agent") not in agents and c.get("how") != "waiting"]
        self._contain(row, route, found, facts, recovering=False, person=True, kept=kept)

    def _contain(
        self,
        row: AlertRow,
        route: Route,
        found: Resolution,
        facts: dict[str, Any],
        recovering: bool,
        person: bool = False,
        kept: list[dict[str, Any]] | None = None,
    ) -> None:
        results: list[dict[str, Any]] = list(kept or [])
        to_start: list[str] = []
        for agent in found.agents:
            mine = self._own_case(row, agent, route.playbook) if recovering else None
            if mine is not None:
                results.append(self._recover(mine, agent, route))
                continue
            joined = self._fold(row, agent, route.playbook, closed_too=False)
            if joined is not None:
                results.append({"agent": agent, "case": joined.case_dir.name, "how": "folded"})
                continue
            earlier = self.inbox.handled_incident(row.incident_key, before=row.id)
            if earlier is not None and any(c.get("agent") == agent for c in earlier.cases):
                again = self._fold(row, agent, route.playbook, closed_too=True, repeat=earlier.ref)
                case = again.case_dir.name if again else None
                results.append({"agent": agent, "case": case, "how": "duplicate", "of": earlier.ref})
                continue
            to_start.append(agent)
        waiting_reason = ""
        if to_start and route.policy in AUTOMATIC and not person:
            breaker = self.settings.breaker
            allowed, waiting_reason = self.inbox.reserve_automatic(
                to_start, row.id, limit=breaker.max_automatic, window_s=breaker.minutes * 60, by=self.actor
            )  # counted before they start: a crash never under-counts
            for agent in to_start[len(allowed) :]:
                results.append({"agent": agent, "case": None, "how": "waiting", "why": waiting_reason})
            to_start = allowed
        requests = [self._request(row, route, found, agent) for agent in to_start]
        for request, done in zip(requests, self.executor.start(requests), strict=True):
            results.append(self._started(row, request, done))
        outcome, reason = _overall(results, route, waiting_reason)
        self.inbox.settle(row.id, outcome, reason, cases=results, **facts)

    def _started(self, row: AlertRow, request: CaseRequest, outcome: CaseOutcome) -> dict[str, Any]:
        """One agent's result; an agent busy with a run of the same playbook gets the alert folded in."""
        if outcome.case_id is None and request.policy in AUTOMATIC:
            self.inbox.release_automatic(request.agent_id, row.id)  # it never started: it does not count
        if outcome.status == "busy":
            joined = self._fold(row, request.agent_id, request.playbook, closed_too=False)
            if joined is not None:
                return {"agent": request.agent_id, "case": joined.case_dir.name, "how": "folded"}
            return outcome.as_dict() | {"how": "waiting", "why": outcome.message or "agent busy"}
        if outcome.case_id is None:
            return outcome.as_dict() | {"how": "failed"}
        if self.on_case_started is not None:
            self.on_case_started(request.policy)
        return outcome.as_dict() | {"how": "started", "ran": bool(outcome.ran)}

    def _request(self, row: AlertRow, route: Route, found: Resolution, agent: str) -> CaseRequest:
        trigger = _alert_facts(row) | {
            "route": route.name,
            "policy": route.policy,
            "resolution": {"state": found.state, "rule": found.rule, "detail": found.detail},
            "evidence": found.evidence.get(agent, []),
        }
        return CaseRequest(agent, route.playbook, dict(route.params), route.policy, route.name, trigger)

    def _fold(self, row: AlertRow, agent: str, playbook: str, *, closed_too: bool, repeat: str = "") -> Attached | None:
        alert = row.alert
        if alert.status == "resolved":
            text = f"resolved notification from {alert.source}: recorded; it releases nothing"
        elif repeat:
            text = f"alert {row.ref} repeats incident {alert.incident_key} (first as {repeat}): not contained again"
        else:
            text = f"alert {row.ref} from {alert.source} about {agent}: joined this open case instead of a second run"
        return correlate(
            workspace=self.ws.root,
            cases_dir=self.ws.cases_dir,
            agent_id=agent,
            playbook_id=playbook,
            alert=_alert_facts(row),
            request=f"alert-{row.ref}-{agent}",
            actor=self.actor,
            text=text,
            trust=self.trust,
            closed_too=closed_too,
        )

    def _resolved(self, row: AlertRow, found: Resolution, route: Route | None, facts: dict[str, Any]) -> None:
        results = []
        playbook = route.playbook if route else ""
        for agent in found.agents if found.actionable and playbook else ():
            joined = self._fold(row, agent, playbook, closed_too=True)
            results.append({"agent": agent, "case": joined.case_dir.name if joined else None, "how": "resolved"})
        where = ", ".join(r["case"] for r in results if r["case"]) or "no case of the agent to record it in"
        why = f"resolved notification: releases nothing ({where})"
        self.inbox.settle(row.id, "resolved", why, cases=results, **facts)

    def _own_case(self, row: AlertRow, agent: str, playbook: str) -> Path | None:
        """The case this alert row started for `agent` before a crash, if it did."""
        for path in (open_case(self.ws.cases_dir, agent, playbook), latest_case(self.ws.cases_dir, agent, playbook)):
            if path is not None and (load_state(path).started.get("trigger") or {}).get("inbox") == row.ref:
                return path
        return None

    def _recover(self, case_dir: Path, agent: str, route: Route) -> dict[str, Any]:
        """A case started before a crash: continue it if its run was cut short, else report it."""
        state = load_state(case_dir)
        if str(state.run_status) in ("running", "interrupted"):
            try:
                outcome = self.executor.resume(case_dir.name, actor=self.actor, policy=route.policy, route=route.name)
            except IrError as exc:
                return {"agent": agent, "case": case_dir.name, "how": "started", "status": "error", "message": str(exc)}
            return outcome.as_dict() | {"how": "started", "recovered": True, "ran": bool(outcome.ran)}
        ran = any(st.status == StepStatus.SUCCEEDED for st in state.steps.values())
        return {"agent": agent, "case": case_dir.name, "how": "started", "status": str(state.run_status), "ran": ran}


def _read(delivery: Delivery) -> list[Alert]:
    return normalise(delivery.format, decode(delivery.body), source=delivery.source)


def _alert_facts(row: AlertRow) -> dict[str, Any]:
    """What a journal says about the alert (no raw body: that stays in the inbox, by its sha256)."""
    alert = row.alert
    return {
        "inbox": row.ref,
        "source": alert.source,
        "kind": alert.kind,
        "source_id": alert.source_id,
        "incident_key": alert.incident_key,
        "status": alert.status,
        "severity": alert.severity,
        "title": alert.title,
        "observed": alert.observed,
        "received": row.received,
    }


def _overall(results: list[dict[str, Any]], route: Route, breaker: str) -> tuple[str, str]:
    """The row's outcome from its agents' results. `waiting` while any agent waits for a person
    (the breaker, a busy agent, a case waiting for approval before anything ran); `failed` when a
    started case failed or could not start; `contained` when every started case contained;
    then `folded`, `duplicate`."""
    hows = [r.get("how") for r in results]
    cases = [str(r.get("case")) for r in results if r.get("case")]
    named = f" ({', '.join(cases)})" if cases else ""
    waits = [r for r in results if r.get("how") == "waiting" or (r.get("how") == "started" and not r.get("ran"))]
    failed = [r for r in results if r.get("how") == "failed" or r.get("status") in _FAILED]
    if failed:
        said = "; ".join(f"{r.get('agent')}: {r.get('message') or r.get('status')}" for r in failed)
        return "failed", f"route {route.name}: {said}{named}"
    if waits:
        before = " waits for approval before any change"
        said = "; ".join(f"{r.get('agent')}: {r.get('why') or 'case ' + str(r.get('case')) + before}" for r in waits)
        return "waiting", f"{len(waits)} of {len(results)} agent(s) wait for a person — {said}"
    if "started" in hows:
        return "contained", f"route {route.name}: {route.policy}{named}"
    if "folded" in hows:
        return "folded", f"journalled into the open case{named}"
    if "duplicate" in hows:
        return "duplicate", f"incident already contained{named}"
    return "failed", breaker or "nothing was started"


_FAILED = frozenset({"failed", "errored", "incomplete", "interrupted", "error"})
"""Case statuses (and `error`: could not start) that mean containment is not done."""


__all__ = ["Pipeline", "Settled"]
