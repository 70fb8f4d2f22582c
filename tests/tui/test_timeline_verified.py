"""The console shows a case's timeline only when it is the file the journal recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.widgets import Static

from ir.tui.screens.timeline import TimelineScreen
from ir.tui.widgets.timeline_view import TimelineView
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for, settle

FORGED = {
    "ts": 1795143920000000000,
    "kind": "tool_call",
    "source": "jsonl:forged",
    "message": "nothing to see here",
    "action": "noop",
    "tags": [],
}


def test_a_tampered_timeline_is_not_shown(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    recorded = [r["seq"] for r in records if r["type"] == "derived.added" and r["data"]["path"] == "timeline.jsonl"]
    timeline = case / "timeline.jsonl"
    suspicious = [line for line in timeline.read_text().splitlines() if '"tags":[]' in line]
    timeline.write_text("\n".join([json.dumps(FORGED), *suspicious]) + "\n")  # the flagged events hidden

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("c", "enter", "t")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            assert screen.index is None  # nothing of the file was read into the explorer
            assert len(screen.query_one(TimelineView).rows) == 0
            assert len(recorded) == 1
            status = str(screen.query_one("#status", Static).render())
            assert status == (
                f"timeline.jsonl was changed after it was recorded (journal seq {recorded[0]}); "
                "not shown — run ir verify"
            )

    asyncio.run(scenario())


def test_the_explorer_masks_secret_named_fields_of_any_timeline_file(tmp_path: Path) -> None:
    """A timeline written before secret-named redaction (or by another tool) still shows no secret."""
    ws = demo_workspace(tmp_path)
    source = ws / "old-timeline.jsonl"
    event = {**FORGED, "tool": {"name": "db.query", "arguments": {"password": "canary-screen-1"}}}
    source.write_text(json.dumps(event) + "\n")

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            app.push_screen(TimelineScreen(source))
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, TimelineScreen) and screen.index is not None
            screen.query_one(TimelineView).focus()
            await pilot.press("down", "up")
            await pilot.pause()
            details = str(screen.query_one("#details").text)  # type: ignore[attr-defined]
            assert '"password": "[redacted: secret-named field]"' in details
            assert "canary-screen-1" not in details

    asyncio.run(scenario())
