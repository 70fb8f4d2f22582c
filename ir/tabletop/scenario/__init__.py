"""Tabletop scenarios (`tabletop/*.yaml`, `schema: ir/scenario/v1`): the model and its loader.

A scenario is a rehearsal of one incident: a narrative, its own simulated world (agents,
containers, IAM, secrets, hosts, the agents' log files), injects on a relative clock or after
conditions, and pass/fail expectations checked from what the engine recorded — never
self-reported. Every field is documented in `docs/tabletop.md` (a test checks it).

This module holds the scenario as a whole (who, why, what for, the end) and its loader; its parts
live beside it and every name is importable from here:

    terms.py         ids, durations (`30s`, `4m`, `1h30m`) and the conditions' vocabulary
    world.py         the exercise's own world, and the changes injects make to it
    injects.py       cards, alerts, log lines, on the clock or after another inject
    expectations.py  step, order, world, decision and manual checks
    moves.py         the reference response `--auto` plays
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from ir.core.alert_settings import AlertSettings
from ir.core.errors import InputError
from ir.core.inventory import AGENT_ID, Frozen
from ir.core.yamlsafe import Located, YamlInputError, load_file, load_text
from ir.tabletop.crossref import agent_problems, cross_references
from ir.tabletop.problems import Problem, from_validation, locate
from ir.tabletop.scenario.expectations import DecisionCheck, Expectation, OrderCheck, StepCheck, WorldCheck
from ir.tabletop.scenario.injects import AlertInject, Card, Inject, LogInject
from ir.tabletop.scenario.moves import Move
from ir.tabletop.scenario.terms import CONDITION, ID, Condition, Duration, seconds
from ir.tabletop.scenario.world import WORLD_OPS, World, WorldChange

__all__ = [
    "ASI_IDS",
    "ATLAS_ID",
    "CONDITION",
    "DEFAULT_PLAYBOOK",
    "DEFAULT_SOURCES",
    "ID",
    "SCHEMA",
    "WORLD_OPS",
    "AlertInject",
    "Card",
    "Condition",
    "DecisionCheck",
    "Duration",
    "End",
    "Expectation",
    "Inject",
    "LogInject",
    "Move",
    "Objective",
    "OrderCheck",
    "References",
    "Role",
    "Scenario",
    "ScenarioError",
    "StepCheck",
    "World",
    "WorldChange",
    "WorldCheck",
    "examine",
    "load_scenario",
    "parse_scenario",
    "seconds",
]

SCHEMA = "ir/scenario/v1"
ASI_IDS = tuple(f"ASI{n:02d}" for n in range(1, 11))
ATLAS_ID = r"^AML\.T\d{4}(\.\d{3})?$"
DEFAULT_SOURCES = {
    "alertmanager": "alertmanager",
    "eventbridge": "eventbridge",
    "securityhub": "eventbridge",
    "falco": "falco",
    "cloudevents": "cloudevents",
}
"""Alert sources of a scenario without `alerts:` (name → format): one per format, named as it, and
`securityhub` (Security Hub findings arrive as EventBridge events)."""
DEFAULT_PLAYBOOK = "agent-compromise"
"""The playbook the default route runs for every alert (under `auto_then_approve`)."""


class ScenarioError(InputError):
    """A scenario file that cannot be used; the message names `file:line:col`."""


# -- who, why, what for -----------------------------------------------------------------------
class References(Frozen):
    """What the scenario is drawn from and what it exercises."""

    asi: tuple[str, ...] = ()
    """OWASP Top 10 for Agentic Applications ids, `ASI01`…`ASI10`."""
    atlas: tuple[str, ...] = ()
    """MITRE ATLAS technique ids, e.g. `AML.T0051.001`."""
    incident: str
    """The public incident it is drawn from (name, year)."""
    links: tuple[str, ...] = ()
    """URLs about that incident."""

    @field_validator("asi")
    @classmethod
    def _asi(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if item not in ASI_IDS:
                raise ValueError(f"{item!r} is not an ASI id (ASI01…ASI10)")
        return value

    @field_validator("atlas")
    @classmethod
    def _atlas(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not re.match(ATLAS_ID, item):
                raise ValueError(f"{item!r} is not an ATLAS technique id (AML.T0051 or AML.T0051.001)")
        return value


class Objective(Frozen):
    """What the exercise is meant to show the team can do; rated P/S/M/U in the report."""

    id: str = Field(pattern=ID)
    """Short id, e.g. `O1`; expectations name it."""
    title: str
    """The objective in one sentence."""
    capability: str = ""
    """The capability it exercises (HSEEP), e.g. `Containment`."""


class Role(Frozen):
    """A part a participant plays (incident commander, responder, approver, scribe, …)."""

    id: str = Field(pattern=ID)
    """Short id; injects' cards are addressed to it."""
    title: str
    """Name shown on cards and in the report."""
    does: str = ""
    """What this role is expected to do."""


