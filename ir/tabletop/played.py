"""An exercise folder read back: the exercise journal, the scenario as run, the sandbox's cases and
simulated world, and exercise time — what conditions, expectations, scores and the report read.

Everything here is read-only and read through the same readers as a real case (`ir.core.journal`
`read`, `CaseState`, the pinned playbook), so nothing here re-interprets raw records on its own.
A damaged chain (the exercise journal or a sandbox case) is refused with one line naming the
file: a score drawn from records that may have been edited would be worthless. Exercise time is
the runtime's own clock (`ExerciseClock.from_records`), rebuilt from the exercise journal. Once
the exercise ended, the world and the cases are read as they were at the end (`end_state`: the
world's copy and the case journals' lengths `exercise.ended` recorded), not as they are now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.core.case import pinned_playbook
from ir.core.case_state import CaseState
from ir.core.errors import InputError, IrError, JournalError
from ir.core.inventory import Agent, Frozen, Inventory
from ir.core.journal import JOURNAL_FILE as CASE_JOURNAL
from ir.core.journal import Record, read
from ir.core.signing_trust import Trust, workspace_trust
from ir.core.workspace import Workspace
from ir.core.yamlsafe import YamlInputError, load_file
from ir.tabletop.clock import ExerciseClock, wall
from ir.tabletop.end_state import EndState, recorded
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.sandbox import JOURNAL_FILE, Sandbox
from ir.tabletop.scenario import Scenario, load_scenario


def at_text(seconds: float | None) -> str:
    """Exercise time as a clock reads it: `T+0:00`, `T+2:05`, `T+1:02:03` (`—` when unknown)."""
    if seconds is None:
        return "—"
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours}:{minutes:02d}:{secs:02d}" if hours else f"T+{minutes}:{secs:02d}"


class Evidence(Frozen):
    """What decided something: a record of a journal in the exercise folder, or the world's state."""

    file: str
    """The file, relative to the exercise folder (`exercise.jsonl`, `workspace/cases/<id>/journal.jsonl`,
    `workspace/.ir/world.json`)."""
    seq: int | None = None
    """The record's seq in that journal (None for world state)."""
    what: str = ""
    """What it is, in a few words."""


@dataclass(frozen=True)
class SandboxCase:
    """One case of the exercise's sandbox workspace, as its journal tells it."""

    dir: Path
    file: str
    """Its journal, relative to the exercise folder (what evidence names)."""
    records: tuple[Record, ...]
    state: CaseState
    steps: tuple[tuple[str, str], ...]
    """(step id, action) of the pinned playbook, in order."""
    gated: frozenset[str] = frozenset()
    """Steps of the pinned playbook that wait for approval (`approval: required`)."""

    @property
    def id(self) -> str:
        """The case id (its folder's name)."""
        return self.dir.name

    @property
    def agent(self) -> str:
        """The agent the case is about."""
        return self.state.agent_id

    def action_of(self, step: str) -> str | None:
        """The action a step runs (from the pinned playbook, else the journal)."""
        return dict(self.steps).get(step) or self.state.actions.get(step)


