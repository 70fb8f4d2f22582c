"""Alert injects checked as the alert path will read them: decoded, normalised, resolved, routed.

An inline `body` must be JSON (a YAML timestamp or a set is not: quote it), a `file` must be
readable beside the scenario; either must be a valid alert of its source's format
(`ir.alerts.formats`), and each firing alert in it must resolve (`ir.alerts.resolve`, the rules
`ir serve` uses) to an agent of the scenario's world. A problem in an inline body is placed at
the node the format reader names (`injects.I1.alert.body.alerts[0].labels`).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ir.alerts.formats import decode, normalise
from ir.alerts.model import Alert, AlertFormatError
from ir.alerts.resolve import resolve
from ir.alerts.route import choose
from ir.core.inventory import Inventory
from ir.core.yamlsafe import Loc
from ir.tabletop.problems import Problem
from ir.tabletop.scenario import AlertInject, Scenario

BODY_LIMIT = 1024 * 1024
"""The largest alert body (the cap `ir serve` and `ir contain` apply)."""

_TOKEN = r'(?:[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])'
_PLACE = re.compile(rf"^({_TOKEN}(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\[\"(?:[^\"\\]|\\.)*\"\])*): (.+)$", re.S)
_PART = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def alert_problems(scenario: Scenario, base: Path | None) -> list[Problem]:
    """Every alert inject's problems; `base` is the scenario file's folder (None: files are not read)."""
    inventory = Inventory.model_validate({"agents": scenario.world.agents})
    labels = _labels(scenario.world.containers)
    formats = scenario.source_formats()
    problems: list[Problem] = []
    for n, inject in enumerate(scenario.injects):
        alert = inject.alert
        if alert is None or alert.source not in formats:
            continue  # no alert, or a source cross-references already named
        here: Loc = ("injects", n, "alert")
        read = _body(alert, here, base)
        if isinstance(read, Problem):
            problems.append(read)
            continue
        raw, at = read
        try:
            alerts = normalise(formats[alert.source], decode(raw), source=alert.source)
        except AlertFormatError as exc:
            problems.append(_format_problem(at, str(exc), formats[alert.source], inline=alert.file is None))
            continue
        problems.extend(_resolved(scenario, alerts, inventory, labels, at))
    return problems


def _body(alert: AlertInject, here: Loc, base: Path | None) -> tuple[bytes, Loc] | Problem:
    """The body's bytes and where to place its problems, or the problem that stops reading it."""
    if alert.file is None:
        at: Loc = (*here, "body")
        bad = _not_json(alert.body, at)
        if bad is not None:
            return bad
        return json.dumps(alert.body).encode("utf-8"), at
    at = (*here, "file")
    if base is None:
        return Problem(at, "a body file needs the scenario's own file to be found from")
    path = base / alert.file
    try:
        with path.open("rb") as handle:
            raw = handle.read(BODY_LIMIT + 1)
    except OSError as exc:
        return Problem(at, f"cannot read {alert.file}: {(exc.strerror or str(exc)).lower()}")
    if len(raw) > BODY_LIMIT:
        return Problem(at, f"{alert.file} is larger than {BODY_LIMIT} bytes (the alert path refuses it)")
    return raw, at


def _not_json(value: Any, at: Loc) -> Problem | None:
    """The first value of an inline body that JSON cannot carry, at its place."""
    stack: list[tuple[Any, Loc]] = [(value, at)]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, (*loc, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*loc, i)) for i, v in reversed(list(enumerate(item))))
        elif isinstance(item, datetime | date | time):
            return Problem(loc, f"{item.isoformat()} is a YAML timestamp, not JSON text: quote it")
        elif isinstance(item, float) and not math.isfinite(item):
            return Problem(loc, f"{item} is not a JSON number")
        elif not isinstance(item, str | int | float | bool | type(None)):
            return Problem(loc, f"a YAML {type(item).__name__} is not JSON")
    return None


def _format_problem(at: Loc, message: str, fmt: str, *, inline: bool) -> Problem:
    """`message` from the format reader, placed at the node it names when the body is inline."""
    match = _PLACE.match(message)
    if not inline or match is None:
        return Problem(at, f"not a valid {fmt} alert: {message}")
    loc: list[str | int] = []
    for name, index, quoted in _PART.findall(match.group(1)):
        loc.append(name if name else int(index) if index else str(json.loads(quoted)))
    if loc[:1] == ["body"]:
        loc = loc[1:]
    return Problem((*at, *loc), f"not a valid {fmt} alert: {match.group(2)}")


def _resolved(
    scenario: Scenario, alerts: list[Alert], inventory: Inventory, labels: dict[str, dict[str, str]], at: Loc
) -> list[Problem]:
    firing = [a for a in alerts if a.status == "firing"]
    if not firing:
        return [Problem(at, "no firing alert in it: it opens no case", "warning")]
    problems = []
    routes = scenario.alerts.routes if scenario.alerts is not None else None
    for alert in firing:
        found = resolve(alert, inventory, labels.get)
        name = f"alert {alert.index} ({alert.title})" if len(alerts) > 1 else f"the alert ({alert.title})"
        if found.state == "unattributed":
            problems.append(Problem(at, f"{name} resolves to no agent of world.agents: {found.detail}"))
        elif found.state == "ambiguous":
            problems.append(Problem(at, f"{name} is ambiguous ({found.detail}): it waits for a person", "warning"))
        if routes is not None and choose(alert, routes) is None:
            problems.append(Problem(at, f"{name}: no route of alerts.routes matches it; nothing runs", "warning"))
    return problems


def _labels(containers: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Container name or id → its labels, as the simulated runtime reports them."""
    found: dict[str, dict[str, str]] = {}
    for name, spec in containers.items():
        spec = spec if isinstance(spec, dict) else {}
        labels = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
        found[str(name)] = labels
        if spec.get("id"):
            found[str(spec["id"])] = labels
    return found
