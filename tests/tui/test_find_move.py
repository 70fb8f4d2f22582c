"""Find and move: from a timeline event to the evidence that recorded it, and copying ids and hashes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static

from ir.tui.app import IrApp
from ir.tui.case_jobs import journal_head_line
from ir.tui.event_sources import CaseSources
from ir.tui.screens.evidence import EvidenceScreen
from ir.tui.screens.timeline import TimelineScreen
from ir.tui.widgets.details import DetailsPane
from ir.tui.widgets.timeline_view import TimelineView
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for, settle


def demo_case(tmp_path: Path, signers: Any = None) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    """A finished agent-compromise case on the demo workspace (signed by tester when `signers` is
    given): the workspace, the run's JSON summary, its evidence records by name."""
    ws = demo_workspace(tmp_path)
    if signers is not None:
        signers(ws, "tester")
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.splitlines()[-1])
    records = [json.loads(line) for line in (Path(summary["case"]) / "journal.jsonl").read_text().splitlines()]
    evidence = {r["data"]["name"]: r["data"] for r in records if r["type"] == "evidence.added"}
    return ws, summary, evidence


def details(screen: TimelineScreen) -> str:
    return str(screen.query_one(DetailsPane).text)


async def open_timeline(app: IrApp, pilot: object, path: Path) -> TimelineScreen:
    app.push_screen(TimelineScreen(path))
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, TimelineScreen) and screen.index is not None
    return screen


def test_an_event_names_the_evidence_and_steps_that_recorded_it_and_opens_it(tmp_path: Path) -> None:
    ws, summary, evidence = demo_case(tmp_path)
    case = Path(summary["case"])
    logs = evidence["logs.txt"]  # the demo timeline is read from the container's logs

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await open_timeline(app, pilot, case / "timeline.jsonl")
            await pilot.press("down")  # the second event: the tool result carrying the injection
            await pilot.pause()
            shown = details(screen)
            assert (
                "recorded by:\n"
                f"  logs.txt line 2, evidence sha256 {str(logs['sha256'])[:16]}…\n"
                f"    captured by step snapshot: {logs['method']}\n"
                "  timeline built by step timeline (timeline.reconstruct)\n"
            ) in shown
            await pilot.press("e")
            await pilot.pause()
            evidence_screen = app.screen
            assert isinstance(evidence_screen, EvidenceScreen)
            table = evidence_screen.query_one("#evidence", DataTable)
            assert table.get_row_at(table.cursor_row)[:2] == ["logs.txt", logs["sha256"]]
            await pilot.press("y")
            assert app.clipboard == logs["sha256"]

    asyncio.run(scenario())