@dataclass
class Played:
    """An exercise as its folder records it (up to its end, once it ended)."""

    sandbox: Sandbox
    records: list[Record]
    cases: list[SandboxCase]
    world: dict[str, Any]
    """The simulated world's state (`.ir/world.json`; the seed while nothing has touched it), or
    its copy at the end (`world-at-end.json`) once the exercise ended."""
    clock: ExerciseClock
    notes: list[str] = field(default_factory=list)
    """What a reader of the score should know (the sandbox changed after the end)."""
    world_copy: str | None = None
    """The world's copy at the end, relative to the exercise folder (None: the live state is read)."""
    _scenario: Scenario | None = field(default=None, repr=False)
    _trust: Trust | None = field(default=None, repr=False)

    @property
    def dir(self) -> Path:
        """The exercise folder."""
        return self.sandbox.folder

    @property
    def scenario(self) -> Scenario:
        """The scenario as run (its copy in the folder; read when first asked for)."""
        if self._scenario is None:
            self._scenario = load_scenario(self.sandbox.scenario_path)
        return self._scenario

    @property
    def workspace(self) -> Workspace:
        """The sandbox workspace."""
        return self.sandbox.workspace()

    @property
    def id(self) -> str:
        """The exercise id (from `exercise.started`, else the folder's name)."""
        started = self.first(K.STARTED)
        return str(started.data.get("exercise")) if started and started.data.get("exercise") else self.dir.name

    @property
    def inventory(self) -> Inventory:
        """The sandbox's agents."""
        return self.workspace.inventory

    @property
    def trust(self) -> Trust:
        """The sandbox workspace's allowed signers (what decisions are checked against)."""
        if self._trust is None:
            self._trust = workspace_trust(self.workspace)
        return self._trust

    @property
    def world_file(self) -> str:
        """The simulated world's state file, relative to the exercise folder (what world evidence names):
        its copy at the end, once the exercise ended."""
        if self.world_copy is not None:
            return self.world_copy
        ws = self.workspace
        return self.rel(ws.path(ws.settings.simulated.state))

    def of(self, kind: str) -> list[Record]:
        """Every exercise record of one kind, in order."""
        return [r for r in self.records if r.type == kind]

    def first(self, kind: str) -> Record | None:
        """The first exercise record of one kind."""
        return next((r for r in self.records if r.type == kind), None)

    def delivered(self, inject: str) -> Record | None:
        """The record of an inject's delivery, if it was delivered."""
        return next((r for r in self.of(K.INJECT_DELIVERED) if r.data.get("inject") == inject), None)

    def skipped(self, inject: str) -> Record | None:
        """The record of an inject skipped because its `unless` held."""
        return next((r for r in self.of(K.INJECT_SKIPPED) if r.data.get("inject") == inject), None)

    @property
    def ended(self) -> Record | None:
        """`exercise.ended`, once the exercise is over."""
        return self.first(K.ENDED)

    def at(self, rec: Record) -> float:
        """Exercise time of a record: its own `exercise_s`, or its wall `ts` through the clock."""
        seconds = rec.data.get("exercise_s")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return float(seconds)
        return self.clock.exercise_seconds(rec.ts)

    def now(self, at: str | datetime | None = None) -> float:
        """Exercise time now (at wall time `at`), or at the end once the exercise ended."""
        if self.ended is not None:
            return self.at(self.ended)
        return self.clock.exercise_seconds(at or datetime.now(UTC))

    def agent(self, agent_id: str) -> Agent | None:
        """An agent of the sandbox inventory."""
        return self.inventory.agents.get(agent_id)

    def cases_of(self, agent: str | None) -> list[SandboxCase]:
        """The cases about one agent (every case with None), oldest first."""
        return [c for c in self.cases if agent is None or c.agent == agent]

    def rel(self, path: Path) -> str:
        """A path inside the exercise folder, relative to it."""
        try:
            return str(path.relative_to(self.dir))
        except ValueError:
            return str(path)


def load_played(exercise: Path | Sandbox, scenario: Scenario | None = None) -> Played:
    """Read an exercise folder; JournalError when a chain is damaged, InputError when it is not one.

    `scenario`: the scenario as run, when the caller has it (else it is read from the folder's copy
    when first asked for). Case records written after `exercise.ended` are left out: what was done
    after the end does not count: the cases are cut at the lengths, and the world read from the copy,
    that `exercise.ended` recorded (exercises ended before it recorded them: cut by time, world now)."""
    sandbox = exercise if isinstance(exercise, Sandbox) else Sandbox(exercise.resolve())
    journal = sandbox.journal_path
    if not journal.is_file():
        raise InputError(f"{sandbox.folder}: not an exercise folder (no {JOURNAL_FILE})")
    checked = read(journal)
    if checked.problems:
        raise JournalError(checked.problems[0])
    if not checked.records:
        raise InputError(f"{journal}: the exercise journal has no record yet")
    ws = sandbox.workspace()
    ended = next((r for r in checked.records if r.type == K.ENDED), None)
    cut = wall(ended.ts) if ended else None
    world = _world(ws)
    end = recorded(sandbox.folder, ended, world, ws.cases_dir) if ended else EndState(None, None)
    notes = list(end.notes)
    state = ws.path(ws.settings.simulated.state)
    changed = state.is_file() and cut is not None and datetime.fromtimestamp(state.stat().st_mtime, UTC) > cut
    if end.world is None and changed:  # an end that kept no copy: the world is read as it is now
        notes.append(
            f"the simulated world ({state.name}) changed after the exercise ended: "
            "world expectations read it as it is now"
        )
    return Played(
        sandbox=sandbox,
        records=checked.records,
        cases=_cases(ws, sandbox.folder, cut, end.cases),
        world=end.world if end.world is not None else world,
        clock=ExerciseClock.from_records(checked.records),
        notes=notes,
        world_copy=ended.data["world"]["file"] if ended is not None and end.world is not None else None,
        _scenario=scenario,
    )


