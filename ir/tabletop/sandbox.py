"""An exercise's folder and its sandbox workspace (`exercises/<id>/`, BRIEF contract).

    exercises/EX-<scenario>-<UTC yyyymmddThhmmss>/
      scenario.yaml      the scenario file as run (its sha256 is in `exercise.started`)
      exercise.jsonl     the exercise journal (hash-chained, signed checkpoints)
      workspace/         a normal agent-ir workspace: ir.yaml, agents.yaml, world.yaml, the
                         world's log files, playbooks/ (a copy of the starting workspace's),
                         cases/, .ir/ (world state, inbox, the exercise's signing keys)

Nothing of the starting workspace is read but its playbooks (copied) and a few settings
(approver groups; Docker and AWS connection for live fire); nothing of it is written but the
new folder under `exercises/`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ir.core.alert_settings import Source
from ir.core.errors import InputError, StorageError
from ir.core.journal import Record, read
from ir.core.signing import generate_key, public_info
from ir.core.signing_journal import SignatureReport, check_journal
from ir.core.signing_trust import EXERCISE_KEYS_DIR, workspace_trust, write_key
from ir.core.workspace import SETTINGS_FILE, Workspace, find_workspace
from ir.tabletop.scenario import Scenario

EXERCISES_DIR = "exercises"
"""Where exercises are created, under the workspace `ir tabletop run` starts in."""
SCENARIO_FILE = "scenario.yaml"
JOURNAL_FILE = "exercise.jsonl"
SANDBOX_DIR = "workspace"
KEYS_DIR = EXERCISE_KEYS_DIR
"""The exercise's own signing keys (role, participant and service principals), trusted only there
(and found there by every command run on the sandbox: `ir.core.signing_trust.key_path`)."""
SERVICE_PRINCIPAL = "exercise-service"
"""Who the exercise's alert path acts and signs as (default alert settings)."""
ROUTE = "contain-compromised-agent"
WORLD_SECTIONS = ("containers", "images", "iam", "secrets", "hosts", "http", "cloudtrail")


