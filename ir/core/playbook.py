"""Playbooks: versioned YAML documents (`schema: ir/playbook/v1`) loaded into frozen models.

A loaded playbook keeps its exact text and its content hash (sha256 of the canonical JSON of
the parsed document, so comments and layout do not change it). A run stores that text in its
case folder and never reads the workspace copy again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from ir.core.errors import PlaybookError
from ir.core.params import Param, check_value, coerce_param
from ir.core.validation import validate
from ir.core.yamlsafe import Located, YamlInputError, load_file, load_text

SCHEMA = "ir/playbook/v1"
SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"
STEP_ID = r"^[a-z][a-z0-9_-]{0,62}$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def parse_duration(value: Any) -> Any:
    """Seconds from `30`, `30s`, `5m`, `1h` or `250ms`; other values are left to validation."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration (use 30s, 5m, 1h or 250ms)")
        number, unit = float(match.group(1)), match.group(2) or "s"
        return number * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return value


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0, le=86400)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Approval(_Model):
    """Whether a step waits for a person, and who may say yes."""

    required: bool = False
    """The step waits for `--yes`, `--approve STEP` or an approval in the TUI."""
    approvers: tuple[str, ...] = ()
    """People or `group:NAME` (from ir.yaml `approvers`) who may approve; empty = anyone."""


def _approval(value: Any) -> Any:
    if value in ("none", None, False):
        return {"required": False}
    if value in ("required", True):
        return {"required": True}
    return value


class Retry(_Model):
    """How often a step is retried after a transient backend error (never other errors)."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts in all, the first included."""
    delay: Duration = 1.0
    """Delay before the second attempt; doubles each time."""
    max_delay: Duration = 30.0
    """Longest delay between attempts."""


class Step(_Model):
    """One step of a playbook: a verb with arguments, guidance and gates."""

    id: str = Field(pattern=STEP_ID)
    """Unique within the playbook; used in `--approve ID` and `${{ steps.ID... }}`."""
    title: str = Field(min_length=1)
    """One line for step lists."""
    action: str
    """A registered action such as `container.pause`."""
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    """Arguments of the action; strings may contain `${{ ... }}` references."""
    guidance: str = ""
    """Markdown for the responder: what this does, what to check, what to do if it fails."""
    approval: Annotated[Approval, BeforeValidator(_approval)] = Field(default_factory=Approval)
    """`none`, `required`, or `{required: true, approvers: [...]}`."""
    on_failure: Literal["stop", "continue"] = "stop"
    """Whether the run goes on after this step fails."""
    timeout: Duration | None = None
    """Seconds (or `30s`, `5m`) before the step is abandoned as errored."""
    when: str | bool | None = None
    """Run only when this condition holds (`${{ params.x }}`, `not ...`, `== value`)."""
    retry: Retry = Field(default_factory=Retry)
    """Retry policy for transient backend errors."""


class Playbook(_Model):
    """A whole playbook document."""

    schema_: Literal["ir/playbook/v1"] = Field(alias="schema")
    """Always `ir/playbook/v1`."""
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")
    """Name used on the command line (`ir run ID`)."""
    version: str = Field(pattern=SEMVER)
    """Semantic version; bump it on every change."""
    title: str = Field(min_length=1)
    """One line describing the playbook."""
    description: str = ""
    """Longer markdown description."""
    params: dict[str, Param] = Field(default_factory=dict)
    """Parameters by name."""
    steps: tuple[Step, ...] = Field(min_length=1)
    """Steps in order."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f'version {value!r} must be a quoted semver string such as "1.0.0"')
        return value

    def step(self, step_id: str) -> Step:
        """The step with id `step_id`; KeyError if absent."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


@dataclass(frozen=True)
class LoadedPlaybook:
    """A validated playbook with its exact source text and content hash."""

    playbook: Playbook
    text: str
    source: str
    sha256: str
    located: Located


