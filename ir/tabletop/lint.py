"""`ir tabletop lint`: everything wrong with a scenario, each at its `file:line:col`.

Loading checks the shape and the cross-references (`scenario.examine`); lint adds what needs more
than the file: alert bodies (`alert_bodies`), the world the agents and world changes name, the
action and playbook names expectations and the reference response use (handed in by the CLI as a
`LintContext`: tabletop does not import the action registry), objectives without expectations,
and injects or moves the time limit cuts off.

Errors mean the exercise cannot run as written or cannot be scored; warnings mean it can, but
probably not as meant (`docs/tabletop.md`, "Lint", lists which is which).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.core.inventory import Inventory
from ir.core.yamlsafe import Loc, Located, YamlInputError, load_file, load_text
from ir.tabletop.alert_bodies import alert_problems
from ir.tabletop.crossref import agent_problems
from ir.tabletop.problems import Finding, Problem, locate
from ir.tabletop.scenario import DEFAULT_PLAYBOOK, Scenario, WorldChange, examine, seconds

DESTRUCTIVE = "destructive"
_YAML_ERROR = re.compile(r"^(.*?):(\d+):(\d+): (.*)$", re.S)


@dataclass(frozen=True)
class PlaybookFacts:
    """What lint needs to know of one playbook of the workspace."""

    steps: frozenset[str]
    """Its step ids."""
    actions: frozenset[str]
    """The actions its steps run."""
    params: frozenset[str] = frozenset()
    """Its parameter names."""


@dataclass(frozen=True)
class LintContext:
    """What a scenario is checked against, built by the CLI from the workspace and the registry."""

    actions: frozenset[str] = frozenset()
    """Registered action names (empty: action names are not checked)."""
    playbooks: Mapping[str, PlaybookFacts] | None = field(default=None)
    """The workspace's playbooks by id (None: playbook names are not checked)."""


def lint_file(path: Path, context: LintContext) -> list[Finding]:
    """Every finding of the scenario file at `path`, in document order."""
    try:
        located = load_file(path)
    except YamlInputError as exc:
        return [_yaml_finding(str(exc), str(path))]
    return lint_located(located, context, path.parent)


def lint_text(text: str, source: str, context: LintContext, base: Path | None = None) -> list[Finding]:
    """Every finding of a scenario given as text; `base` is where its alert body files are."""
    try:
        located = load_text(text, source)
    except YamlInputError as exc:
        return [_yaml_finding(str(exc), source)]
    return lint_located(located, context, base)


def lint_located(located: Located, context: LintContext, base: Path | None) -> list[Finding]:
    """Loading's problems and, when the shape is right, lint's own, placed in `located`'s file."""
    scenario, problems = examine(located)
    if scenario is not None:
        problems = [*problems, *deeper(scenario, context, base)]
    return locate(problems, located)


def deeper(scenario: Scenario, context: LintContext, base: Path | None) -> list[Problem]:
    """What loading does not check (see the module docstring)."""
    return [
        *(p for p in agent_problems(scenario.world.agents) if p.severity == "warning"),  # errors: loading's
        *_world(scenario),
        *_world_changes(scenario),
        *alert_problems(scenario, base),
        *_expectations(scenario, context),
        *_reference(scenario, context),
        *_routes(scenario, context),
        *_time_limit(scenario),
    ]


def _yaml_finding(text: str, source: str) -> Finding:
    match = _YAML_ERROR.match(text)
    if match is None:
        return Finding(source, 1, 1, "", text.removeprefix(f"{source}: "))
    return Finding(match.group(1), int(match.group(2)), int(match.group(3)), "", match.group(4))


