"""Two consoles on one exercise, in two processes: a headless `ir tabletop run` drives it, a console
joins it (Pilot, in this process) — its note and keys reach the controller's journal, and it sees
what the controller delivered; when the controller dies, the console takes the exercise over."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ir.cli.tabletop_console import controller_factory
from ir.core.workspace import find_workspace
from ir.tabletop.command_queue import Command
from ir.tabletop.sandbox import Sandbox
from ir.tabletop.scenario import load_scenario
from ir.tabletop.sessions import ControllerSession, JoinedSession
from ir.tui.app import IrApp
from ir.tui.exercise_lines import FOR_YOU, inject_lines
from ir.tui.screens.exercise import ExerciseScreen
from tests.conftest import make_workspace
from tests.tui.exercise_consoles import DRILL, EXERCISE, console, panel_text, records, settle

SIZE = (130, 40)


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, Path]]:
    """(the headless controller process, the starting workspace, the exercise folder), once the
    controller has recorded its facilitator joining."""
    ws = make_workspace(tmp_path / "ws")
    exe = Path(sys.executable).parent / "ir"
    args = [str(exe), "tabletop", "run", str(DRILL), "--headless", "--clock", "manual", "--exercise-id", EXERCISE]
    env = {**os.environ, "IR_USER": "fran"}
    env.pop("IR_WORKSPACE", None)
    proc = subprocess.Popen(args, cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = ws / "exercises" / EXERCISE
    journal = folder / "exercise.jsonl"
    deadline = time.monotonic() + 60
    while not (journal.is_file() and "participant.joined" in journal.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the controller never started: {proc.communicate()}")
        time.sleep(0.1)
    try:
        yield proc, ws, folder
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def joined(ws: Path, folder: Path, who: str = "ic") -> JoinedSession:
    """A console joining as `who` (role: the scenario role of that name), as `ir tabletop join` does."""
    sandbox = Sandbox(folder)
    scenario = load_scenario(sandbox.scenario_path)
    take_over = controller_factory(find_workspace(ws), sandbox, scenario, who)
    session = JoinedSession(sandbox, scenario, who, who, take_over=take_over)
    session.do(Command(op="join", by=who, text=who))
    return session


async def until(app: IrApp, pilot: Any, check: Callable[[], bool], seconds: float = 30) -> None:
    """Tick the console until `check` holds (the other process answers within a poll or two)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.tick()  # type: ignore[attr-defined]
        await settle(app, pilot)
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never came true; the panel shows:\n{panel_text(app)}")


def test_a_joined_consoles_keys_reach_the_controller_and_it_sees_what_was_delivered(
    controller: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    proc, ws, folder = controller
    session = joined(ws, folder)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await until(app, pilot, lambda: "[ 0:00] ic joined as ic" in panel_text(app))
            assert "joined: another console drives the clock" in panel_text(app)
            await pilot.press("n")
            await pilot.press(*"from the second terminal", "enter")
            await until(app, pilot, lambda: "note by ic: from the second terminal" in panel_text(app))
            await pilot.press("t")
            await pilot.press(*"1m", "enter")  # the controller moves its clock: I1 comes due there
            await until(app, pilot, lambda: "✓      1:00 I1 A customer forwards" in panel_text(app))
            view = app.view  # type: ignore[attr-defined]
            mine = inject_lines(view, session.scenario)
            assert [mine.plain[s.start : s.end].strip() for s in mine.spans if s.style == FOR_YOU] == [
                "card for ic: Ticket 4821 reply shows an AKIA key"
            ]
            await pilot.press("p")
            await until(app, pilot, lambda: "PAUSED" in panel_text(app))
            await pilot.press("p")  # the view is paused: p now asks to resume
            await until(app, pilot, lambda: "PAUSED" not in panel_text(app))
            await pilot.press("E", "y")
            await until(app, pilot, lambda: "ENDED: facilitator" in panel_text(app))

    asyncio.run(scenario())
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "[ 0:00] ic joined as ic" in out and "note by ic: from the second terminal" in out
    assert "clock advanced 60s by ic" in out and "inject I1 delivered" in out
    assert "exercise ended: facilitator (by ic)" in out
    by = {(r.type, r.data.get("by")) for r in records(session)}
    assert {("note", "ic"), ("clock.paused", "ic"), ("clock.resumed", "ic"), ("exercise.ended", "ic")} <= by
    assert session.sandbox.verify().problems == []


def test_a_joined_console_takes_over_when_the_controller_dies(
    controller: tuple[subprocess.Popen[str], Path, Path],
) -> None:
    proc, ws, folder = controller
    session = joined(ws, folder)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await until(app, pilot, lambda: "[ 0:00] ic joined as ic" in panel_text(app))
            screen = app.screen
            assert isinstance(screen, ExerciseScreen) and not screen.check_action("take_over", ())
            proc.send_signal(signal.SIGKILL)  # no exercise.ended: it dies holding nothing
            proc.communicate()
            await until(app, pilot, lambda: "NO CONSOLE DRIVES THE CLOCK: press C to take over" in panel_text(app))
            assert screen.check_action("take_over", ()) and not screen.check_action("note", ())
            await pilot.press("C")
            await until(app, pilot, lambda: "this console drives the clock" in panel_text(app))
            assert isinstance(app.session, ControllerSession)  # type: ignore[attr-defined]
            await pilot.press("f")
            await until(app, pilot, lambda: "✓      0:00 I1 A customer forwards" in panel_text(app))
            await pilot.press("E", "y")
            await until(app, pilot, lambda: "ENDED: facilitator" in panel_text(app))
        app.session.close()  # type: ignore[attr-defined]

    asyncio.run(scenario())
    took = [r.data for r in records(session, "participant.joined") if r.data.get("controller")]
    assert [(d["as"], d["role"]) for d in took] == [("ic", "facilitator")]
    fired = records(session, "inject.delivered")[-1].data
    assert (fired["inject"], fired["fired_by"]) == ("I1", "ic")
    assert session.sandbox.verify().problems == []
