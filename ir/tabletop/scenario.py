"""Tabletop scenarios (`tabletop/*.yaml`, `schema: ir/scenario/v1`): the model and its loader.

A scenario is a rehearsal of one incident: a narrative, its own simulated world (agents,
containers, IAM, secrets, hosts, the agents' log files), injects on a relative clock or after
conditions, and pass/fail expectations checked from what the engine recorded — never
self-reported. Every field is documented in `docs/tabletop.md` (a test checks it).

Durations are `30s`, `4m`, `1h`, `1h30m`. Conditions are a small vocabulary, never code:

    contained(AGENT)   the agent's case has freeze, keys and sessions all succeeded
    frozen(AGENT)      the agent's container is paused or stopped (world state)
    revoked(AGENT)     every access key of the agent's users, minted ones included, is Inactive
    case_open(AGENT)   a case exists for the agent
    decided(AGENT)     a decision is recorded for the agent
    delivered(INJECT)  the inject was delivered
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from ir.core.alert_settings import AlertSettings
from ir.core.errors import InputError
from ir.core.inventory import AGENT_ID, Frozen
from ir.core.yamlsafe import Located, YamlInputError, load_file, load_text
from ir.tabletop.crossref import agent_problems, cross_references
from ir.tabletop.problems import Problem, from_validation, locate, path_of

SCHEMA = "ir/scenario/v1"
ASI_IDS = tuple(f"ASI{n:02d}" for n in range(1, 11))
ATLAS_ID = r"^AML\.T\d{4}(\.\d{3})?$"
ID = r"^[A-Za-z][A-Za-z0-9_-]{0,31}$"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
CONDITION = re.compile(r"^(contained|frozen|revoked|case_open|decided|delivered)\(([A-Za-z0-9._-]+)\)$")
WORLD_OPS = ("mint_key", "create_user", "create_role", "egress", "read_secret", "fault", "spend")
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


def seconds(text: str) -> int:
    """`1h30m` → 5400; ValueError when it is not a duration."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (e.g. 30s, 4m, 1h30m)")
    h, m, s = (int(g or 0) for g in match.groups())
    return h * 3600 + m * 60 + s


def _duration(value: str) -> str:
    seconds(value)
    return value


def _condition(value: str) -> str:
    text = value.strip()
    if not CONDITION.match(text):
        raise ValueError(
            f"{value!r} is not a condition: contained(AGENT), frozen(AGENT), revoked(AGENT), "
            "case_open(AGENT), decided(AGENT) or delivered(INJECT)"
        )
    return text


Duration = Annotated[str, AfterValidator(_duration)]
"""Text like `4m` or `1h30m`, checked; `seconds(d)` gives its length."""
Condition = Annotated[str, AfterValidator(_condition)]
"""A condition of the small vocabulary (module docstring)."""


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


