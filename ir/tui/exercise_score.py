"""The exercise panel's live score: every expectation passed, failed or pending, each objective's
rating, and the times to acknowledge and to contain — from the scoring the after-action report uses.

Scoring reads every journal of the sandbox and its world, so the panel asks for it in a thread
worker, at most every `SCORE_EVERY` seconds, and only when something it reads has changed
(`inputs_stamp`: one stat() per file).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ir.tabletop.destructive import Destructive
from ir.tabletop.expectations import Result, evaluate_played
from ir.tabletop.played import load_played
from ir.tabletop.scenario import Scenario
from ir.tabletop.scoring import ObjectiveScore, exercise_times, score_objectives
from ir.tui.journal_watch import cases_stamp

SCORE_EVERY = 2.0
"""Seconds between two looks at whether the score may have changed."""


@dataclass(frozen=True)
class Score:
    """What the scoring says now."""

    results: tuple[Result, ...]
    objectives: tuple[ObjectiveScore, ...]
    mtta: float | None
    """Time to acknowledge, exercise seconds (None until known)."""
    mttc: float | None
    """Time to contain, exercise seconds (None until known)."""


@cache
def destructive_actions() -> Destructive:
    """What `order` expectations guard against, read from the engine's registry (`ir.tabletop.destructive`)."""
    from ir.actions import default_registry

    return Destructive.from_actions(default_registry())


def score(exercise_folder: Path, scenario: Scenario) -> Score:
    """Score the exercise as it stands (IrError when a journal is damaged)."""
    played = load_played(exercise_folder, scenario)
    results = evaluate_played(played, destructive=destructive_actions())
    times = exercise_times(played)
    return Score(tuple(results), tuple(score_objectives(scenario, results)), times.mtta, times.mttc)


def inputs_stamp(exercise_folder: Path, workspace_root: Path) -> object:
    """What the score depends on, read without reading it: the exercise journal, the sandbox's
    case journals and its simulated world."""
    stamps: list[object] = [cases_stamp(workspace_root / "cases")]
    for path in (exercise_folder / "exercise.jsonl", workspace_root / ".ir" / "world.json"):
        try:
            st = path.stat()
        except OSError:
            stamps.append(None)
            continue
        stamps.append((st.st_size, st.st_mtime_ns))
    return tuple(stamps)
