"""A scenario's cross-references: every id it names exists, checked whenever it loads.

Ids are unique in their list; an inject's `after`, an expectation's `objective`, a card's `to`, a
log inject's path, an alert's source, the agents and injects conditions name, and the reference
response's injects, agents, roles and manual expectations all exist. Each problem is placed at
the node that names the missing thing (`injects.I2.after`), never at the document's root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ir.core.inventory import Inventory
from ir.core.yamlsafe import Loc
from ir.tabletop.problems import Problem, from_validation

if TYPE_CHECKING:
    from ir.tabletop.scenario import Scenario

SIMULATED_ONLY = (
    "an exercise's agents run on the simulated backend (backend: simulated); this one runs only --live-fire"
)


def agent_problems(agents: Any) -> list[Problem]:
    """`world.agents` as an `agents.yaml` mapping; an agent not on the simulated backend is a warning."""
    loc: Loc = ("world", "agents")
    if not isinstance(agents, dict):
        return []  # the model says what type it wants
    if not agents:
        return [Problem(loc, "at least one agent")]
    try:
        inventory = Inventory.model_validate({"agents": agents})
    except ValidationError as exc:
        return from_validation(exc, prefix=("world",))
    return [  # the interlock refuses it without --live-fire (ir/tabletop/interlock.py)
        Problem((*loc, agent.id, "backend"), SIMULATED_ONLY, "warning")
        for agent in inventory.agents.values()
        if agent.backend != "simulated"
    ]


def cross_references(scenario: Scenario) -> list[Problem]:
    """Every reference of `scenario` that names nothing, at the node that names it."""
    return [*_unique_ids(scenario), *_injects(scenario), *_expectations(scenario), *_reference(scenario)]


def _unique_ids(scenario: Scenario) -> list[Problem]:
    problems = []
    for name, what in (
        ("objectives", "objective"),
        ("roles", "role"),
        ("injects", "inject"),
        ("expectations", "expectation"),
    ):
        seen: set[str] = set()
        for i, item in enumerate(getattr(scenario, name)):
            if item.id in seen:
                problems.append(Problem((name, i, "id"), f"{what} id {item.id!r} is used twice"))
            seen.add(item.id)
    return problems


def condition_problem(loc: Loc, condition: str, scenario: Scenario) -> Problem | None:
    """What is wrong with the name a condition gives (an agent, or an inject for `delivered`)."""
    name, _, rest = condition.partition("(")
    arg = rest.removesuffix(")")
    if name == "delivered":
        if arg not in {i.id for i in scenario.injects}:
            return Problem(loc, f"{condition}: no inject {arg!r}")
    elif arg not in scenario.world.agents:
        return Problem(loc, f"{condition}: no agent {arg!r} in world.agents")
    return None


def _injects(scenario: Scenario) -> list[Problem]:
    problems: list[Problem | None] = []
    ids = {i.id for i in scenario.injects}
    after = {i.id: i.after for i in scenario.injects}
    roles = {r.id for r in scenario.roles}
    sources = scenario.source_formats()
    for n, inject in enumerate(scenario.injects):
        here: Loc = ("injects", n)
        if inject.after is not None and inject.after not in ids:
            problems.append(Problem((*here, "after"), f"no inject {inject.after!r}"))
        elif inject.after is not None and _cycle(inject.id, after):
            chain = " → ".join(_cycle(inject.id, after))
            problems.append(Problem((*here, "after"), f"{chain}: a cycle, never delivered"))
        if inject.unless is not None:
            problems.append(condition_problem((*here, "unless"), inject.unless, scenario))
        if inject.card and inject.card.to and inject.card.to not in roles:
            problems.append(Problem((*here, "card", "to"), f"no role {inject.card.to!r}"))
        for k, log in enumerate(inject.logs):
            if log.path not in scenario.world.logs:
                problems.append(Problem((*here, "logs", k, "path"), f"{log.path!r} is not in world.logs"))
        if inject.alert and inject.alert.source not in sources:
            known = ", ".join(sorted(sources))
            problems.append(
                Problem((*here, "alert", "source"), f"no source {inject.alert.source!r} (sources: {known})")
            )
    for k, condition in enumerate(scenario.end.when):
        problems.append(condition_problem(("end", "when", k), condition, scenario))
    return [p for p in problems if p is not None]


def _cycle(start: str, after: dict[str, str | None]) -> list[str]:
    """`[start, …, start]` when following `after` from `start` comes back to it, else []."""
    chain, here = [start], after.get(start)
    while here is not None and here in after and here not in chain:
        chain.append(here)
        here = after[here]
    return [*chain, start] if here == start else []


def _expectations(scenario: Scenario) -> list[Problem]:
    problems: list[Problem | None] = []
    objectives = {o.id for o in scenario.objectives}
    injects = {i.id for i in scenario.injects}
    agents = scenario.world.agents
    for n, e in enumerate(scenario.expectations):
        here: Loc = ("expectations", n)
        if e.objective not in objectives:
            problems.append(Problem((*here, "objective"), f"no objective {e.objective!r}"))
        if e.step and e.step.after and e.step.after not in injects:
            problems.append(Problem((*here, "step", "after"), f"no inject {e.step.after!r}"))
        for kind, check in (("step", e.step), ("order", e.order), ("decision", e.decision)):
            agent = getattr(check, "agent", None)
            if agent is not None and agent not in agents:
                problems.append(Problem((*here, kind, "agent"), f"no agent {agent!r} in world.agents"))
        for k, condition in enumerate(e.world.all if e.world else ()):
            problems.append(condition_problem((*here, "world", "all", k), condition, scenario))
    return [p for p in problems if p is not None]


def _reference(scenario: Scenario) -> list[Problem]:
    problems = []
    injects = {i.id for i in scenario.injects}
    roles = {r.id for r in scenario.roles}
    manual = {e.id for e in scenario.expectations if e.manual is not None}
    for n, move in enumerate(scenario.reference):
        here: Loc = ("reference", n)
        if move.after is not None and move.after not in injects:
            problems.append(Problem((*here, "after"), f"no inject {move.after!r}"))
        if move.agent is not None and move.agent not in scenario.world.agents:
            problems.append(Problem((*here, "agent"), f"no agent {move.agent!r} in world.agents"))
        if move.mark is not None and move.mark not in manual:
            problems.append(Problem((*here, "mark"), f"{move.mark!r} is not a manual expectation"))
        if move.role is not None and move.role not in roles:
            problems.append(Problem((*here, "role"), f"no role {move.role!r}"))
    return problems
