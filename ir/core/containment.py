"""Whether containment is whole, read from real state at the end of a run, and what a resume redoes.

A run is only called `succeeded` when nothing it should have taken away is still live. At the
end of a (non-dry) walk through a playbook that has containment steps (actions marked
`contains`), every such step whose `when:` applies is checked with its action's `verify()`,
through a read-only view of the world — those that succeeded too: something (the agent, a
hook, a person) may have turned a key back on after the step ran. What its `Check.live` names
is still live: an access key still Active, a principal without the deny-all, a role whose old
sessions are not denied. A step that finds the principals later steps contain (marked
`discovers`, e.g. `find_minted`) is read again through its `verify()` first, so the principals
the agent minted are checked as they are now, even those minted after the step ran or meant
for steps that were skipped. Each step is verified once. Whatever cannot be read is reported
as live too, with the reason: unknown is not contained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from ir.core.action import Registry, StepContext
from ir.core.case import CaseState, RunStatus, StepState, StepStatus
from ir.core.errors import ExitCode, IrError
from ir.core.playbook import Step
from ir.core.substitution import SubstitutionError, evaluate_condition, render

LiveItem = dict[str, str]
"""One thing still live: `what` (one line), `step` (the step that should have handled it), `why`."""


def has_containment(registry: Registry, steps: Iterable[Step]) -> bool:
    """Whether any step of the playbook contains something (only then is containment assessed)."""
    return any((action := registry.get(s.action)) is not None and action.contains for s in steps)


def still_live(
    registry: Registry,
    steps: Iterable[Step],
    state: CaseState,
    scope: Mapping[str, Any],
    context: Callable[[Step], StepContext],
) -> list[LiveItem]:
    """What the containment steps should have taken away and real state says is still live.

    `scope` is what `${{ ... }}` sees at the end of the run; `context(step)` makes a step's
    context over a read-only world. Every containment (and discovery) step is verified once,
    whatever its status: a step that succeeded may have been undone since.
    """
    seen = dict(scope.get("steps") or {})
    scope = {**scope, "steps": seen}
    live: list[LiveItem] = []
    lost = False  # a discovery that could not be read: what depends on it is reported with it
    for step in steps:
        action = registry.get(step.action)
        if action is None or not (action.contains or action.discovers):
            continue
        st = state.step(step.id)
        why = _why(step, st)
        try:
            if step.when is not None and evaluate_condition(step.when, scope) is not True:
                continue  # does not apply to this agent, even with what discovery reads now
            params = action.Params.model_validate(render(step.with_, scope))
            check = action.verify(context(step), params)
        except (SubstitutionError, ValidationError) as exc:
            if not lost:
                live.append(_item(f"what step {step.id} acts on is unknown ({_first_line(exc)})", step, why))
            continue
        except Exception as exc:  # an outage or a broken verify: unknown, never contained
            lost = lost or action.discovers
            what = "what it finds" if action.discovers else "its targets"
            reason = str(exc) if isinstance(exc, IrError) else f"{type(exc).__name__}: {_first_line(exc)}"
            if st.status == StepStatus.SUCCEEDED and not st.outputs.get("failed"):
                why = f"step {step.id} succeeded, but real state could not be read at the end of the run"
            live.append(_item(f"{what} could not be read: {reason}", step, why))
            continue
        if action.discovers:
            seen[step.id] = {"outputs": dict(check.outputs), "status": str(StepStatus.SUCCEEDED)}
        else:
            live.extend(_item(what, step, why) for what in check.live)
    return live


def verdict(
    statuses: set[StepStatus], live: list[LiveItem] | None, code: ExitCode, message: str | None
) -> tuple[RunStatus, ExitCode, str | None]:
    """How a walk ends: any failed (or errored) step makes the run failed (errored), whichever walk
    failed it; with none, it succeeded only when nothing is still live, else it is incomplete."""
    if StepStatus.ERRORED in statuses or StepStatus.FAILED in statuses:
        status = RunStatus.ERRORED if StepStatus.ERRORED in statuses else RunStatus.FAILED
        return status, max(code, ExitCode.STEP_FAILED), message
    if live:
        text = f"containment is not whole: {len(live)} still live; resume the case to redo what is missing"
        return RunStatus.INCOMPLETE, max(code, ExitCode.STEP_FAILED), message or text
    return RunStatus.SUCCEEDED, code, message


def steps_to_redo(registry: Registry, steps: Iterable[Step], state: CaseState) -> list[str]:
    """The steps a resume runs again: those that failed, errored or were cancelled; those skipped
    because their `when:` was false (it is evaluated again); and containment steps the last
    finished run named as leaving something live, with the steps that find what they contain
    (read again: what was minted after they ran). A step a responder skipped stays skipped."""
    named_live = {item.step for item in state.still_live}
    redo = []
    for step in steps:
        st = state.step(step.id)
        action = registry.get(step.action)
        if (
            st.status in (StepStatus.FAILED, StepStatus.ERRORED, StepStatus.CANCELLED)
            or (st.status == StepStatus.SKIPPED and st.skipped is not None and st.skipped.by is None)
            or (
                st.status == StepStatus.SUCCEEDED
                and action is not None
                and ((action.contains and step.id in named_live) or (action.discovers and bool(named_live)))
            )
        ):
            redo.append(step.id)
    return redo


def _why(step: Step, st: StepState) -> str:
    """Why the step did not take it away, in a few words."""
    if st.status == StepStatus.SUCCEEDED:
        failed = ", ".join(sorted(st.outputs.get("failed") or {}))
        if failed:
            return f"step {step.id} succeeded but not for: {failed}"
        return f"step {step.id} succeeded, but real state at the end of the run shows it live"
    if st.status in (StepStatus.FAILED, StepStatus.ERRORED):
        return f"step {step.id} {st.status}: {_first_line(st.error or '')}".rstrip(": ")
    if st.status == StepStatus.SKIPPED and st.skipped is not None:
        by = f" (by {st.skipped.by})" if st.skipped.by else ""
        reason = f"{st.skipped.reason}{by}"
        return f"step {step.id} was skipped: {reason}" if reason else f"step {step.id} was skipped"
    if st.status == StepStatus.SKIPPED:
        return f"step {step.id} was skipped"
    return f"step {step.id} did not run ({st.status})"


def _item(what: str, step: Step, why: str) -> LiveItem:
    return {"what": what, "step": step.id, "why": why}


def _first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
