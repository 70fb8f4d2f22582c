"""The command palette (Ctrl+P) and `?` help, through Pilot on a demo case."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import Input, OptionList

from ir.core.journal import read
from ir.core.records import Kind
from ir.tui.app import IrApp
from ir.tui.screens.evidence import EvidenceScreen
from ir.tui.screens.help import HelpScreen
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.steps import StepList
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for, settle


def contained_case(tmp_path: Path) -> tuple[Path, Path]:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    return ws, Path(json.loads(run.stdout.splitlines()[-1])["case"])


async def choose(app: IrApp, pilot: object, text: str) -> None:
    """Open the palette, type `text`, wait for the hits, and choose the first (best) one."""
    await pilot.press("ctrl+p")  # type: ignore[attr-defined]
    assert isinstance(app.screen, CommandPalette)
    app.screen.query_one(Input).value = text
    hits = app.screen.query_one(OptionList)
    for _ in range(200):  # the palette searches in a task: wait for its first hit (polling, no fixed sleep)
        await pilot.pause()  # type: ignore[attr-defined]
        if hits.option_count and str(hits.get_option_at_index(0).prompt).startswith(text[:4]):
            break
    assert hits.option_count, f"no command matches {text!r}"
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(app, pilot)


def test_write_incident_report_from_the_palette_journals_it(tmp_path: Path) -> None:
    ws, case = contained_case(tmp_path)
    notes: list[str] = []

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("c")
            await pilot.press("enter")  # the only case
            assert isinstance(app.screen, RunScreen) and app.screen.case_dir == case
            await choose(app, pilot, "Write incident report")
            notes.extend(str(n.message) for n in app._notifications)
            await choose(app, pilot, "Export timeline")
            notes.extend(str(n.message) for n in app._notifications)
            await choose(app, pilot, "Jump to step: timeline")
            assert app.screen.query_one(StepList).highlighted_step == "timeline"

    asyncio.run(scenario())
    assert (case / "report.md").is_file()
    records = read(case / "journal.jsonl").records
    derived = [r for r in records if r.type == Kind.DERIVED_ADDED and r.data["path"] == "report.md"]
    assert len(derived) == 1 and derived[0].data["size"] == (case / "report.md").stat().st_size
    assert any(f"report written to {case / 'report.md'} (journal seq {derived[0].seq})" in n for n in notes), notes
    assert "## What was done" in (case / "report.md").read_text()
    exported = ws / "exports" / f"{case.name}.timesketch.jsonl"
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(rows) == len((case / "timeline.jsonl").read_text().splitlines()) and rows[0]["timestamp_desc"]
    assert any(f"{len(rows)} events exported to {exported}" in n for n in notes), notes
    assert ir_cmd("verify", str(case)).returncode == 0  # the report matches its record (tester has no key: unsigned)


def test_open_a_case_and_verify_it_from_the_palette(tmp_path: Path) -> None:
    ws, case = contained_case(tmp_path)

    async def scenario() -> list[str]:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await choose(app, pilot, f"Open case: {case.name}")
            assert isinstance(app.screen, RunScreen) and app.screen.case_dir == case
            await choose(app, pilot, "Verify case")
            notes = [str(n.message) for n in app._notifications]
            await choose(app, pilot, "Evidence")  # a key of the run screen, found by its footer name
            assert isinstance(app.screen, EvidenceScreen) and app.screen.case_dir == case
            return notes

    notes = asyncio.run(scenario())
    assert any(n.startswith(f"{case.name}: ok — ") for n in notes), notes


def test_question_mark_lists_the_screen_keys_from_its_bindings(tmp_path: Path) -> None:
    ws, _case = contained_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            agents = {line[1]: line for line in app.screen.lines}
            assert agents["Start incident"][0] == "⏎" and agents["Help"][3]
            await pilot.press("escape")
            await pilot.press("c", "enter")
            run = app.screen
            assert isinstance(run, RunScreen)
            await pilot.press("question_mark")
            modal = app.screen
            assert isinstance(modal, HelpScreen)
            lines = {line[1]: line for line in modal.lines}
            for binding in RunScreen.BINDINGS:
                assert binding.description in lines  # type: ignore[union-attr]
            assert lines["Skip step"][0] == "s" and lines["Evidence"][2] and lines["Evidence"][3]
            assert lines["Approve"][3] is False  # nothing waits: shown as not now
            shown = " ".join(str(w.render()) for w in modal.query(".help-line"))
            assert "(not now)" in shown and "Evidence" in shown
            await pilot.press("question_mark")
            assert app.screen is run

    asyncio.run(scenario())