Steps = tuple[tuple[tuple[str, str], ...], frozenset[str]]
_STEPS: dict[tuple[Path, str], Steps] = {}
"""(case folder, pinned playbook sha256) → its steps and those that wait for approval: a pinned copy
never changes, and a running exercise reads its cases at every condition it checks."""


def _steps(folder: Path, state: CaseState) -> Steps:
    key = (folder, state.run.playbook.sha256 if state.run else "")
    if key not in _STEPS:
        try:
            steps = pinned_playbook(folder, state).playbook.steps
        except IrError:  # no readable pinned copy: the journal still names each step's action
            return tuple(state.actions.items()), frozenset()
        _STEPS[key] = (tuple((s.id, s.action) for s in steps), frozenset(s.id for s in steps if s.approval.required))
    return _STEPS[key]


def _cases(
    ws: Workspace, exercise_dir: Path, cut: datetime | None, lengths: dict[str, int] | None = None
) -> list[SandboxCase]:
    """The sandbox's cases, each up to the end of the exercise (what was done after it does not count):
    as many records as `lengths` says it had then, or, without it, those written before `cut`."""
    cases_dir = ws.cases_dir
    if not cases_dir.is_dir():
        return []
    found = []
    for folder in sorted(p for p in cases_dir.iterdir() if (p / CASE_JOURNAL).is_file()):
        checked = read(folder / CASE_JOURNAL)
        if checked.problems:
            raise JournalError(checked.problems[0])
        if lengths is not None:
            records = checked.records[: lengths.get(folder.name, 0)]
        else:
            records = [r for r in checked.records if cut is None or wall(r.ts) <= cut]
        if not records:
            continue
        state = CaseState.replay(records)
        rel = (folder / CASE_JOURNAL).relative_to(exercise_dir)
        steps, gated = _steps(folder, state)
        found.append(SandboxCase(folder, str(rel), tuple(records), state, steps, gated))
    return sorted(found, key=lambda c: c.records[0].ts if c.records else "")


def _world(ws: Workspace) -> dict[str, Any]:
    """The simulated world's current state; its seed (in the state's shape) before anything touched it."""
    state = ws.path(ws.settings.simulated.state)
    if state.is_file():
        try:
            loaded = json.loads(state.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{state}: the simulated world cannot be read: {exc}") from None
        return loaded if isinstance(loaded, dict) else {}
    seed = ws.path(ws.settings.simulated.seed)
    try:
        data = load_file(seed).data if seed.is_file() else {}
    except YamlInputError as exc:
        raise InputError(str(exc)) from None
    data = data if isinstance(data, dict) else {}
    seeded = data.get("containers") or {}
    containers = {n: {"name": n, "status": str((s or {}).get("status", "running"))} for n, s in seeded.items()}
    users = ((data.get("iam") or {}).get("users")) or {}
    iam = {
        "users": {
            n: {
                "access_keys": [
                    {"key_id": str(k.get("id")), "status": str(k.get("status", "Active"))}
                    for k in (s or {}).get("access_keys") or []
                ]
            }
            for n, s in users.items()
        }
    }
    return {"containers": containers, "iam": iam, "cloudtrail": list(data.get("cloudtrail") or [])}
