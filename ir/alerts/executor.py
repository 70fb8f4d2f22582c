"""The seam between the alert path and the run loop: start cases, signal approvals, ask status.

Receive, normalise, resolve and route never touch the engine: they hand `CaseRequest`s to an
`Executor`. `LocalExecutor` runs them in this process on a bounded thread pool, a fresh engine
per case (its own agent lock, its own journal; the workspace's backends — one AWS session, one
Docker connection pool — are shared, as is the playbook read once per alert). A distributed
engine can replace it by implementing the same four calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ir.core.agent_lock import describe, holder
from ir.core.alert_settings import Policy
from ir.core.case import StepStatus, load_state, pinned_playbook, resolve_case
from ir.core.engine import Engine
from ir.core.errors import AgentBusy, ApprovalRefused, CaseError, InputError, IrError
from ir.core.events import Event, EventHandler, RunOptions, RunSummary
from ir.core.gates import approvers_for
from ir.core.playbook import LoadedPlaybook, find_playbook
from ir.core.records import Kind
from ir.core.workspace import Workspace


@dataclass(frozen=True)
class CaseRequest:
    """One case to open: which agent, which playbook, under which policy, because of what."""

    agent_id: str
    playbook: str
    params: Mapping[str, str]
    policy: Policy
    route: str
    trigger: Mapping[str, Any] = field(default_factory=dict)
    """Journalled in `run.started`: the alert, the route, the resolution rule."""


@dataclass(frozen=True)
class CaseOutcome:
    """What became of one request: the case and how its run stands (or why there is none)."""

    agent_id: str
    case_id: str | None
    status: str
    """The run's status (`succeeded`, `awaiting_approval`, `incomplete`, `failed`, …), `planned`
    for a shadow run, `busy` when the agent already has a run or an open case, `error`."""
    exit_code: int
    message: str | None = None
    waiting_for: tuple[str, ...] = ()
    still_live: tuple[Mapping[str, str], ...] = ()
    plan: tuple[str, ...] = ()
    """Shadow runs: one line per step that would run."""
    ran: tuple[str, ...] = ()
    """The steps that succeeded (empty: the case waits before anything changed)."""

    def as_dict(self) -> dict[str, Any]:
        """For the inbox, `--json` and the HTTP API."""
        out: dict[str, Any] = {
            "agent": self.agent_id,
            "case": self.case_id,
            "status": self.status,
            "exit_code": self.exit_code,
        }
        if self.message:
            out["message"] = self.message
        if self.waiting_for:
            out["waiting_for"] = list(self.waiting_for)
        if self.still_live:
            out["still_live"] = [dict(item) for item in self.still_live]
        if self.plan:
            out["plan"] = list(self.plan)
        if self.case_id:
            out["ran"] = list(self.ran)
        return out


class Executor(Protocol):
    """Start cases, continue them on an approval, and say how they stand."""

    def start(self, requests: Sequence[CaseRequest]) -> list[CaseOutcome]:
        """Open and run one case per request (concurrently, bounded); one outcome each, in order."""
        ...

    def plan(self, request: CaseRequest) -> CaseOutcome:
        """What the request would run, from real state, changing nothing (policy `shadow`)."""
        ...

    def resume(
        self,
        case_id: str,
        *,
        actor: str,
        approve: frozenset[str] = frozenset(),
        approve_all: bool = False,
        policy: Policy | None = None,
        route: str = "",
        reason: str | None = None,
    ) -> CaseOutcome:
        """Continue a case: after a crash under its route's `policy`, or with approvals `actor` gives."""
        ...

    def check_approval(self, case_id: str, steps: Sequence[str], by: str) -> list[str]:
        """The steps `by` may approve now (every waiting one when `steps` is empty), or why not."""
        ...

    def status(self, case_id: str) -> dict[str, Any]:
        """How a case stands, from its journal."""
        ...


EngineFactory = Callable[[EventHandler], Engine]
"""Builds a fresh engine (registry, backends, trust, service key) reporting to the handler; the
backends may be shared by every engine it builds (they are safe to use from threads)."""