def content_hash(data: Any) -> str:
    """sha256 of the canonical JSON form of a parsed document."""
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _validated(located: Located, text: str) -> LoadedPlaybook:
    if not isinstance(located.data, dict):
        raise PlaybookError(f"{located.path}:1:1: a playbook must be a YAML mapping")
    if located.data.get("schema") != SCHEMA:
        raise PlaybookError(
            f"{located.where(('schema',))}: schema must be {SCHEMA!r}, got {located.data.get('schema')!r}"
        )
    model = validate(Playbook, located, PlaybookError)
    return LoadedPlaybook(model, text, located.path, content_hash(located.data), located)


def parse_playbook(text: str, source: str) -> LoadedPlaybook:
    """Load a playbook from text; errors are `source:line:col: message`."""
    try:
        located = load_text(text, source)
    except YamlInputError as exc:
        raise PlaybookError(str(exc)) from None
    return _validated(located, text)


def load_playbook(path: Path) -> LoadedPlaybook:
    """Load a playbook file."""
    try:
        located = load_file(path)
    except YamlInputError as exc:
        raise PlaybookError(str(exc)) from None
    return _validated(located, path.read_text(encoding="utf-8"))


def playbook_files(folder: Path) -> list[Path]:
    """The playbook files of a folder (`*.yaml`, `*.yml`), sorted; `ansible/` is not scanned."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


@dataclass(frozen=True)
class Listing:
    """The playbooks of a folder that load, and one problem (`file:line:col: message`) per file that does not."""

    playbooks: tuple[LoadedPlaybook, ...]
    problems: tuple[str, ...]


def list_playbooks(folder: Path) -> Listing:
    """Load every playbook of `folder`; a bad file is named in `problems` and never hides the others."""
    good: list[LoadedPlaybook] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in playbook_files(folder):
        try:
            loaded = load_playbook(path)
        except PlaybookError as exc:
            problems.append(str(exc))
            continue
        book_id = loaded.playbook.id
        if book_id in seen:
            problems.append(f"{loaded.located.where(('id',))}: playbook id {book_id!r} is also used by {seen[book_id]}")
            continue
        seen[book_id] = path.name
        good.append(loaded)
    return Listing(tuple(good), tuple(problems))


def find_playbook(folder: Path, name: str) -> LoadedPlaybook:
    """A playbook by id (or by path), from the workspace's playbook folder."""
    candidate = Path(name)
    if candidate.suffix in {".yaml", ".yml"} and candidate.is_file():
        return load_playbook(candidate)
    for path in playbook_files(folder):
        try:
            loaded = load_playbook(path)
        except PlaybookError:
            if path.stem == name:
                raise
            continue
        if loaded.playbook.id == name:
            return loaded
    raise PlaybookError(f"{folder}: no playbook with id {name!r} (see `ir playbook list`)")


def resolve_params(playbook: Playbook, given: dict[str, str], located: Located | None = None) -> dict[str, Any]:
    """Declared params with given values converted, checked against their bounds, and defaults filled.

    A PlaybookError names the param and, when `located` is given, where the playbook declares it.
    """

    def where(*loc: str) -> str:
        return located.where(loc) if located is not None else f"playbook {playbook.id}"

    unknown = sorted(set(given) - set(playbook.params))
    if unknown:
        known = ", ".join(sorted(playbook.params)) or "none"
        raise PlaybookError(f"{where('params')}: unknown param {unknown[0]!r} (declared: {known})")
    values: dict[str, Any] = {}
    for name, spec in playbook.params.items():
        if name in given:
            try:
                values[name] = coerce_param(name, spec, given[name])
                check_value(spec, values[name], what=f"param {name}:")
            except ValueError as exc:
                raise PlaybookError(f"{where('params', name)}: {exc}") from None
        elif spec.required and spec.default is None:
            raise PlaybookError(f"{where('params', name)}: param {name!r} is required (--param {name}=...)")
        else:
            values[name] = spec.default
    return values
