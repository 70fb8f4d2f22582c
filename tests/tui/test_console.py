"""The TUI through Textual's Pilot: agents, a run with its approvals, resuming a case, hostile text."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, RichLog

from ir.core.workspace import find_workspace
from ir.tui.app import IrApp, make_app
from ir.tui.screens.approval import ApprovalModal
from ir.tui.screens.prompt import ChoicePrompt, Notice
from ir.tui.screens.run import RunScreen
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd, make_workspace


def app_for(ws: Path) -> IrApp:
    return make_app(find_workspace(ws), actor="tester")


def log_text(screen: RunScreen) -> str:
    """Everything the output log shows, with the wrapping undone."""
    return " ".join(" ".join(str(line.text) for line in screen.query_one("#output", RichLog).lines).split())


async def settle(app: IrApp, pilot: object) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def test_start_an_incident_approve_each_gate_and_complete(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            table = app.screen.query_one(DataTable)
            assert table.get_row_at(0)[:2] == ["support-bot", "active"]
            await pilot.press("enter")  # the playbook to start: agent-compromise (agent-reenable needs a case)
            assert isinstance(app.screen, ChoicePrompt) and app.screen.choices == [
                (
                    "agent-compromise",
                    "agent-compromise 1.2.1 — Contain a compromised agent — freeze, revoke, capture, isolate",
                )
            ]
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            assert not app.screen.check_action("approve", ())  # nothing waits: the key is hidden
            await pilot.press("r")
            await settle(app, pilot)
            approved = []
            while screen.waiting is not None:
                await pilot.press("y")
                modal = app.screen
                assert isinstance(modal, ApprovalModal)
                shown = " ".join(str(w.render()) for w in modal.query("Static"))
                assert f"action: {screen.waiting['action']}" in shown
                approved.append(screen.waiting["step"])
                await pilot.press("y")
                await settle(app, pilot)
            assert approved == ["console", "secrets", "minted-console", "stop-service"]
            assert screen.finished == "succeeded"
            assert "freeze: succeeded" in log_text(screen)

    asyncio.run(scenario())
    world = json.loads((ws / ".ir" / "world.json").read_text())
    assert world["containers"]["support-bot"]["status"] == "paused"
    (case,) = list((ws / "cases").iterdir())
    assert ir_cmd("verify", str(case)).returncode == 0


def test_declining_leaves_the_case_waiting_and_it_resumes_from_the_incidents_screen(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    waiting = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert waiting.returncode == 4

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("c")
            table = app.screen.query_one(DataTable)
            assert table.get_row_at(0)[0] == "awaiting_approval"
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, RunScreen) and screen.waiting is not None
            assert screen.waiting["step"] == "console"
            await pilot.press("y", "n")  # open the modal, decline: it asks why
            await pilot.press(*"not yet", "enter")
            await pilot.pause()
            assert app.screen is screen and screen.waiting is not None
            assert "console: approval declined by tester — not yet" in log_text(screen)
            await pilot.press("y", "y")
            await settle(app, pilot)
            assert screen.waiting is not None and screen.waiting["step"] == "secrets"

    asyncio.run(scenario())


def test_hostile_text_is_shown_as_text(tmp_path: Path) -> None:
    evil = "bot[bold red]X[/]\\e]0;pwned\\a"
    world = f'containers:\n  "{evil}":\n    status: running\n    networks: {{n1: {{}}}}\n'
    agents = (
        "agents:\n  support-bot:\n    owner: o\n    purpose: p\n    backend: simulated\n"
        f'    container: {{name: "{evil}"}}\n'
    )
    ws = make_workspace(tmp_path / "ws", world=world, agents=agents)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("enter", "enter", "r")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, RunScreen)
            text = log_text(screen)
            assert "paused container bot[bold red]X[/]\\x1b]0;pwned\\x07" in text
            assert "\x1b" not in text

    asyncio.run(scenario())


def test_decide_then_reenable_and_refusal_without_a_decision(tmp_path: Path, signers: Any) -> None:
    from textual.widgets import Checkbox, Input, RadioButton, Static

    from ir.tui.screens.decision import DecisionScreen
    from ir.tui.screens.evidence import EvidenceScreen

    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 50)) as pilot:
            await pilot.press("c", "enter")
            incident = app.screen
            assert isinstance(incident, RunScreen) and incident.finished == "succeeded"

            await pilot.press("e")
            evidence = app.screen
            assert isinstance(evidence, EvidenceScreen)
            assert evidence.query_one("#evidence", DataTable).row_count >= 12
            await pilot.press("v")
            await settle(app, pilot)
            assert str(evidence.query_one("#status", Static).render()).startswith("ok: ")
            await pilot.press("escape")

            await pilot.press("R")  # re-enable with no decision: refused before anything starts
            await settle(app, pilot)
            notice = app.screen
            assert isinstance(notice, Notice), notice
            assert "no approved reenable decision" in str(notice.query_one("#notice-text", Static).render())
            await pilot.press("escape")
            assert len(list((ws / "cases").iterdir())) == 1  # no re-enable case was started

            await pilot.press("d")
            form = app.screen
            assert isinstance(form, DecisionScreen)
            next(b for b in form.query(RadioButton) if b.name == "reenable").value = True
            form.query_one("#reason", Input).value = "filter blocks the injected mail"
            form.query_one("#root-cause", Input).value = "prompt injection in email m-9913"
            form.query_one("#accept", Checkbox).value = True
            await pilot.pause()
            assert "[x] root_cause_recorded" in str(form.query_one("#criteria", Static).render())
            await pilot.click("#record")
            await settle(app, pilot)
            assert "decision reenable recorded" in str(form.query_one("#status", Static).render())
            assert "signed by tester" in str(form.query_one("#status", Static).render())
            await pilot.press("escape")

            await pilot.press("R", "r")
            await settle(app, pilot)
            again = app.screen
            assert isinstance(again, RunScreen)
            while again.waiting is not None:
                await pilot.press("y", "y")
                await settle(app, pilot)
            assert again.finished == "succeeded"

    asyncio.run(scenario())
    world = json.loads((ws / ".ir" / "world.json").read_text())
    assert world["containers"]["support-bot"]["status"] == "running"


def test_timeline_explorer_filters_and_jumps_to_suspicious_events(tmp_path: Path) -> None:
    from textual.widgets import Input, Static

    from ir.tui.screens.timeline import TimelineScreen
    from ir.tui.widgets.timeline_view import TimelineView

    ws = demo_workspace(tmp_path)
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.press("c", "enter", "t")
            await settle(app, pilot)
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            view = screen.query_one(TimelineView)
            assert len(view.rows) == 5
            assert "5 events, 3 suspicious" in str(screen.query_one("#status", Static).render())
            await pilot.press("n", "n")
            await pilot.pause()
            assert view.cursor == 2
            details = str(screen.query_one("#details").text)  # type: ignore[attr-defined]
            assert details.startswith("secret_read: fs.read touches .aws/credentials")
            await pilot.press("slash")
            screen.query_one("#filter", Input).value = "tag:egress_off_allowlist"
            await pilot.press("enter")
            await settle(app, pilot)  # the filter runs in a worker
            assert len(view.rows) == 1 and "http.post" in screen.index.line(view.rows[0])  # type: ignore[union-attr]

    asyncio.run(scenario())