def options_for(policy: Policy, route: str, actor: str) -> RunOptions:
    """The run options a policy means (README "Alerts": policies)."""
    if policy == "shadow":
        return RunOptions(actor=actor, dry_run=True)
    if policy == "approve":
        return RunOptions(actor=actor, hold_mutating=True)
    if policy == "auto":
        return RunOptions(actor=actor, granted_by_policy=f"route {route}: policy auto")
    return RunOptions(actor=actor, continue_past_waiting=True)


class LocalExecutor:
    """Runs cases in this process, `parallel` at a time, each with its own engine."""

    def __init__(
        self,
        ws: Workspace,
        engine_for: EngineFactory,
        *,
        actor: str,
        parallel: int = 8,
        on_event: Callable[[CaseRequest | None, Any], None] | None = None,
    ) -> None:
        self.ws = ws
        self.engine_for = engine_for
        self.actor = actor
        self.parallel = parallel
        self.on_event = on_event

    def _engine(self, request: CaseRequest | None) -> Engine:
        hook = self.on_event
        return self.engine_for((lambda event: hook(request, event)) if hook else (lambda _event: None))

    def start(self, requests: Sequence[CaseRequest]) -> list[CaseOutcome]:
        """Run every request, at most `parallel` at once; an error in one never stops the others."""
        playbooks: dict[str, LoadedPlaybook | IrError] = {}
        for name in dict.fromkeys(r.playbook for r in requests):  # read once for the whole fleet
            try:
                playbooks[name] = find_playbook(self.ws.playbooks_dir, name)
            except IrError as exc:
                playbooks[name] = exc

        def one(request: CaseRequest) -> CaseOutcome:
            return self._start_one(request, playbooks[request.playbook])

        if len(requests) <= 1:
            return [one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(requests)), thread_name_prefix="ir-case") as pool:
            return list(pool.map(one, requests))

    def _start_one(self, request: CaseRequest, loaded: LoadedPlaybook | IrError) -> CaseOutcome:
        if isinstance(loaded, IrError):  # the playbook cannot be read: each of its cases says why
            return CaseOutcome(request.agent_id, None, "error", int(loaded.exit_code), str(loaded))
        try:
            agent = self.ws.inventory.get(request.agent_id, str(self.ws.inventory_path))
            summary = self._engine(request).start(
                loaded=loaded,
                agent=agent,
                params=request.params,
                cases_dir=self.ws.cases_dir,
                options=options_for(request.policy, request.route, self.actor),
                trigger=request.trigger,
            )
        except AgentBusy as exc:
            return CaseOutcome(request.agent_id, None, "busy", int(exc.exit_code), str(exc))
        except IrError as exc:
            return CaseOutcome(request.agent_id, None, "error", int(exc.exit_code), str(exc))
        return _outcome(request.agent_id, summary)

    def plan(self, request: CaseRequest) -> CaseOutcome:
        """A dry run: every step's plan from real state, nothing changed and no case written."""
        lines: list[str] = []

        def collect(event: Event) -> None:
            if event.kind == Kind.STEP_PLANNED and event.step:
                lines.append(plan_line(event.step, event.data))

        try:
            agent = self.ws.inventory.get(request.agent_id, str(self.ws.inventory_path))
            loaded = find_playbook(self.ws.playbooks_dir, request.playbook)
            summary = self.engine_for(collect).start(
                loaded=loaded,
                agent=agent,
                params=request.params,
                cases_dir=self.ws.cases_dir,
                options=options_for("shadow", request.route, self.actor),
            )
        except IrError as exc:
            return CaseOutcome(request.agent_id, None, "error", int(exc.exit_code), str(exc))
        code = int(summary.exit_code)
        return CaseOutcome(request.agent_id, None, "planned", code, summary.message, plan=tuple(lines))

    def resume(
        self,
        case_id: str,
        *,
        actor: str,
        approve: frozenset[str] = frozenset(),
        approve_all: bool = False,
        policy: Policy | None = None,
        route: str = "",
        reason: str | None = None,
    ) -> CaseOutcome:
        """Continue a case; approvals are `actor`'s, the head is signed by the service principal.
        (A case an alert opened keeps its route's policy: the engine reads it from the journal.)"""
        case_dir = resolve_case(self.ws.cases_dir, case_id)
        agent_id = str(load_state(case_dir).started.get("agent", {}).get("id") or "?")
        base = options_for(policy, route, actor) if policy else RunOptions(actor=actor)
        options = replace(
            base, approve=approve, approve_all=approve_all, signer=self.actor, approval_reason=reason or None
        )
        try:
            summary = self._engine(None).resume(case_dir=case_dir, options=options)
        except AgentBusy as exc:
            return CaseOutcome(agent_id, case_dir.name, "busy", int(exc.exit_code), str(exc))
        return _outcome(agent_id, summary)

    def _case(self, case_id: str) -> Path:
        """The case folder of an id from outside (HTTP): LookupError (404) when there is no such case."""
        if Path(case_id).name != case_id or case_id.startswith("."):
            raise LookupError(f"no case {case_id!r}")
        try:
            return resolve_case(self.ws.cases_dir, case_id)
        except CaseError as exc:
            raise LookupError(str(exc)) from None

    def check_approval(self, case_id: str, steps: Sequence[str], by: str) -> list[str]:
        """The steps `by` may approve now (every waiting one when `steps` is empty).

        InputError when a step does not wait, ApprovalRefused when `by` is not among a step's
        approvers, AgentBusy when a run holds the agent — all before anything is accepted.
        """
        case_dir = self._case(case_id)
        state = load_state(case_dir)
        waiting = [sid for sid, st in state.steps.items() if st.status == StepStatus.AWAITING_APPROVAL]
        wanted = list(steps) or waiting
        if not wanted:
            raise InputError(f"case {case_dir.name}: no step waits for approval")
        unknown = [sid for sid in wanted if sid not in waiting]
        if unknown:
            said = ", ".join(waiting) or "nothing"
            raise InputError(f"case {case_dir.name}: {', '.join(unknown)} not waiting for approval (waiting: {said})")
        for step in pinned_playbook(case_dir, state).playbook.steps:
            allowed = approvers_for(step, self.ws.settings.approvers) if step.id in wanted else None
            if allowed is not None and by not in allowed:
                raise ApprovalRefused(
                    f"step {step.id}: {by} may not approve it (approvers: {', '.join(sorted(allowed))})"
                )
        agent_id = str(state.started.get("agent", {}).get("id") or "")
        held = holder(self.ws.root, agent_id) if agent_id else None
        if held is not None:
            raise AgentBusy(f"agent {agent_id}: {describe(held)}")
        return wanted

    def status(self, case_id: str) -> dict[str, Any]:
        """How a case stands: its run status, steps, what waits."""
        case_dir = self._case(case_id)
        state = load_state(case_dir)
        steps = {sid: str(s.status) for sid, s in state.steps.items()}
        return {
            "case": case_dir.name,
            "agent": state.started.get("agent", {}).get("id"),
            "status": str(state.run_status),
            "steps": steps,
            "waiting_for": [sid for sid, status in steps.items() if status == "awaiting_approval"],
        }


def _outcome(agent_id: str, summary: RunSummary) -> CaseOutcome:
    return CaseOutcome(
        agent_id=agent_id,
        case_id=summary.case_id,
        status=str(summary.status),
        exit_code=int(summary.exit_code),
        message=summary.message,
        waiting_for=tuple(summary.waiting_for),
        still_live=tuple(summary.still_live),
        ran=tuple(step for step, status in summary.steps.items() if status == "succeeded"),
    )


def plan_line(step: str, data: Mapping[str, Any]) -> str:
    """`step: action — change; change` for one planned step (a shadow run's record of it)."""
    plan = data.get("plan") or {}
    changes = plan.get("changes") if isinstance(plan, dict) else None
    said = "; ".join(str(c) for c in changes) if isinstance(changes, list) and changes else "no change"
    wait = " (waits for approval)" if data.get("approval") else ""
    error = f" — cannot plan: {data['error']}" if data.get("error") else ""
    return f"{step}: {data.get('action', '')} — {said}{wait}{error}"
