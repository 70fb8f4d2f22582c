"""Scenario problems: found at a place in the data, shown as `file:line:col: path: message`.

A check says *where* (the place in the parsed document, e.g. `("injects", 1, "at")`) and *what*;
`locate` turns that into the line a person reads, at the offending node, with items of the id'd
lists named by their id (`injects.I2.at`, not `injects.1.at`) and other items by index
(`reference[0].run`). Pydantic's own errors go through the same door (`from_validation`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from ir.core.validation import describe
from ir.core.yamlsafe import Loc, Located

ID_LISTS = frozenset({"objectives", "roles", "injects", "expectations"})
"""Lists whose items are named by their `id` in a problem's path (when the id is a valid one)."""
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """Something wrong at a place in the scenario's data (not yet tied to a file)."""

    loc: Loc
    """Keys and indexes from the document's root to the offending node."""
    message: str
    """What is wrong, in one sentence."""
    severity: Severity = "error"
    """`error` (the scenario cannot be used as it is) or `warning` (it can, but probably not as meant)."""


@dataclass(frozen=True)
class Finding:
    """A problem placed in its file: what `ir tabletop lint` prints, one line each."""

    file: str
    line: int
    col: int
    path: str
    """The dotted place in the scenario (`injects.I2.at`); empty for the document itself."""
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {tag}{self.path}: {self.message}" if self.path else f"{where}: {tag}{self.message}"

    def as_json(self) -> str:
        """One JSON object (for `--json`)."""
        return json.dumps(
            {
                "file": self.file,
                "line": self.line,
                "col": self.col,
                "path": self.path,
                "severity": self.severity,
                "message": self.message,
            },
            sort_keys=True,
        )


def position(located: Located, loc: Loc) -> tuple[int, int]:
    """1-based line and column of the node at `loc` (or of its nearest located parent)."""
    for end in range(len(loc), -1, -1):
        mark = located.marks.get(tuple(loc[:end]))
        if mark is not None:
            return mark
    return (1, 1)


def path_of(loc: Loc, data: Any) -> str:
    """`injects.I2.at`, `reference[0].run`, `world.agents.support-bot.container` for `loc` in `data`."""
    text = ""
    parent: Any = None
    for part in loc:
        if isinstance(part, int):
            item = data[part] if isinstance(data, list) and 0 <= part < len(data) else None
            ident = item.get("id") if isinstance(item, dict) else None
            if parent in ID_LISTS and isinstance(ident, str) and _ID.match(ident):
                text += f".{ident}"
            else:
                text += f"[{part}]"
            data = item
        else:
            text += f".{part}" if text else str(part)
            data = data.get(part) if isinstance(data, dict) else None
        parent = part
    return text


def locate(problems: Iterable[Problem], located: Located) -> list[Finding]:
    """Each problem as a finding in `located`'s file, in document order (stable for one place)."""
    found = []
    for problem in problems:
        line, col = position(located, problem.loc)
        path = path_of(problem.loc, located.data)
        found.append(Finding(located.path, line, col, path, problem.message, problem.severity))
    return sorted(found, key=lambda f: (f.line, f.col))


def from_validation(exc: ValidationError, prefix: Loc = ()) -> list[Problem]:
    """Pydantic's errors as problems; an error that only follows from a deeper one is left out."""
    errors = exc.errors()
    locs = [tuple(p for p in err["loc"] if not str(p).startswith("function-") and p != "[key]") for err in errors]
    problems = []
    for err, loc in zip(errors, locs, strict=True):
        if any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs):
            continue
        said = describe({**err, "loc": ()})
        for noise in ("Value error, ", "Assertion failed, "):
            said = said.removeprefix(noise)
        problems.append(Problem((*prefix, *loc), said))
    return problems
