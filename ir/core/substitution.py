"""The `${{ ... }}` reference syntax of playbooks: lookups only, never code.

A reference is a dotted path into one of three roots:

    ${{ params.stop_container }}          a playbook parameter
    ${{ agent.container.name }}           a field of the agent's inventory entry
    ${{ steps.freeze.outputs.id }}        an output of an earlier step

A string that is exactly one reference keeps the referenced value's type (a bool stays a bool);
references inside longer text are rendered as text. `when:` conditions accept `REF`, `not REF`,
`REF == literal` and `REF != literal`, nothing else; in a condition, a path that does not exist
(an output a skipped step never produced) counts as absent, so false. There is no evaluation: the parser knows
names, dots, and those four forms.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

REF_RE = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
PATH_RE = re.compile(r"^(params|agent|steps|case)(\.[A-Za-z0-9_-]+)+$")
COND_RE = re.compile(r"^\s*(not\s+)?([A-Za-z0-9_.-]+)\s*(?:(==|!=)\s*(.+?))?\s*$")


class SubstitutionError(ValueError):
    """A reference that is malformed or points at nothing."""


@dataclass(frozen=True)
class Unresolved:
    """Stands for an output that does not exist yet (dry run): rendered as a placeholder."""

    path: str

    def __str__(self) -> str:
        return f"<{self.path}>"


def parse_path(expr: str) -> tuple[str, ...]:
    """Split a reference path, refusing anything that is not `root.name(.name)*`."""
    if not PATH_RE.match(expr):
        raise SubstitutionError(
            f"bad reference ${{{{ {expr} }}}}: expected params.X, agent.X, steps.ID.outputs.X or case.X"
        )
    return tuple(expr.split("."))


def references(value: Any) -> Iterator[tuple[str, ...]]:
    """Every reference path in a nested value (strings inside dicts and lists)."""
    if isinstance(value, str):
        for match in REF_RE.finditer(value):
            yield parse_path(match.group(1))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)


def lookup(path: tuple[str, ...], scope: Mapping[str, Any]) -> Any:
    """Follow `path` through dicts in `scope`; an Unresolved anywhere stays Unresolved."""
    node: Any = scope
    for i, part in enumerate(path):
        if isinstance(node, Unresolved):
            return Unresolved(".".join(path))
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            where = ".".join(path[: i + 1])
            raise SubstitutionError(f"reference ${{{{ {'.'.join(path)} }}}}: {where} does not exist")
    return node


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Replace every reference in `value` (recursively) using `scope`."""
    if isinstance(value, str):
        whole = REF_RE.fullmatch(value.strip())
        if whole:
            return lookup(parse_path(whole.group(1)), scope)

        def text(match: re.Match[str]) -> str:
            found = lookup(parse_path(match.group(1)), scope)
            if isinstance(found, str | Unresolved):
                return str(found)
            return json.dumps(found, sort_keys=True, default=str)

        return REF_RE.sub(text, value)
    if isinstance(value, Mapping):
        return {key: render(item, scope) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render(item, scope) for item in value]
    return value


def _literal(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text.strip("'\"")


def truthy(value: Any) -> bool:
    """Truth of a resolved value; the strings `false`, `no`, `0` and `` are false."""
    if isinstance(value, str):
        return value.strip().lower() not in {"", "false", "no", "0", "off"}
    return bool(value)


def parse_condition(expr: str) -> tuple[bool, tuple[str, ...], str | None, Any]:
    """Parse a `when:` expression into (negate, path, operator, literal)."""
    inner = expr.strip()
    whole = REF_RE.fullmatch(inner)
    if whole:
        inner = whole.group(1)
    match = COND_RE.match(inner)
    if not match:
        raise SubstitutionError(f"bad condition {expr!r}: use REF, not REF, REF == VALUE or REF != VALUE")
    negate, path, op, literal = match.groups()
    return bool(negate), parse_path(path), op, _literal(literal) if literal is not None else None


def evaluate_condition(expr: str | bool, scope: Mapping[str, Any]) -> bool | Unresolved:
    """Evaluate a `when:` condition; Unresolved when it depends on an output not known yet."""
    if isinstance(expr, bool):
        return expr
    negate, path, op, literal = parse_condition(expr)
    try:
        value = lookup(path, scope)
    except SubstitutionError:
        value = None  # an output a skipped or failed step never produced: the condition is false

    if isinstance(value, Unresolved):
        return value
    if op == "==":
        result = value == literal or str(value) == str(literal)
    elif op == "!=":
        result = not (value == literal or str(value) == str(literal))
    else:
        result = truthy(value)
    return not result if negate else result
