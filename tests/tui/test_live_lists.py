"""The agents and incidents lists follow what other processes do: a new case, a changed status shows up
without reopening the screen, and the cursor stays on the row it was on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from ir.tui.app import IrApp
from ir.tui.screens.agents import AgentsScreen
from ir.tui.screens.cases import CasesScreen
from tests.cli.test_interventions import waiting_case
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for


def rows(app: IrApp) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def cursor_key(app: IrApp) -> str:
    table = app.screen.query_one(DataTable)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def until(pilot: Pilot[None], condition: Callable[[], bool]) -> bool:
    """Wait for the screen's timer to notice, at most 10 s."""
    for _ in range(100):
        if condition():
            return True
        await pilot.pause(0.1)
    return condition()


def test_the_incidents_list_shows_another_processs_new_case_and_status(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 40)) as pilot:
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, CasesScreen)
            assert [r[0] for r in rows(app)] == ["awaiting_approval"]
            ir_cmd("abort", case.name, "--reason", "handled elsewhere", cwd=ws, check=True)
            assert await until(pilot, lambda: [r[0] for r in rows(app)] == ["aborted"])
            ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
            assert await until(pilot, lambda: len(rows(app)) == 2)
            assert rows(app)[0][0] != "aborted" and rows(app)[1][0] == "aborted"  # newest first
            assert cursor_key(app) == str(case)  # still on the case it was on, now one row down

    asyncio.run(scenario())


def test_the_agents_list_shows_an_open_case_closed_by_another_process(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, AgentsScreen)
            (bot,) = [r for r in rows(app) if r[0] == "support-bot"]
            assert "awaiting_approval" in bot[2]
            ir_cmd("abort", case.name, "--reason", "handled elsewhere", cwd=ws, check=True)
            assert await until(pilot, lambda: next(r for r in rows(app) if r[0] == "support-bot")[2] == "")

    asyncio.run(scenario())