_WORKSPACES: dict[Path, tuple[tuple[tuple[int, int], ...], Workspace]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Sandbox:
    """One exercise's folder: its journal, its scenario copy and its sandbox workspace."""

    folder: Path

    @property
    def id(self) -> str:
        """The exercise id (the folder's name)."""
        return self.folder.name

    @property
    def workspace_root(self) -> Path:
        """The sandbox workspace (`ir -w <this> cases` works)."""
        return self.folder / SANDBOX_DIR

    @property
    def journal_path(self) -> Path:
        """`exercise.jsonl`."""
        return self.folder / JOURNAL_FILE

    @property
    def scenario_path(self) -> Path:
        """The scenario file as run."""
        return self.folder / SCENARIO_FILE

    def workspace(self) -> Workspace:
        """The sandbox workspace, loaded (settings and inventory), read again only when `ir.yaml` or
        `agents.yaml` changed: an exercise asks for it at every condition it checks."""
        version = tuple(_stamp(self.workspace_root / name) for name in (SETTINGS_FILE, "agents.yaml"))
        cached = _WORKSPACES.get(self.workspace_root)
        if cached is not None and cached[0] == version:
            return cached[1]
        ws = find_workspace(self.workspace_root)
        _WORKSPACES[self.workspace_root] = (version, ws)
        return ws

    def key_for(self, principal: str) -> Path | None:
        """The exercise's private key for `principal` (None when it has none)."""
        path = self.workspace_root / KEYS_DIR / principal
        return path if principal and Path(principal).name == principal and path.is_file() else None

    def records(self) -> list[Record]:
        """The exercise journal's records (a damaged journal is an InputError naming the line)."""
        checked = read(self.journal_path)
        if checked.problems:
            raise InputError(checked.problems[0])
        return checked.records

    def verify(self) -> SignatureReport:
        """Check the exercise journal as `ir verify` checks a case's: the chain, then every checkpoint
        against the sandbox's allowed signers (`problems` empty: nothing was altered)."""
        checked = read(self.journal_path)
        trust = workspace_trust(self.workspace())
        report = check_journal(checked.records, self.folder, trust, live_pid=None, journal=str(self.journal_path))
        report.problems[:0] = checked.problems
        return report


def find_exercise(ref: str, exercises: Path | None) -> Path:
    """An exercise folder from a path or an exercise id under `exercises` (a unique prefix is enough)."""
    direct = Path(ref)
    if (direct / JOURNAL_FILE).is_file():
        return direct.resolve()
    if exercises is not None and exercises.is_dir():
        if (exercises / ref / JOURNAL_FILE).is_file():
            return (exercises / ref).resolve()
        matches = sorted(p for p in exercises.iterdir() if p.name.startswith(ref) and (p / JOURNAL_FILE).is_file())
        if len(matches) == 1:
            return matches[0].resolve()
        if len(matches) > 1:
            raise InputError(f"{ref}: matches {len(matches)} exercises in {exercises}; give more of the id")
    where = f" or in {exercises}" if exercises is not None else ", and no workspace here to look in"
    raise InputError(f"{ref}: no such exercise (no {JOURNAL_FILE} there{where})")


def open_sandbox(ref: str | Path, workspace_root: Path | None = None) -> Sandbox:
    """An existing exercise, by folder path or by id (or unique prefix) under `<workspace>/exercises/`."""
    return Sandbox(find_exercise(str(ref), workspace_root / EXERCISES_DIR if workspace_root is not None else None))


def new_exercise_id(scenario_id: str, now: datetime | None = None) -> str:
    """`EX-<scenario>-<UTC yyyymmddThhmmss>`."""
    return f"EX-{scenario_id}-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%S')}"


def default_alerts() -> dict[str, Any]:
    """Every source format (one source each, named as the format, no auth: in-process only), the
    exercise's service principal, one route to agent-compromise under auto_then_approve."""
    formats = typing.get_args(Source.model_fields["format"].annotation)
    return {
        "service": {"principal": SERVICE_PRINCIPAL},
        "sources": {fmt: {"format": fmt} for fmt in formats},
        "routes": [{"name": ROUTE, "playbook": "agent-compromise", "policy": "auto_then_approve"}],
    }


def _reserve(base: Path, exercise_id: str, exact: bool) -> Path:
    """Create the exercise folder; the same scenario started twice in one second gets `-2`, `-3`…
    (with `exact`, a given id that is taken is an error: live-fire containers carry it as a label)."""
    base.mkdir(parents=True, exist_ok=True)
    if exact:
        try:
            (base / exercise_id).mkdir()
        except FileExistsError:
            raise InputError(
                f"{base / exercise_id}: exercise {exercise_id} exists already; choose another id"
            ) from None
        return base / exercise_id
    for n in range(1, 1000):
        folder = base / (exercise_id if n == 1 else f"{exercise_id}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise InputError(f"{base}: cannot find a free exercise folder for {exercise_id}")


def _create(path: Path, text: str) -> None:
    """Write a new file of the sandbox: never over one already there (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:
        fh.write(text)


def _dump(path: Path, data: Any, header: str = "") -> None:
    _create(path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120))


def discard(folder: Path) -> None:
    """Remove an exercise folder that could not be built or started (this process made it: nothing else is there)."""
    shutil.rmtree(folder, ignore_errors=True)


def _make_keys(sandbox: Path, principals: dict[str, str]) -> dict[str, Any]:
    """A fresh ed25519 key per principal in the sandbox's `.ir/keys/`; the allowed_signers entries."""
    signers: dict[str, Any] = {}
    for principal, role in principals.items():
        key = generate_key("ed25519")
        write_key(sandbox / KEYS_DIR / principal, key)
        signers[principal] = {"key": f"{public_info(key.public_key()).openssh} {principal}@exercise", "role": role}
    return signers


def create_sandbox(
    start: Workspace,
    scenario: Scenario,
    scenario_file: Path,
    *,
    exercise_id: str,
    participants: tuple[str, ...] = (),
    exact: bool = False,
    live_fire: bool = False,
) -> tuple[Sandbox, str]:
    """Write the exercise folder for `scenario`; (the sandbox, the scenario file's sha256).

    `participants` (the facilitator, `--as` names) get signing keys beside the scenario's roles
    and the alert path's service principal, all allowed only in the sandbox's `ir.yaml`. With
    `exact`, `exercise_id` is used as given or not at all. `live_fire` is written into the sandbox's
    `ir.yaml`: without it, every command on the sandbox refuses backends but the simulated one.
    Every file is created, never overwritten; a sandbox that cannot be built is removed whole.
    """
    folder = _reserve(start.root / EXERCISES_DIR, exercise_id, exact)
    try:
        return _build(start, scenario, scenario_file, Sandbox(folder), participants, live_fire)
    except FileExistsError as exc:
        discard(folder)
        raise InputError(
            f"{scenario_file}: the sandbox could not be built: {exc.filename} would be written twice "
            "(a world.logs path on one of the sandbox's own files); nothing was left in exercises/"
        ) from None
    except OSError as exc:
        discard(folder)
        raise StorageError(f"{folder}: the sandbox could not be built ({exc}); nothing was left behind") from None
    except BaseException:
        discard(folder)
        raise


def _build(
    start: Workspace,
    scenario: Scenario,
    scenario_file: Path,
    sandbox: Sandbox,
    participants: tuple[str, ...],
    live_fire: bool,
) -> tuple[Sandbox, str]:
    """The files of a freshly reserved exercise folder (`create_sandbox`)."""
    folder = sandbox.folder
    text = scenario_file.read_bytes()
    (folder / SCENARIO_FILE).write_bytes(text)
    root = sandbox.workspace_root
    root.mkdir()
    alerts = scenario.alerts.model_dump(mode="json", exclude_defaults=True) if scenario.alerts else default_alerts()
    service = (scenario.alerts.service.principal if scenario.alerts else SERVICE_PRINCIPAL) or SERVICE_PRINCIPAL
    principals = {role.id: "responder" for role in scenario.roles}
    principals.update({p: "responder" for p in participants if p and Path(p).name == p})
    principals[service] = "service"
    settings: dict[str, Any] = {
        "name": f"exercise {folder.name}: {scenario.title}",
        "cases_dir": "cases",
        "playbooks_dir": "playbooks",
        "simulated": {"seed": "world.yaml", "state": ".ir/world.json"},
        "exercise": {"id": folder.name, "scenario": scenario.id, "live_fire": live_fire},
        "signing": {"demo_key": True, "allowed_signers": _make_keys(root, principals)},
        "alerts": alerts,
    }
    if start.settings.approvers:
        settings["approvers"] = {k: list(v) for k, v in start.settings.approvers.items()}
    for section in ("docker", "aws"):  # only live fire reaches them (the interlock checks them first)
        value = getattr(start.settings, section).model_dump(mode="json", exclude_defaults=True)
        if value:
            settings[section] = value
    header = f"# The sandbox workspace of tabletop exercise {folder.name} (written by `ir tabletop run`).\n"
    _dump(root / SETTINGS_FILE, settings, header)
    _dump(root / "agents.yaml", {"agents": scenario.world.agents}, header)
    world = scenario.world.model_dump(mode="json")
    _dump(root / "world.yaml", {k: world[k] for k in WORLD_SECTIONS if world.get(k)}, header)
    if start.playbooks_dir.is_dir():
        shutil.copytree(start.playbooks_dir, root / "playbooks", symlinks=False)
    else:
        (root / "playbooks").mkdir()
    (root / "cases").mkdir()
    for rel, initial in scenario.world.logs.items():  # last: none may land on what is above
        _create(root / rel, initial)
    os.chmod(root / KEYS_DIR, 0o700)
    return sandbox, hashlib.sha256(text).hexdigest()
