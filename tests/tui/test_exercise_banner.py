"""The exercise banner: on every screen of a console whose workspace is an exercise's sandbox (the
exercise console, or `ir -w exercises/EX…/workspace`), never on a real workspace's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.screen import Screen

from ir.core.workspace import find_workspace
from ir.tui.app import IrApp, make_app
from ir.tui.screens.agents import AgentsScreen
from ir.tui.screens.alerts import AlertsScreen
from ir.tui.screens.cases import CasesScreen
from ir.tui.screens.decision import DecisionScreen
from ir.tui.screens.evidence import EvidenceScreen
from ir.tui.screens.exercise import ExerciseScreen
from ir.tui.screens.run import RunScreen
from ir.tui.screens.timeline import TimelineScreen
from ir.tui.widgets.exercise_banner import ExerciseBanner
from tests.conftest import make_workspace
from tests.tui.exercise_consoles import BANNER, begin, console, settle

SIZE = (130, 40)


def banners(screen: Screen[Any]) -> list[str]:
    """The banner lines a screen shows (and that it is the first thing under the header)."""
    found = list(screen.query(ExerciseBanner))
    return [b.line for b in found if b.region.y <= 1 and b.region.height >= 1]


async def visit(app: IrApp, pilot: Any, *keys: str) -> Screen[Any]:
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)
    return app.screen


def test_every_screen_of_the_exercise_console_carries_the_banner(tmp_path: Path) -> None:
    session = begin(tmp_path)
    session.exercise.advance(120, "fran")
    session.exercise.tick()  # the alert opens a case in the sandbox
    seen: dict[type[Screen[Any]], list[str]] = {}

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            seen[type(app.screen)] = banners(app.screen)
            for keys in (("a",), ("l",), ("c",), ("enter",), ("e",), ("escape", "t"), ("escape", "d")):
                screen = await visit(app, pilot, *keys)
                seen[type(screen)] = banners(screen)

    asyncio.run(scenario())
    session.close()
    expected = {ExerciseScreen, AgentsScreen, AlertsScreen, CasesScreen, RunScreen, EvidenceScreen, TimelineScreen}
    assert expected | {DecisionScreen} <= set(seen)
    assert {kind: lines for kind, lines in seen.items()} == {kind: [BANNER] for kind in seen}


def test_a_plain_console_on_the_sandbox_workspace_carries_it_too(tmp_path: Path) -> None:
    session = begin(tmp_path)
    session.close()  # `ir -w exercises/EX…/workspace` later, with nothing driving the exercise

    async def scenario() -> list[str]:
        app = make_app(find_workspace(session.sandbox.workspace_root), actor="fran")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, AgentsScreen)
            return banners(await visit(app, pilot, "c"))

    assert asyncio.run(scenario()) == [BANNER]


def test_a_real_workspace_never_shows_it(tmp_path: Path) -> None:
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    seen: dict[str, int] = {}

    async def scenario() -> None:
        app = make_app(ws, actor="tester")
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            seen[type(app.screen).__name__] = len(app.screen.query(ExerciseBanner))
            for keys in (("l",), ("c",), ("a", "enter", "enter")):
                screen = await visit(app, pilot, *keys)
                seen[type(screen).__name__] = len(screen.query(ExerciseBanner))

    asyncio.run(scenario())
    assert seen == {"AgentsScreen": 0, "AlertsScreen": 0, "CasesScreen": 0, "RunScreen": 0}
