"""The workspace's scenario folder (`tabletop/`, or `tabletop_dir` in `ir.yaml`): its files, and a
scenario named by path or by id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ir.core.errors import InputError
from ir.core.yamlsafe import YamlInputError, load_file
from ir.tabletop.scenario import Scenario, ScenarioError, load_scenario


@dataclass(frozen=True)
class Entry:
    """One scenario file of the folder: its scenario, or the first error that stops it loading."""

    path: Path
    scenario: Scenario | None
    error: str | None = None


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files of `folder` (`*.yaml`, `*.yml`), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def shown(path: Path) -> Path:
    """`path` relative to the current directory when it is inside it (shorter error lines)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def list_scenarios(folder: Path) -> list[Entry]:
    """Every scenario file of `folder`, loaded; a file that does not load never hides the others."""
    entries = []
    for path in scenario_files(folder):
        try:
            entries.append(Entry(shown(path), load_scenario(shown(path))))
        except ScenarioError as exc:
            entries.append(Entry(shown(path), None, str(exc)))
    return entries


def find_scenario(folder: Path, ref: str) -> Path:
    """The file `ref` names: a path to a file, else the folder's `REF.yaml`, else the file whose `id:` is `ref`."""
    given = Path(ref)
    if given.is_file():
        return given
    files = scenario_files(folder)
    for path in files:
        if path.stem == ref:
            return shown(path)
    for path in files:  # by the id it gives, even when the rest of it does not load (lint is for that)
        try:
            data = load_file(path).data
        except YamlInputError:
            continue
        if isinstance(data, dict) and data.get("id") == ref:
            return shown(path)
    known = ", ".join(path.stem for path in files) or "none"
    raise InputError(f"no scenario {ref!r}: not a file, nor an id in {shown(folder)} (known: {known})")
