"""An exercise folder read back for scoring: the exercise journal, the scenario as run, the sandbox's
cases and simulated world, and exercise time.

Everything here is read-only and read through the same readers as a real case (`ir.core.journal`
`read`, `CaseState`, the pinned playbook), so scoring never re-interprets raw records on its own.
A damaged chain (the exercise journal or a sandbox case) is refused with one line naming the
file: a score drawn from records that may have been edited would be worthless.

`ExerciseClock` below is the smallest private version of the exercise clock (the runtime's
`ir/tabletop/clock.py` is the one to keep): it maps a wall-clock `ts` of a case record to exercise
time from the exercise records' own `exercise_s`, at the clock's rate, stopped while paused.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.core.case import pinned_playbook
from ir.core.case_state import CaseState
from ir.core.errors import InputError, IrError, JournalError
from ir.core.inventory import Agent, Frozen, Inventory
from ir.core.journal import JOURNAL_FILE, Record, read
from ir.core.signing_trust import Trust, workspace_trust
from ir.core.workspace import Workspace, find_workspace
from ir.core.yamlsafe import YamlInputError, load_file
from ir.tabletop.scenario import Scenario, load_scenario

EXERCISE_JOURNAL = "exercise.jsonl"
SCENARIO_FILE = "scenario.yaml"
SANDBOX = "workspace"

STARTED = "exercise.started"
JOINED = "participant.joined"
PAUSED = "clock.paused"
RESUMED = "clock.resumed"
ADVANCED = "clock.advanced"
DELIVERED = "inject.delivered"
SKIPPED = "inject.skipped"
MOVE = "move.played"
MARKED = "expectation.marked"
NOTE = "note"
ENDED = "exercise.ended"


def parse_ts(ts: str | datetime) -> datetime:
    """A record's ISO `ts` (or a datetime) as an aware UTC datetime."""
    when = ts if isinstance(ts, datetime) else datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def at_text(seconds: float | None) -> str:
    """Exercise time as a clock reads it: `T+0:00`, `T+2:05`, `T+1:02:03` (`—` when unknown)."""
    if seconds is None:
        return "—"
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"T+{hours}:{minutes:02d}:{secs:02d}" if hours else f"T+{minutes}:{secs:02d}"


class ExerciseClock:
    """Wall time → exercise time (seconds from the start, pauses excluded), from the exercise records."""

    def __init__(self, anchors: Sequence[tuple[datetime, float, bool]], rate: float) -> None:
        self._walls = [a[0] for a in anchors]
        self._anchors = list(anchors)
        self.rate = rate
        """Exercise seconds per wall second while running (`real` 1, `fast:N` N, `manual` 0)."""

    @classmethod
    def from_records(cls, records: Sequence[Record]) -> ExerciseClock:
        """The clock an exercise journal describes."""
        rate, running, anchors = 1.0, False, []
        for rec in records:
            if rec.type == STARTED:
                rate, running = _rate(str(rec.data.get("clock", "real"))), True
            elif rec.type == PAUSED:
                running = False
            elif rec.type == RESUMED:
                running = True
            elif rec.type == ENDED:
                running = False
            seconds = rec.data.get("exercise_s")
            if isinstance(seconds, int | float) and not isinstance(seconds, bool):
                anchors.append((parse_ts(rec.ts), float(seconds), running))
        return cls(anchors, rate)

    def exercise_seconds(self, wall_ts: str | datetime) -> float:
        """Exercise time at a wall time (0 before the start)."""
        wall = parse_ts(wall_ts)
        i = bisect_right(self._walls, wall) - 1
        if i < 0:
            return 0.0
        at, seconds, running = self._anchors[i]
        return seconds + (self.rate * (wall - at).total_seconds() if running else 0.0)


def _rate(clock: str) -> float:
    if clock == "manual":
        return 0.0
    if clock.startswith("fast:"):
        try:
            return float(clock.removeprefix("fast:"))
        except ValueError:
            return 1.0
    return 1.0


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
    """An exercise as its folder records it."""

    dir: Path
    scenario: Scenario
    records: list[Record]
    cases: list[SandboxCase]
    world: dict[str, Any]
    """The simulated world's state (`.ir/world.json`; the seed while nothing has touched it)."""
    workspace: Workspace
    clock: ExerciseClock
    notes: list[str] = field(default_factory=list)
    """What a reader of the score should know (the sandbox changed after the end)."""
    _trust: Trust | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """The exercise id (from `exercise.started`, else the folder's name)."""
        started = self.first(STARTED)
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

    def of(self, kind: str) -> list[Record]:
        """Every exercise record of one kind, in order."""
        return [r for r in self.records if r.type == kind]

    def first(self, kind: str) -> Record | None:
        """The first exercise record of one kind."""
        return next((r for r in self.records if r.type == kind), None)

    def delivered(self, inject: str) -> Record | None:
        """The record of an inject's delivery, if it was delivered."""
        return next((r for r in self.of(DELIVERED) if r.data.get("inject") == inject), None)

    def skipped(self, inject: str) -> Record | None:
        """The record of an inject skipped because its `unless` held."""
        return next((r for r in self.of(SKIPPED) if r.data.get("inject") == inject), None)

    @property
    def ended(self) -> Record | None:
        """`exercise.ended`, once the exercise is over."""
        return self.first(ENDED)

    def at(self, rec: Record) -> float:
        """Exercise time of a record: its own `exercise_s`, or its wall `ts` through the clock."""
        seconds = rec.data.get("exercise_s")
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return float(seconds)
        return self.clock.exercise_seconds(rec.ts)

    def now(self, wall: str | datetime | None = None) -> float:
        """Exercise time now (at `wall`), or at the end once the exercise ended."""
        if self.ended is not None:
            return self.at(self.ended)
        return self.clock.exercise_seconds(wall or datetime.now(UTC))

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