# -- the world ---------------------------------------------------------------------------------
class World(Frozen):
    """The exercise's own inventory and simulated world: nothing of the team's real one is touched.

    `agents` is an `agents.yaml` `agents:` mapping (every agent's backend must be `simulated`,
    unless the exercise runs `--live-fire`: the interlock decides);
    the other sections are the simulated world's seed, in the format of `demo/world.yaml`;
    `logs` are the agents' log files (path relative to the exercise workspace → initial text).
    """

    agents: dict[str, dict[str, Any]]
    """Agents by id, as in `agents.yaml`."""
    containers: dict[str, Any] = Field(default_factory=dict)
    """Simulated containers (name → spec)."""
    images: dict[str, Any] = Field(default_factory=dict)
    """Simulated images."""
    iam: dict[str, Any] = Field(default_factory=dict)
    """Simulated IAM: `users`, `roles`."""
    secrets: dict[str, Any] = Field(default_factory=dict)
    """Simulated secrets (id → spec)."""
    hosts: dict[str, Any] = Field(default_factory=dict)
    """Simulated hosts (name → services, files)."""
    http: dict[str, Any] = Field(default_factory=dict)
    """Simulated HTTP endpoints (provider token revocation)."""
    cloudtrail: tuple[dict[str, Any], ...] = ()
    """CloudTrail records already in the world when the exercise starts."""
    logs: dict[str, str] = Field(default_factory=dict)
    """Log files (path → initial text); injects append to them."""

    @field_validator("agents")
    @classmethod
    def _agents(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        problems = [p for p in agent_problems(value) if p.severity == "error"]  # each at its own place
        if problems:
            first = problems[0]
            raise ValueError(f"{path_of(first.loc[2:], value)}: {first.message}" if first.loc[2:] else first.message)
        return value

    @field_validator("logs")
    @classmethod
    def _log_paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value:
            parts = Path(path).parts
            if Path(path).is_absolute() or ".." in parts or not parts:
                raise ValueError(f"{path!r}: a log path is relative to the exercise workspace, without '..'")
        return value


# -- injects -------------------------------------------------------------------------------------
class Card(Frozen):
    """A narrative card handed to a role."""

    title: str
    """Card title."""
    body: str = ""
    """Markdown."""
    to: str | None = None
    """Role id (default: everyone)."""


class AlertInject(Frozen):
    """An alert in a real source format, delivered through the alert path (inbox, routes, policies)."""

    source: str
    """Source name in the exercise's `alerts.sources` (its format decides how it is read)."""
    file: str | None = None
    """Body from a file, relative to the scenario file."""
    body: Any = None
    """Body inline (a mapping or a list, as the source sends it)."""

    @model_validator(mode="after")
    def _one_body(self) -> AlertInject:
        if (self.file is None) == (self.body is None):
            raise ValueError("give exactly one of file or body")
        return self


class LogInject(Frozen):
    """Lines appended to one of the world's log files (the timeline grows during the exercise)."""

    path: str
    """A path in `world.logs`."""
    lines: tuple[str, ...]
    """Lines appended, each ending in a newline."""


class WorldChange(Frozen):
    """A change in the simulated world, made as the attacker or the agent would make it.

    `op`: `mint_key` (user, key: a new Active access key on a user, with its CloudTrail record by
    `by`), `create_user` (user, key optional, login_profile, by), `create_role` (role, by),
    `egress` (agent, url: the agent calls a new host; a tool-call line in `log` if given),
    `read_secret` (secret, by), `fault` (operation, kind: a backend fault, e.g. IAM unavailable),
    `spend` (agent, usd: model spend grows).
    """

    op: Literal["mint_key", "create_user", "create_role", "egress", "read_secret", "fault", "spend"]
    """What happens."""
    user: str | None = None
    """IAM user (mint_key, create_user)."""
    role: str | None = None
    """IAM role (create_role)."""
    key: str | None = None
    """Access key id (mint_key, create_user)."""
    by: str | None = None
    """Access key id or user the change is made with (recorded in CloudTrail)."""
    login_profile: bool = False
    """create_user: also a console password."""
    agent: str | None = None
    """Agent (egress, spend)."""
    url: str | None = None
    """egress: where the agent sends data."""
    log: str | None = None
    """egress: a `world.logs` path the tool call is written to."""
    secret: str | None = None
    """read_secret: secret id."""
    operation: str | None = None
    """fault: the simulated backend operation (e.g. `iam.update_access_key`)."""
    kind: Literal["unavailable", "transient", "denied", "notfound", "error"] | None = None
    """fault: unavailable, transient, denied, notfound, error."""
    usd: float | None = None
    """spend: dollars added."""

    @model_validator(mode="after")
    def _fields(self) -> WorldChange:
        needed = {
            "mint_key": ("user", "key"),
            "create_user": ("user",),
            "create_role": ("role",),
            "egress": ("agent", "url"),
            "read_secret": ("secret",),
            "fault": ("operation", "kind"),
            "spend": ("agent", "usd"),
        }[self.op]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.op} needs {', '.join(missing)}")
        return self


class Inject(Frozen):
    """Something that happens to the team: on the clock (`at`) or after another inject (`after`)."""

    id: str = Field(pattern=ID)
    """Short id, e.g. `I1`."""
    title: str
    """What happens, in a few words (the exercise panel and the report show it)."""
    at: Duration | None = None
    """Exercise time it is delivered at (from the start, pauses excluded)."""
    after: str | None = None
    """Deliver this long (`delay`) after that inject was delivered."""
    delay: Duration = "0s"
    """With `after`: how long after."""
    unless: Condition | None = None
    """A condition; when it holds at delivery time the inject is skipped (recorded as such)."""
    card: Card | None = None
    """A narrative card."""
    alert: AlertInject | None = None
    """An alert through the alert path."""
    logs: tuple[LogInject, ...] = ()
    """Log lines appended."""
    world: tuple[WorldChange, ...] = ()
    """World changes."""

    @model_validator(mode="after")
    def _when_and_what(self) -> Inject:
        if (self.at is None) == (self.after is None):
            raise ValueError("give exactly one of at or after")
        if not (self.card or self.alert or self.logs or self.world):
            raise ValueError("an inject needs a card, an alert, logs or world changes")
        return self


