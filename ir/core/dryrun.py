"""The dry run: each step's plan read from real state, through backends that refuse every mutation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ir.core.access import WorldAccess
from ir.core.action import Registry, StepContext
from ir.core.case import RunStatus
from ir.core.errors import ExitCode, IrError
from ir.core.events import Event, EventHandler, RunSummary
from ir.core.inventory import Agent
from ir.core.playbook import LoadedPlaybook, Step
from ir.core.ports import Backends
from ir.core.records import Kind
from ir.core.substitution import SubstitutionError, Unresolved, evaluate_condition, render
from ir.core.validation import describe


def bad_args(step: Step, exc: Exception) -> str:
    """One line for arguments that do not resolve or do not validate."""
    if isinstance(exc, ValidationError):
        return f"step {step.id}: bad arguments for {step.action}: {describe(exc.errors()[0])}"
    return f"step {step.id}: {exc}"


def _unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_unresolved(v) for v in value)
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def dry_run(
    *,
    registry: Registry,
    backends: Backends,
    workspace: Path,
    loaded: LoadedPlaybook,
    agent: Agent,
    values: dict[str, Any],
    on_event: EventHandler,
) -> RunSummary:
    """Plan every step; emit one `step.planned` event each; write nothing, change nothing."""
    world = WorldAccess(backends, agent, dry_run=True)
    scope: dict[str, Any] = {
        "params": values,
        "agent": agent.model_dump(mode="json"),
        "steps": {},
        "case": {"id": Unresolved("case.id"), "dir": Unresolved("case.dir")},
    }
    steps: dict[str, str] = {}
    worst, message = ExitCode.OK, None
    for step in loaded.playbook.steps:
        action = registry.get(step.action)
        assert action is not None  # lint guarantees it
        scope["steps"][step.id] = Unresolved(f"steps.{step.id}")
        data: dict[str, Any] = {
            "step": step.id,
            "title": step.title,
            "action": step.action,
            "approval": step.approval.required,
            "mutates": action.mutates,
        }
        try:
            holds = evaluate_condition(step.when, scope) if step.when is not None else True
            args = render(step.with_, scope)
            data["args"] = _jsonable(args)
            if holds is False:
                data["plan"] = {"changes": [], "notes": [f"skipped: when: {step.when} is false"]}
            elif _unresolved(args) or isinstance(holds, Unresolved):
                data["plan"] = {"changes": [], "notes": ["depends on an earlier step's output: planned at run time"]}
            else:
                params = action.Params.model_validate(args)
                ctx = StepContext(
                    case_id="(dry-run)",
                    run_id="(dry-run)",
                    step_id=step.id,
                    agent=agent,
                    world=world,
                    workspace=workspace,
                    evidence=None,
                    output=lambda _l: None,
                    follow_up=lambda *_a: None,
                    dry_run=True,
                )
                data["plan"] = action.plan(ctx, params).as_dict()
            steps[step.id] = "planned"
        except (SubstitutionError, ValidationError) as exc:
            data["error"], steps[step.id] = bad_args(step, exc), "errored"
            worst, message = max(worst, ExitCode.BAD_INPUT), message or data["error"]
        except IrError as exc:
            data["error"], steps[step.id] = f"step {step.id}: {exc}", "errored"
            worst, message = max(worst, exc.exit_code), message or data["error"]
        on_event(Event(kind=Kind.STEP_PLANNED, data=data, step=step.id))
    status = RunStatus.PLANNED if worst == ExitCode.OK else RunStatus.ERRORED
    return RunSummary(status=status, steps=steps, message=message, exit_code=worst)
