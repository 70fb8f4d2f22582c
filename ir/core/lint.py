"""Playbook lint: what loading cannot see, checked against the registered actions.

Catches unknown actions, wrong arguments, references to unknown params or to unknown or later
steps, duplicate step ids, bad `when:` conditions, destructive steps with no evidence step
before them, and missing guidance. Each message is `file:line:col: message`.

Linear in the number of steps: step ids are looked up in sets and an index built once, never
by slicing the step list per step (13,000 steps took 23 s that way; see bench/README.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ir.core.action import Registry
from ir.core.inventory import Agent
from ir.core.playbook import LoadedPlaybook
from ir.core.substitution import REF_RE, SubstitutionError, parse_condition, references
from ir.core.validation import describe

AGENT_FIELDS = frozenset(Agent.model_fields)


def _has_ref(value: Any) -> bool:
    return isinstance(value, str) and bool(REF_RE.search(value))


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        ):
            data = data[part]
        else:
            return None
    return data


def _check_refs(
    path: tuple[str, ...], step_index: int, earlier: set[str], last_index: dict[str, int], params: set[str]
) -> str | None:
    root = path[0]
    if root == "params" and path[1] not in params:
        return f"reference to undeclared param {path[1]!r}"
    if root == "agent" and path[1] not in AGENT_FIELDS:
        return f"reference to unknown agent field {path[1]!r}"
    if root == "steps":
        target = path[1]
        if last_index.get(target, -1) >= step_index:
            return f"reference to step {target!r}, which runs later"
        if target not in earlier:
            return f"reference to unknown step {target!r}"
        is_status = len(path) == 3 and path[2] == "status"
        if not is_status and (len(path) < 4 or path[2] != "outputs"):
            return f"reference into step {target!r} must be steps.{target}.outputs.NAME or .status"
    return None


def lint(loaded: LoadedPlaybook, registry: Registry) -> list[str]:
    """Every problem found in `loaded`, as `file:line:col: message`, in document order."""
    book, where = loaded.playbook, loaded.located.where
    problems: list[str] = []
    last_index = {step.id: index for index, step in enumerate(book.steps)}
    earlier: set[str] = set()  # ids of the steps before the current one
    params = set(book.params)
    evidence_before: set[str] = set()
    for index, step in enumerate(book.steps):
        loc: tuple[Any, ...] = ("steps", index)
        if step.id in earlier:
            problems.append(f"{where((*loc, 'id'))}: duplicate step id {step.id!r}")
        action = registry.get(step.action)
        if action is None:
            problems.append(f"{where((*loc, 'action'))}: unknown action {step.action!r} (see `ir playbook schema`)")
        else:
            problems.extend(_check_args(loaded, loc, step.with_, action.Params))
            if action.destructive and action.domain not in evidence_before:
                problems.append(
                    f"{where((*loc, 'action'))}: destructive action {step.action} has no evidence "
                    "step before it (capture first, e.g. evidence.container_snapshot)"
                )
            if action.captures_evidence:
                evidence_before.add(action.domain)
        if not step.guidance.strip():
            problems.append(f"{where(loc)}: step {step.id!r} has no guidance for the responder")
        try:
            found = list(references(step.with_))
        except SubstitutionError as exc:
            problems.append(f"{where((*loc, 'with'))}: {exc}")
            found = []
        if isinstance(step.when, str):
            try:
                found.append(parse_condition(step.when)[1])
            except SubstitutionError as exc:
                problems.append(f"{where((*loc, 'when'))}: {exc}")
        for path in found:
            message = _check_refs(path, index, earlier, last_index, params)
            if message:
                problems.append(f"{where((*loc, 'with'))}: {message}")
        earlier.add(step.id)
    return problems


def _check_args(loaded: LoadedPlaybook, loc: tuple[Any, ...], args: dict[str, Any], model: type[Any]) -> list[str]:
    try:
        model.model_validate(args)
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            if _has_ref(_value_at(args, tuple(err["loc"]))):
                continue  # checked again at run time, once the reference is resolved
            out.append(f"{loaded.located.where((*loc, 'with', *err['loc']))}: with.{describe(err)}")
        return out
    return []