# -- the world ---------------------------------------------------------------------------------
def _section(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class _Identities:
    """Users, keys, roles and secrets of the world, growing as world changes create them."""

    users: set[str]
    keys: set[str]
    roles: set[str]
    secrets: set[str]

    @classmethod
    def of(cls, scenario: Scenario) -> _Identities:
        iam = scenario.world.iam
        users = _section(iam.get("users"))
        keys = {
            str(key.get("id"))
            for user in users.values()
            for key in (_section(user).get("access_keys") or [])
            if isinstance(key, dict) and key.get("id")
        }
        roles = set(map(str, _section(iam.get("roles"))))
        return cls(set(map(str, users)), keys, roles, set(map(str, scenario.world.secrets)))


def _world(scenario: Scenario) -> list[Problem]:
    """The containers, credentials, hosts and logs the agents name exist in the world."""
    world = scenario.world
    known = _Identities.of(scenario)
    ids = {str(_section(spec).get("id")) for spec in world.containers.values() if _section(spec).get("id")}
    problems = []
    for agent in Inventory.model_validate({"agents": world.agents}).agents.values():
        here: Loc = ("world", "agents", agent.id)
        ref = agent.container
        if ref is not None and ref.name not in world.containers and ref.id not in ids:
            problems.append(Problem((*here, "container"), f"no container {ref.ref!r} in world.containers"))
        for k, cred in enumerate(agent.credentials):
            extra = cred.model_extra or {}
            for kind, key, pool, section in (
                ("aws.iam_user", "user_name", known.users, "world.iam.users"),
                ("aws.iam_role", "role_name", known.roles, "world.iam.roles"),
                ("aws.secret", "secret_id", known.secrets, "world.secrets"),
            ):
                if cred.type == kind and key in extra and str(extra[key]) not in pool:
                    problems.append(Problem((*here, "credentials", k), f"no {extra.get(key)!r} in {section}"))
        for k, host in enumerate(agent.hosts):
            if host not in world.hosts:
                problems.append(Problem((*here, "hosts", k), f"no host {host!r} in world.hosts"))
        for k, source in enumerate(agent.logs):
            if source.path is not None and source.path not in world.logs:
                why = f"{source.path!r} is not in world.logs: the timeline finds nothing there"
                problems.append(Problem((*here, "logs", k, "path"), why, "warning"))
    for name, spec in world.containers.items():
        logs_file = _section(spec).get("logs_file")
        if logs_file is not None and logs_file not in world.logs:
            why = f"{logs_file!r} is not in world.logs: the world cannot be seeded"
            problems.append(Problem(("world", "containers", name, "logs_file"), why))
    return problems


def delivery_times(scenario: Scenario) -> dict[str, tuple[int, int]]:
    """Inject id → (expected exercise second, `after` hops), ignoring `unless`; absent when never."""
    by_id = {i.id: i for i in scenario.injects}
    times: dict[str, tuple[int, int]] = {}

    def when(inject_id: str, seen: frozenset[str]) -> tuple[int, int] | None:
        if inject_id in times:
            return times[inject_id]
        inject = by_id.get(inject_id)
        if inject is None or inject_id in seen:
            return None
        if inject.at is not None:
            found: tuple[int, int] | None = (seconds(inject.at), 0)
        else:
            parent = when(str(inject.after), seen | {inject_id})
            found = None if parent is None else (parent[0] + seconds(inject.delay), parent[1] + 1)
        if found is not None:
            times[inject_id] = found
        return found

    for inject in scenario.injects:
        when(inject.id, frozenset())
    return times


def _world_changes(scenario: Scenario) -> list[Problem]:
    """Each world change names what exists when it happens (or what an earlier one created)."""
    times = delivery_times(scenario)
    order = sorted((times[i.id], n) for n, i in enumerate(scenario.injects) if i.id in times and i.world)
    known = _Identities.of(scenario)
    problems: list[Problem] = []
    for _, n in order:
        for k, change in enumerate(scenario.injects[n].world):
            problems.extend(_change(change, known, scenario, ("injects", n, "world", k)))
            if change.op == "create_user" and change.user:
                known.users.add(change.user)
            if change.op == "create_role" and change.role:
                known.roles.add(change.role)
            if change.key:
                known.keys.add(change.key)
    return problems


def _change(change: WorldChange, known: _Identities, scenario: Scenario, here: Loc) -> list[Problem]:
    """Each name `change` gives that does not fit the world as it is when it happens."""
    world = scenario.world
    said: list[Problem] = []
    if change.by is not None and change.by not in known.users | known.keys:
        why = f"no user or access key {change.by!r} in the world (nor created before)"
        said.append(Problem((*here, "by"), why, "warning"))
    for name, wrong, why in (
        (
            "user",
            change.op == "mint_key" and change.user not in known.users,
            "no user {!r} in world.iam.users, nor created by an earlier inject",
        ),
        ("user", change.op == "create_user" and change.user in known.users, "user {!r} already exists"),
        ("role", change.op == "create_role" and change.role in known.roles, "role {!r} already exists"),
        ("key", change.key is not None and change.key in known.keys, "access key {!r} already exists"),
        (
            "agent",
            change.op in ("egress", "spend") and change.agent not in world.agents,
            "no agent {!r} in world.agents",
        ),
        (
            "log",
            change.op == "egress" and change.log is not None and change.log not in world.logs,
            "{!r} is not in world.logs",
        ),
        (
            "secret",
            change.op == "read_secret" and change.secret not in known.secrets,
            "no secret {!r} in world.secrets",
        ),
    ):
        if wrong:
            said.append(Problem((*here, name), why.format(getattr(change, name))))
    return said


# -- expectations, the reference response, routes and the time limit -----------------------------
def _action_problem(loc: Loc, name: str, context: LintContext, *, step_ids: bool = False) -> Problem | None:
    if step_ids and name.startswith("step:"):
        if context.playbooks is None or any(name[5:] in p.steps for p in context.playbooks.values()):
            return None
        return Problem(loc, f"no playbook of the workspace has a step {name[5:]!r}")
    if not context.actions or name in context.actions:
        return None
    close = difflib.get_close_matches(name, sorted(context.actions), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else " (`ir playbook schema` lists the actions)"
    return Problem(loc, f"no action {name!r}{hint}")


def _played(scenario: Scenario, context: LintContext) -> set[str] | None:
    """The actions of every playbook the exercise will run (reference moves and alert routes)."""
    if context.playbooks is None:
        return None
    books = {m.run for m in scenario.reference if m.run is not None}
    books |= {r.playbook for r in scenario.alerts.routes} if scenario.alerts else {DEFAULT_PLAYBOOK}
    return {a for b in books if b in context.playbooks for a in context.playbooks[b].actions}


def _expectations(scenario: Scenario, context: LintContext) -> list[Problem]:
    problems: list[Problem | None] = []
    played = _played(scenario, context)
    for n, e in enumerate(scenario.expectations):
        here: Loc = ("expectations", n)
        names: list[tuple[Loc, str]] = []
        if e.step is not None:
            problems.append(_action_problem((*here, "step", "action"), e.step.action, context, step_ids=True))
            names.append(((*here, "step", "action"), e.step.action))
        if e.order is not None:
            problems.append(_action_problem((*here, "order", "first"), e.order.first, context))
            names.append(((*here, "order", "first"), e.order.first))
            for k, then in enumerate(e.order.then):
                if then != DESTRUCTIVE:
                    problems.append(_action_problem((*here, "order", "then", k), then, context))
        for loc, name in names:
            if played is not None and name in context.actions and name not in played:
                why = f"no playbook the exercise runs (reference moves, alert routes) has action {name!r}"
                problems.append(Problem(loc, f"{why}: --auto cannot pass it", "warning"))
    counted = {e.objective for e in scenario.expectations}
    for n, objective in enumerate(scenario.objectives):
        if objective.id not in counted:
            problems.append(
                Problem(("objectives", n), f"objective {objective.id} has no expectation: it cannot be rated")
            )
    return [p for p in problems if p is not None]


def _reference(scenario: Scenario, context: LintContext) -> list[Problem]:
    if not scenario.reference:
        return [
            Problem(("reference",), "no reference response: --auto cannot show the scenario is solvable", "warning")
        ]
    books = context.playbooks
    if books is None:
        return []
    problems = []
    for n, move in enumerate(scenario.reference):
        if move.run is not None and move.run not in books:
            problems.append(
                Problem(("reference", n, "run"), f"no playbook {move.run!r} in the workspace{_known(books)}")
            )
        if move.approve not in (None, "all") and not any(move.approve in b.steps for b in books.values()):
            problems.append(
                Problem(("reference", n, "approve"), f"no playbook of the workspace has a step {move.approve!r}")
            )
    return problems


def _routes(scenario: Scenario, context: LintContext) -> list[Problem]:
    books = context.playbooks
    if books is None:
        return []
    if scenario.alerts is None:
        first = next((n for n, i in enumerate(scenario.injects) if i.alert is not None), None)
        if first is None or DEFAULT_PLAYBOOK in books:
            return []
        why = f"the default alert route runs {DEFAULT_PLAYBOOK!r}, which is not a playbook of the workspace"
        return [Problem(("injects", first, "alert"), why)]
    problems = []
    for n, route in enumerate(scenario.alerts.routes):
        here: Loc = ("alerts", "routes", n)
        if route.playbook not in books:
            problems.append(
                Problem((*here, "playbook"), f"no playbook {route.playbook!r} in the workspace{_known(books)}")
            )
            continue
        for name in route.params:
            if name not in books[route.playbook].params:
                problems.append(Problem((*here, "params", name), f"playbook {route.playbook} has no param {name!r}"))
    return problems


def _known(books: Mapping[str, PlaybookFacts]) -> str:
    return f" (known: {', '.join(sorted(books))})" if books else " (it has none)"


def _time_limit(scenario: Scenario) -> list[Problem]:
    """Injects and moves due at or after `end.after` never happen."""
    limit = seconds(scenario.end.after)
    times = delivery_times(scenario)
    due: list[tuple[Loc, int | None, str]] = []
    for n, inject in enumerate(scenario.injects):
        key = "at" if inject.at is not None else "after"
        due.append((("injects", n, key), times[inject.id][0] if inject.id in times else None, "delivered"))
    for n, move in enumerate(scenario.reference):
        parent = times.get(move.after) if move.after is not None else (0, 0)
        when = seconds(move.at) if move.at is not None else None if parent is None else parent[0] + seconds(move.delay)
        due.append((("reference", n, "at" if move.at is not None else "after"), when, "played"))
    return [
        Problem(
            loc, f"{what} at {_clock(at)}, not before the time limit end.after ({scenario.end.after}): it never happens"
        )
        for loc, at, what in due
        if at is not None and at >= limit
    ]


def _clock(total: int) -> str:
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v) or "0s"