class End(Frozen):
    """When the exercise ends by itself (the facilitator can always end it)."""

    when: tuple[Condition, ...] = ()
    """Every condition holds (and every engine expectation is decided)."""
    after: Duration
    """Time limit, exercise time."""


class Scenario(Frozen):
    """The whole of one scenario file."""

    schema_: Literal["ir/scenario/v1"] = Field(alias="schema")
    """Always `ir/scenario/v1`."""
    id: str = Field(pattern=AGENT_ID)
    """Scenario id (file name without `.yaml` by convention)."""
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    """Semantic version; recorded with every exercise."""
    title: str
    """Title."""
    summary: str
    """One paragraph."""
    narrative: str
    """Markdown read to the team at the start."""
    references: References
    """Where it is drawn from, what it covers."""
    objectives: tuple[Objective, ...] = Field(min_length=1)
    """Objectives (HSEEP)."""
    roles: tuple[Role, ...] = Field(min_length=1)
    """Roles."""
    world: World
    """The exercise's own world."""
    alerts: AlertSettings | None = None
    """The exercise's alert settings (sources, routes, policies); default: `DEFAULT_SOURCES` (one source per
    format, named as it, and `securityhub`), one route to agent-compromise under auto_then_approve."""
    injects: tuple[Inject, ...] = Field(min_length=1)
    """Injects."""
    expectations: tuple[Expectation, ...] = Field(min_length=1)
    """Expectations."""
    reference: tuple[Move, ...] = ()
    """The reference response `--auto` plays."""
    end: End
    """When it ends."""

    def source_formats(self) -> dict[str, str]:
        """Alert source name → its format: the scenario's `alerts.sources`, or `DEFAULT_SOURCES`."""
        if self.alerts is None:
            return dict(DEFAULT_SOURCES)
        return {name: source.format for name, source in self.alerts.sources.items()}


def examine(located: Located) -> tuple[Scenario | None, list[Problem]]:
    """The scenario in `located` (None when its shape is wrong) and every problem loading finds: its
    shape first, then (when the shape is right) its cross-references. Loading refuses any problem."""
    data = located.data
    if not isinstance(data, dict):
        return None, [Problem((), "a scenario must be a YAML mapping")]
    if data.get("schema") != SCHEMA:
        return None, [Problem(("schema",), f"must be {SCHEMA!r}, got {data.get('schema')!r}")]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = from_validation(exc)
        world = data.get("world")
        detailed = agent_problems(world.get("agents")) if isinstance(world, dict) else []
        if detailed and any(p.loc == ("world", "agents") for p in problems):
            problems = [p for p in problems if p.loc != ("world", "agents")] + detailed
        return None, problems
    return scenario, cross_references(scenario)


def _checked(located: Located) -> Scenario:
    scenario, problems = examine(located)
    if scenario is None or problems:
        findings = locate(problems, located)
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise ScenarioError(f"{findings[0]}{more}")
    return scenario


def parse_scenario(text: str, source: str) -> Scenario:
    """A scenario from text; errors are `source:line:col: path: message`."""
    try:
        return _checked(load_text(text, source))
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None


def load_scenario(path: Path) -> Scenario:
    """A scenario from its file; errors are `file:line:col: path: message` (the first, and how many more)."""
    try:
        return _checked(load_file(path))
    except YamlInputError as exc:
        raise ScenarioError(str(exc)) from None
