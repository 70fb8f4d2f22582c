"""Which route an alert takes: the first route in `ir.yaml` whose `match` fits, or none.

Routes match on normalised fields only (source, format, kind, severity, status, labels, title),
so a route reads the same whatever sent the alert. Lint (`lint_routes`) checks what the schema
cannot: that each route's playbook exists and takes the params given.
"""

from __future__ import annotations

import re
from pathlib import Path

from ir.alerts.model import Alert
from ir.core.alert_settings import Match, Route
from ir.core.yamlsafe import YamlInputError, load_file


def choose(alert: Alert, routes: tuple[Route, ...]) -> Route | None:
    """The first route matching `alert`, or None."""
    return next((route for route in routes if matches(route.match, alert)), None)


def matches(match: Match, alert: Alert) -> bool:
    """Whether every field `match` gives fits the alert."""
    checks = (
        (match.source, alert.source),
        (match.format, alert.format),
        (match.kind, alert.kind),
        (match.severity, alert.severity),
        (match.status, alert.status),
    )
    if any(wanted and have not in wanted for wanted, have in checks):
        return False
    for name, pattern in match.labels.items():
        value = alert.labels.get(name)
        if value is None or re.fullmatch(pattern, value) is None:
            return False
    return match.title is None or re.search(match.title, alert.title) is not None


def lint_routes(settings_path: Path, routes: tuple[Route, ...], playbooks: dict[str, set[str]]) -> list[str]:
    """`ir.yaml:line:col: …` for each route naming a playbook that does not exist or a param it lacks.

    `playbooks`: playbook id → its parameter names.
    """
    try:
        located = load_file(settings_path)
    except YamlInputError as exc:
        return [str(exc)]
    problems = []
    for index, route in enumerate(routes):
        if route.playbook not in playbooks:
            where = located.where(("alerts", "routes", index, "playbook"))
            known = ", ".join(sorted(playbooks)) or "none"
            problems.append(f"{where}: route {route.name}: no playbook {route.playbook!r} (known: {known})")
            continue
        for name in route.params:
            if name not in playbooks[route.playbook]:
                where = located.where(("alerts", "routes", index, "params", name))
                problems.append(f"{where}: route {route.name}: playbook {route.playbook} has no param {name!r}")
    return problems