def load_played(exercise_dir: Path, scenario: Scenario | None = None) -> Played:
    """Read an exercise folder; JournalError when a chain is damaged, InputError when it is not one."""
    exercise_dir = exercise_dir.resolve()
    journal = exercise_dir / EXERCISE_JOURNAL
    if not journal.is_file():
        raise InputError(f"{exercise_dir}: not an exercise folder (no {EXERCISE_JOURNAL})")
    checked = read(journal)
    if checked.problems:
        raise JournalError(checked.problems[0])
    if not checked.records:
        raise InputError(f"{journal}: the exercise journal has no record yet")
    if scenario is None:
        scenario = load_scenario(exercise_dir / SCENARIO_FILE)
    ws = find_workspace(exercise_dir / SANDBOX)
    ended = next((r for r in checked.records if r.type == ENDED), None)
    cut = parse_ts(ended.ts) if ended else None
    notes = []
    state = ws.path(ws.settings.simulated.state)
    if cut is not None and state.is_file() and datetime.fromtimestamp(state.stat().st_mtime, UTC) > cut:
        notes.append(
            f"the simulated world ({state.name}) changed after the exercise ended: "
            "world expectations read it as it is now"
        )
    return Played(
        dir=exercise_dir,
        scenario=scenario,
        records=checked.records,
        cases=_cases(ws, exercise_dir, cut),
        world=_world(ws),
        workspace=ws,
        clock=ExerciseClock.from_records(checked.records),
        notes=notes,
    )


def _cases(ws: Workspace, exercise_dir: Path, cut: datetime | None) -> list[SandboxCase]:
    """The sandbox's cases, each up to the end of the exercise (what was done after it does not count)."""
    cases_dir = ws.cases_dir
    if not cases_dir.is_dir():
        return []
    found = []
    for folder in sorted(p for p in cases_dir.iterdir() if (p / JOURNAL_FILE).is_file()):
        checked = read(folder / JOURNAL_FILE)
        if checked.problems:
            raise JournalError(checked.problems[0])
        records = [r for r in checked.records if cut is None or parse_ts(r.ts) <= cut]
        if not records:
            continue
        state = CaseState.replay(records)
        try:
            steps = tuple((s.id, s.action) for s in pinned_playbook(folder, state).playbook.steps)
        except IrError:  # no readable pinned copy: the journal still names each step's action
            steps = tuple(state.actions.items())
        rel = (folder / JOURNAL_FILE).relative_to(exercise_dir)
        found.append(SandboxCase(folder, str(rel), tuple(records), state, steps))
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
    containers = {
        n: {"status": str((s or {}).get("status", "running"))} for n, s in (data.get("containers") or {}).items()
    }
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
    return {"containers": containers, "iam": iam}


EXERCISES_DIR = "exercises"
"""Where `ir tabletop run` creates exercise folders, under the workspace it is started in."""


def find_exercise(ref: str, exercises: Path | None) -> Path:
    """An exercise folder from a path or an exercise id under `exercises` (a unique prefix is enough)."""
    direct = Path(ref)
    if (direct / EXERCISE_JOURNAL).is_file():
        return direct.resolve()
    if exercises is not None and exercises.is_dir():
        if (exercises / ref / EXERCISE_JOURNAL).is_file():
            return (exercises / ref).resolve()
        matches = sorted(p for p in exercises.iterdir() if p.name.startswith(ref) and (p / EXERCISE_JOURNAL).is_file())
        if len(matches) == 1:
            return matches[0].resolve()
        if len(matches) > 1:
            raise InputError(f"{ref}: matches {len(matches)} exercises in {exercises}; give more of the id")
    where = f" or in {exercises}" if exercises is not None else ", and no workspace here to look in"
    raise InputError(f"{ref}: no such exercise (no {EXERCISE_JOURNAL} there{where})")
