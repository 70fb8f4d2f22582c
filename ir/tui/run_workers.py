"""What the run screen's thread workers do: run the engine, or dry-run the playbook, and report
back through messages (the only way the screen learns anything from them)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.message import Message

from ir.core.errors import IrError
from ir.core.events import Event, RunOptions, RunSummary
from ir.core.playbook import LoadedPlaybook
from ir.core.records import ApprovalWaiting, RunStarted, StepPlanned, parse
from ir.core.workspace import Workspace


class EngineEvent(Message):
    """An engine event, carried from the worker thread to the screen."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class Finished(Message):
    """The engine returned (finished, stopped at an approval, or failed)."""

    def __init__(self, summary: RunSummary | None, error: str | None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error


class Planned(Message):
    """The dry run returned: step id → its plan."""

    def __init__(self, plans: dict[str, StepPlanned], error: str | None) -> None:
        super().__init__()
        self.plans = plans
        self.error = error


@dataclass(frozen=True)
class Start:
    """A run not started yet: the playbook, the agent and the params the responder chose."""

    loaded: LoadedPlaybook
    agent_id: str
    params: dict[str, str] = field(default_factory=dict)


def run_engine(
    workspace: Workspace,
    backends: Any,
    target: Start | Path,
    options: RunOptions,
    post: Callable[[Message], object],
    stop: threading.Event | None = None,
) -> None:
    """Start `target` (a new run) or resume it (a case folder); post every event, then Finished.

    Once `stop` is set (the person quits), the engine's next record raises KeyboardInterrupt in
    it, as Ctrl-C does on the command line: the run journals `run.interrupted` and returns, and
    nothing more is posted to an app that is closing."""
    stop = stop or threading.Event()
    interrupted = False
    from ir.actions import default_registry
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust

    def emit(event: Event) -> None:
        nonlocal interrupted
        if stop.is_set():
            if not interrupted:
                interrupted = True
                raise KeyboardInterrupt
            return
        post(EngineEvent(event))

    engine = Engine(
        registry=default_registry(),
        backends=backends,
        workspace=workspace.root,
        approvers=workspace.settings.approvers,
        on_event=emit,
        trust=workspace_trust(workspace),
    )
    try:
        if isinstance(target, Start):
            agent = workspace.inventory.get(target.agent_id, str(workspace.inventory_path))
            summary = engine.start(
                loaded=target.loaded, agent=agent, params=target.params, cases_dir=workspace.cases_dir, options=options
            )
        else:
            summary = engine.resume(case_dir=target, options=options)
    except KeyboardInterrupt:  # stopped before the walk could journal it: the case resumes like a killed one
        return
    except IrError as exc:
        finished = Finished(None, str(exc))
    except Exception as exc:  # a bug, not a backend's answer: say so in one line, never a traceback on screen
        finished = Finished(None, internal_error(exc, "the case is interrupted; resume it after a fix"))
    else:
        finished = Finished(summary, None)
    if not stop.is_set():
        post(finished)


def internal_error(exc: Exception, what_now: str) -> str:
    """One line for an exception agent-ir did not expect (a bug to report)."""
    return f"internal error ({type(exc).__name__}: {exc}); {what_now}; please report it"


def plan_steps(workspace: Workspace, backends: Any, target: Start, started: RunStarted | None) -> Planned:
    """Dry-run every step of `target` from real state (the case's agent and params once it started)."""
    from ir.actions import default_registry
    from ir.core.dryrun import dry_run
    from ir.core.inventory import Agent
    from ir.core.playbook import resolve_params

    plans: dict[str, StepPlanned] = {}

    def planned(event: Event) -> None:
        payload = parse(event.kind, event.data)
        if isinstance(payload, StepPlanned):
            plans[payload.step] = payload

    try:
        if started is not None:
            agent = Agent.model_validate(started.agent)
            values = dict(started.params)
        else:
            agent = workspace.inventory.get(target.agent_id, str(workspace.inventory_path))
            values = resolve_params(target.loaded.playbook, dict(target.params), target.loaded.located)
        dry_run(
            registry=default_registry(),
            backends=backends,
            workspace=workspace.root,
            loaded=target.loaded,
            agent=agent,
            values=values,
            on_event=planned,
        )
    except IrError as exc:
        return Planned(plans, str(exc))
    except Exception as exc:  # a bug: the plan is incomplete, nothing was changed
        return Planned(plans, internal_error(exc, "the plan is incomplete, nothing was changed"))
    return Planned(plans, None)


def irreversible(action: str) -> bool:
    """Whether approving `action` changes something that cannot be put back (destructive, or no inverse)."""
    from ir.actions import default_registry

    impl = default_registry().get(action)
    return impl is None or impl.destructive or (impl.mutates and impl.inverse is None)


def plan_waiting(workspace: Workspace, backends: Any, started: RunStarted | None, waiting: ApprovalWaiting) -> str:
    """The plan of the step waiting for approval, for the arguments the engine resolved, read now."""
    from pydantic import ValidationError

    from ir.actions import default_registry
    from ir.core.access import WorldAccess
    from ir.core.action import StepContext
    from ir.core.inventory import Agent
    from ir.core.validation import describe
    from ir.tui.widgets.step_detail import plan_text

    action = default_registry().get(waiting.action)
    if action is None or started is None:
        return f"plan: cannot plan: no run or no action {waiting.action!r}"
    try:
        agent = Agent.model_validate(started.agent)
        ctx = StepContext(
            case_id=started.case,
            run_id=started.case,
            step_id=waiting.step,
            agent=agent,
            world=WorldAccess(backends, agent, dry_run=True),
            workspace=workspace.root,
            evidence=None,
            output=lambda _line: None,
            follow_up=lambda *_args: None,
            dry_run=True,
        )
        plan = action.plan(ctx, action.Params.model_validate(waiting.args or {})).as_dict()
    except ValidationError as exc:
        return f"plan: cannot plan: {describe(exc.errors()[0])}"
    except IrError as exc:
        return f"plan: cannot plan: {exc}"
    except Exception as exc:  # a bug: say so in one line; nothing was changed
        return f"plan: {internal_error(exc, 'nothing was changed')}"
    planned = StepPlanned(step=waiting.step, action=waiting.action, args=waiting.args, approval=True, plan=plan)
    return plan_text(planned)