def test_a_loose_timeline_file_says_it_is_not_from_a_case(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    loose = ws / "loose.jsonl"
    event = {"ts": 1, "kind": "tool_call", "message": "m", "raw_ref": "/elsewhere/log:1", "tool": {"call_id": "c9"}}
    loose.write_text(json.dumps(event) + "\n")

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await open_timeline(app, pilot, loose)
            assert "recorded by: not from a case" in details(screen)
            await pilot.press("e")
            await pilot.pause()
            assert app.screen is screen  # nothing to open
            await pilot.press("y")
            assert app.clipboard == "c9"
            await pilot.press("Y")
            assert app.clipboard == "/elsewhere/log:1"

    asyncio.run(scenario())


def test_a_file_named_like_evidence_is_tied_to_it_only_by_hash_and_an_unsigned_head_says_so(tmp_path: Path) -> None:
    """A file outside the store named like an evidence item is tied to it only when the hashes agree."""
    _ws, summary, evidence = demo_case(tmp_path)
    case = Path(summary["case"])
    copy = tmp_path / "logs.txt"
    copy.write_bytes((case / str(evidence["logs.txt"]["path"])).read_bytes())
    timeline = case / "timeline.jsonl"
    lines = timeline.read_text().splitlines()
    first = json.loads(lines[0])
    sources = CaseSources(case, "timeline.jsonl")
    assert sources.source(f"{copy}:1").item == sources.source(str(first["raw_ref"])).item
    merged = {**first, "evidence": [f"{copy}:3", "/nowhere/other.log:7"]}  # seen in three sources
    found = sources.sources(merged)
    assert [(s.item.name if s.item else None, s.line, s.why) for s in found] == [
        ("logs.txt", "1", ""),
        ("logs.txt", "3", ""),
        (None, "7", "not among this case's evidence"),
    ]
    copy.write_text("something else\n")
    other = CaseSources(case, "timeline.jsonl").source(f"{copy}:1")
    assert other.item is None and other.why == "named like evidence logs.txt, but its sha256 differs"
    head = summary["journal_head"]
    assert journal_head_line(case) == f"journal head: seq {head['seq']} sha256 {head['hash']} (not signed)"


def test_copy_case_id_and_journal_head_from_the_palette(tmp_path: Path, signers: Any) -> None:
    ws, summary, _evidence = demo_case(tmp_path, signers)
    case = Path(summary["case"])
    head = summary["journal_head"]
    expected = f"journal head: seq {head['seq']} sha256 {head['hash']} signed by tester"  # as the summary prints it

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            app.push_screen(EvidenceScreen(case))
            await pilot.pause()
            for command, copied in (("Copy case id", case.name), ("Copy journal head", expected)):
                await pilot.press("ctrl+p")
                await pilot.press(*command)
                await pilot.pause()
                await pilot.press("enter")
                await settle(app, pilot)
                assert app.clipboard == copied
                notes = [n.message for n in app._notifications]
                assert any(copied in str(note) for note in notes), notes

    asyncio.run(scenario())


def test_at_80x24_where_an_event_was_recorded_is_reached_by_scrolling_its_details(tmp_path: Path) -> None:
    """The injection's explanation fills the narrow pane: the evidence link below it is not cut off."""
    ws, summary, _evidence = demo_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_timeline(app, pilot, Path(summary["case"]) / "timeline.jsonl")
            await pilot.press("down")  # the tool result carrying the injection
            await pilot.pause()
            pane = screen.query_one(DetailsPane)

            def on_screen() -> str:
                return "\n".join(pane.render_line(y).text for y in range(pane.scrollable_content_region.height))

            assert "captured by step" not in on_screen()
            shown = screen.event
            await pilot.press("tab")  # to the details pane
            assert app.focused is pane
            for _ in range(40):
                if "captured by step" in on_screen():
                    break
                await pilot.press("down")
            assert "captured by step" in on_screen()
            assert screen.event is shown  # the pane scrolled; the cursor stayed on the injection

    asyncio.run(scenario())


def test_a_filters_matches_are_shown_among_all_events_and_visited_in_turn(tmp_path: Path) -> None:
    ws, summary, _evidence = demo_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = await open_timeline(app, pilot, Path(summary["case"]) / "timeline.jsonl")
            view = screen.query_one(TimelineView)
            assert screen.index is not None
            await pilot.press("slash", *"paste.example.net", "enter")  # the injected instruction, and the upload
            await settle(app, pilot)
            assert list(view.rows) == [1, 4]

            def at() -> int:
                return view.rows[view.cursor]

            await pilot.press("z")  # every event again, the cursor still on the first match
            await pilot.pause()
            assert list(view.rows) == list(range(len(screen.index))) and at() == 1
            status = str(screen.query_one("#status", Static).render())
            assert status.startswith(f"all {len(screen.index)} events, 2 matches underlined")
            await pilot.press("right_square_bracket")
            assert at() == 4
            await pilot.press("right_square_bracket")  # no match after the last: the cursor stays
            assert at() == 4
            await pilot.press("left_square_bracket")
            assert at() == 1
            await pilot.press("home", "right_square_bracket")
            assert at() == 1
            await pilot.pause()
            assert "http.post" not in details(screen) and "paste.example.net" in details(screen)

    asyncio.run(scenario())
