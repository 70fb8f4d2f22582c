"""Exercise consoles for the TUI tests: an exercise begun on a manual clock (nothing moves unless a
key moves it), the console on it, and a few ways to read what it recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ir.cli.tabletop_run import runtime_for
from ir.core.journal import Record
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.exercise import Exercise
from ir.tabletop.scenario import load_scenario
from ir.tabletop.sessions import ControllerSession
from ir.tui.app import IrApp, make_app
from ir.tui.widgets.exercise_panel import ExercisePanel
from tests.conftest import REPO, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
EXERCISE = "EX-key-leak-drill-20261120T031000"
BANNER = f"EXERCISE {EXERCISE} — Support agent leaks its AWS key through tool output — not production"


def begin(root: Path, clock: str = "manual") -> ControllerSession:
    """The drill scenario as an exercise under `root/ws/exercises/`, driven by this process as `fran`."""
    ws = find_workspace(make_workspace(root / "ws"))
    exercise = Exercise.begin(
        start=ws,
        scenario=load_scenario(DRILL),
        scenario_file=DRILL,
        runtime_for=runtime_for,
        clock=parse_clock(clock),
        facilitator="fran",
        exercise_id=EXERCISE,
    )
    return ControllerSession(exercise)


def console(session: Any) -> IrApp:
    """The console on the session's exercise, as `ir tabletop run` / `join` open it."""
    return make_app(session.sandbox.workspace(), actor=session.who, exercise=session)


async def settle(app: IrApp, pilot: Any) -> None:
    """Let every worker (keys, ticks, scoring) finish and the screen repaint."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def panel_text(app: IrApp) -> str:
    """What the exercise panel shows, as plain text."""
    return app.screen.query_one(ExercisePanel).text()


def records(session: Any, kind: str | None = None) -> list[Record]:
    """The exercise journal's records (of one kind)."""
    return [r for r in session.sandbox.records() if kind is None or r.type == kind]
