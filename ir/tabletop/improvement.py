"""The improvement plan (HSEEP): one row per expectation that did not pass — capability, issue,
corrective action, element, owner, start and due dates — with defaults a team edits later.

Defaults: the owner is the scenario's first role (the incident commander, by convention); the
start is the exercise's date and the due date thirty days after it; the element and the corrective
action follow the kind of expectation. `improvement.yaml` in the exercise folder keeps the rows by
expectation id; what a person changes there (owner, start, due, corrective_action, element) is kept
every time the report is written again, and rows for newly failed expectations are added to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field

from ir.core.errors import InputError
from ir.core.inventory import Frozen
from ir.core.text import neutralise
from ir.core.validation import validate
from ir.core.yamlsafe import YamlInputError, load_file
from ir.tabletop.expectations import Result
from ir.tabletop.scenario import Expectation, Scenario

PLAN_FILE = "improvement.yaml"
DUE_DAYS = 30
Element = Literal["planning", "organization", "equipment", "training", "exercise"]
ELEMENT: dict[str, Element] = {
    "step": "training",
    "order": "training",
    "world": "planning",
    "decision": "organization",
    "manual": "organization",
}
"""The HSEEP element a kind of expectation points at by default."""


class PlanRow(Frozen):
    """One row of the improvement plan."""

    id: str
    """The expectation id the row is about."""
    objective: str
    """The objective id."""
    capability: str
    """The capability (the objective's, else its title)."""
    issue: str
    """What fell short, and why."""
    corrective_action: str
    """What to do about it."""
    element: Element
    """planning, organization, equipment, training or exercise."""
    owner: str
    """Who answers for it."""
    start: date
    """When the work starts."""
    due: date
    """When it is due."""


class PlanEdit(Frozen):
    """What a person may change in a row of `improvement.yaml`."""

    owner: str | None = None
    """Who answers for it."""
    start: date | None = None
    """When the work starts (YYYY-MM-DD)."""
    due: date | None = None
    """When it is due (YYYY-MM-DD)."""
    corrective_action: str | None = None
    """What to do about it."""
    element: Element | None = None
    """planning, organization, equipment, training or exercise."""
    issue: str | None = None
    """Written by the report (changes to it are overwritten)."""
    capability: str | None = None
    """Written by the report (changes to it are overwritten)."""


class PlanFile(Frozen):
    """The whole of `improvement.yaml`: rows by expectation id."""

    rows: dict[str, PlanEdit] = Field(default_factory=dict)
    """Expectation id → the row's editable fields."""


class PlanError(InputError):
    """An `improvement.yaml` that cannot be used; the message names `file:line:col`."""


def corrective(e: Expectation) -> str:
    """The default corrective action for an expectation that did not pass."""
    if e.step is not None:
        deadline = f" within {e.step.within} of {e.step.after or 'the start'}" if e.step.within else ""
        return f"Rehearse `{e.step.action}`{f' for {e.step.agent}' if e.step.agent else ''} until it succeeds{deadline}"
    if e.order is not None:
        then = ", ".join(e.order.then)
        return f"Run `{e.order.first}` before any {then} step; review every evidence-gate override"
    if e.world is not None:
        return "Make the playbook and the responders leave the world so: " + ", ".join(e.world.all)
    if e.decision is not None:
        agent = e.decision.agent
        return f"Record the decision on {agent} with `ir decide`, signed by a responder in signing.allowed_signers"
    return f"Review with the team: {e.manual}"


def plan_rows(scenario: Scenario, results: Sequence[Result], day: date) -> list[PlanRow]:
    """The default rows: one per expectation that did not pass, in scenario order."""
    expectations = {e.id: e for e in scenario.expectations}
    objectives = {o.id: o for o in scenario.objectives}
    owner = scenario.roles[0].title
    rows = []
    for r in results:
        if r.status == "passed":
            continue
        e, o = expectations[r.expectation], objectives[r.objective]
        rows.append(
            PlanRow(
                id=r.expectation,
                objective=r.objective,
                capability=o.capability or o.title,
                issue=f"{e.title} — {r.status}: {r.why}",
                corrective_action=corrective(e),
                element=ELEMENT[e.kind],
                owner=owner,
                start=day,
                due=day + timedelta(days=DUE_DAYS),
            )
        )
    return rows


def load_edits(path: Path) -> PlanFile:
    """The edits kept in `improvement.yaml` (none when it does not exist)."""
    if not path.is_file():
        return PlanFile()
    try:
        located = load_file(path)
    except YamlInputError as exc:
        raise PlanError(str(exc)) from None
    if located.data is None:
        return PlanFile()
    return validate(PlanFile, located, PlanError)


def apply_edits(rows: Sequence[PlanRow], edits: PlanFile) -> list[PlanRow]:
    """The rows with what a person changed in `improvement.yaml` kept."""
    kept = []
    for row in rows:
        edit = edits.rows.get(row.id)
        if edit is None:
            kept.append(row)
            continue
        changes = {k: v for k, v in edit.model_dump(exclude_none=True).items() if k not in ("issue", "capability")}
        kept.append(row.model_copy(update=changes))
    return kept


def plan_text(exercise: str, rows: Sequence[PlanRow], edits: PlanFile) -> str:
    """`improvement.yaml`: the rows of this report, and rows edited earlier that no longer fail."""
    body: dict[str, dict[str, str]] = {}
    for row in rows:
        body[row.id] = {  # what the journals and the scenario wrote is shown inert, as in report.md
            "capability": neutralise(row.capability),
            "issue": neutralise(row.issue),
            "corrective_action": neutralise(row.corrective_action),
            "element": row.element,
            "owner": neutralise(row.owner),
            "start": row.start.isoformat(),
            "due": row.due.isoformat(),
        }
    for rid, edit in edits.rows.items():  # a row that passes now is kept as the person left it
        if rid not in body:
            body[rid] = {
                k: (v.isoformat() if isinstance(v, date) else v) for k, v in edit.model_dump(exclude_none=True).items()
            }
    head = (
        f"# Improvement plan of exercise {neutralise(exercise)}:\n"
        "# edit owner, start, due, corrective_action or element;\n"
        "# `ir tabletop report` keeps your edits when it writes the report again.\n"
    )
    return head + yaml.safe_dump({"rows": body}, sort_keys=False, allow_unicode=True, width=100)