# -- expectations --------------------------------------------------------------------------------
class StepCheck(Frozen):
    """A step with this action succeeded, within `within` after inject `after` was delivered."""

    action: str
    """Action name, e.g. `container.pause` (or a playbook step id with `step:`)."""
    agent: str | None = None
    """Only the case of this agent (default: any case of the exercise)."""
    after: str | None = None
    """Inject id the deadline counts from (default: the exercise start)."""
    within: Duration | None = None
    """Deadline, exercise time."""


class OrderCheck(Frozen):
    """`first` succeeded before any step in `then` started (`destructive`: any step that cannot be undone
    or that stops, deletes or isolates)."""

    first: str
    """Action name that must come first."""
    then: tuple[str, ...] = ("destructive",)
    """Action names, or `destructive`."""
    agent: str | None = None
    """Only the case of this agent."""


class WorldCheck(Frozen):
    """World state at the end (or at the check): the conditions all hold."""

    all: tuple[Condition, ...]
    """Conditions (see the module docstring), e.g. `revoked(support-bot)`, `frozen(support-bot)`."""


class DecisionCheck(Frozen):
    """A decision was recorded for the agent, signed by a responder."""

    agent: str
    """Whose decision."""
    decision: Literal["reenable", "keep-disabled", "decommission"] | None = None
    """Which decision (default: any)."""
    signed: bool = True
    """The decision's signature verifies."""


class Expectation(Frozen):
    """Pass/fail, tied to an objective, decided from journals and world state (or by the facilitator)."""

    id: str = Field(pattern=ID)
    """Short id, e.g. `E1`."""
    objective: str
    """Objective id it counts for."""
    title: str
    """What is expected, in one sentence."""
    step: StepCheck | None = None
    """A step succeeded in time."""
    order: OrderCheck | None = None
    """An ordering held."""
    world: WorldCheck | None = None
    """World state."""
    decision: DecisionCheck | None = None
    """A signed decision."""
    manual: str | None = None
    """Marked by the facilitator: what they look for."""

    @model_validator(mode="after")
    def _one_check(self) -> Expectation:
        given = [n for n in ("step", "order", "world", "decision", "manual") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of step, order, world, decision or manual")
        return self

    @property
    def kind(self) -> str:
        """step, order, world, decision or manual."""
        return next(n for n in ("step", "order", "world", "decision", "manual") if getattr(self, n) is not None)


# -- the reference response (--auto) and the end -------------------------------------------------
class Move(Frozen):
    """One move of the reference response, played by `--auto` on the exercise clock."""

    at: Duration | None = None
    """Exercise time of the move."""
    after: str | None = None
    """Or: this long (`delay`) after that inject was delivered."""
    delay: Duration = "0s"
    """With `after`: how long after."""
    run: str | None = None
    """Start this playbook on `agent` (a responder opening a case)."""
    approve: str | None = None
    """Approve the waiting steps of `agent`'s case: `all`, or a step id."""
    decide: Literal["reenable", "keep-disabled", "decommission"] | None = None
    """Record this decision for `agent` (signed, with `reason`)."""
    mark: str | None = None
    """Mark this manual expectation as passed."""
    agent: str | None = None
    """The agent the move is about."""
    reason: str = "reference response"
    """Why (journalled with approvals and decisions)."""
    role: str | None = None
    """The role making the move (its `as` name in the report)."""

    @model_validator(mode="after")
    def _one(self) -> Move:
        if (self.at is None) == (self.after is None):
            raise ValueError("give exactly one of at or after")
        given = [n for n in ("run", "approve", "decide", "mark") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of run, approve, decide or mark")
        if given[0] != "mark" and self.agent is None:
            raise ValueError(f"{given[0]} needs agent")
        return self


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
