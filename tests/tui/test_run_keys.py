"""The run screen's keys beyond run and approve: start by choosing agent and playbook, the dry-run
plan per step, skip with a reason, note, abort, retry, and the read-only view of a held case."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from ir.core.journal import Journal
from ir.tui.app import IrApp
from ir.tui.screens.approval import ApprovalModal
from ir.tui.screens.prompt import ChoicePrompt, TextPrompt
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.steps import StepList
from tests.cli.test_interventions import records as journal
from tests.cli.test_interventions import waiting_case
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import WORLD, ir_cmd, make_workspace
from tests.tui.test_console import app_for, log_text, settle

RESPONDER_KEYS = ("run", "retry", "approve", "skip", "note", "abort", "decide", "reenable")


async def open_newest_case(app: IrApp, pilot: Pilot[None]) -> RunScreen:
    """Open the newest case from the incidents screen and let its plan settle."""
    await pilot.press("c", "enter")
    screen = app.screen
    assert isinstance(screen, RunScreen)
    await settle(app, pilot)
    return screen


def highlight(screen: RunScreen, step: str) -> None:
    assert screen.loaded is not None
    screen.query_one(StepList).index = [s.id for s in screen.loaded.playbook.steps].index(step)


def plan_shown(screen: RunScreen) -> str:
    return str(screen.query_one("#plan", Static).render())


def test_a_new_incident_from_the_incidents_screen_shows_each_steps_plan_before_anything_runs(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("c", "n")
            assert isinstance(app.screen, ChoicePrompt) and app.screen.choices[0][0] == "support-bot"
            await pilot.press("enter")
            assert isinstance(app.screen, ChoicePrompt) and app.screen.choices[0][0] == "agent-compromise"
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, RunScreen) and screen.case_dir is None
            await settle(app, pilot)
            assert "container support-bot (bfe4396fb84b) status: running → paused" in plan_shown(screen)
            await pilot.press("down")  # credentials
            await pilot.press("down")  # keys
            await pilot.pause()
            shown = plan_shown(screen)
            assert "AKIAEXAMPLEDEMO00001 status: Active → Inactive" in shown
            assert "AKIAEXAMPLEDEMO00002 status: Active → Inactive" in shown

    asyncio.run(scenario())
    assert not (ws / "cases").exists() or list((ws / "cases").iterdir()) == []  # planning opened no case
    world = json.loads((ws / ".ir" / "world.json").read_text())
    assert world["containers"]["support-bot"]["status"] == "running"  # and changed nothing


def test_skip_a_gated_step_with_a_reason_add_a_note_then_abort(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert screen.waiting is not None
            await pilot.press("y")  # the approver sees what the step would change
            modal = app.screen
            assert isinstance(modal, ApprovalModal)
            await settle(app, pilot)  # the modal plans again for the arguments the engine resolved
            assert "plan (dry run, read from real state):" in " ".join(str(w.render()) for w in modal.query(Static))
            await pilot.press("n", "escape", "escape")  # decline asks why; not declining after all

            highlight(screen, "freeze")  # the cursor elsewhere: s acts on the step the status line names
            await pilot.pause()
            assert screen.check_action("skip", ())
            await pilot.press("s")
            assert isinstance(app.screen, TextPrompt) and app.screen.question == "Skip step console: why?"
            app.screen.query_one(Input).value = "the agent user has no console login"
            await pilot.press("enter")
            await settle(app, pilot)
            assert screen.statuses["console"] == "skipped"
            assert screen.waiting is not None and screen.waiting["step"] == "secrets"
            assert "console: skipped by tester — the agent user has no console login" in log_text(screen)

            await pilot.press("n")
            app.screen.query_one(Input).value = "ticket INC-4411: customer confirmed the email"
            await pilot.press("enter")
            await pilot.pause()
            assert "note by tester" in log_text(screen)

            await pilot.press("x")
            app.screen.query_one(Input).value = "handing over to the cloud team's own runbook"
            await pilot.press("enter")
            await pilot.pause()
            assert screen.finished == "aborted"
            assert not any(screen.check_action(a, ()) for a in ("run", "retry", "approve", "skip", "abort"))
            assert "run aborted" in str(screen.query_one("#status", Static).render())

    asyncio.run(scenario())
    assert {"step": "console", "reason": "the agent user has no console login", "by": "tester"} in journal(
        case, "step.skipped"
    )
    (note,) = journal(case, "note")
    assert note["by"] == "tester" and note["text"] == "ticket INC-4411: customer confirmed the email"
    (aborted,) = journal(case, "run.aborted")
    assert aborted["reason"] == "handing over to the cloud team's own runbook"
    assert ir_cmd("verify", str(case)).returncode == 0
    assert ir_cmd("resume", case.name, "--yes", cwd=ws).returncode == 2


def test_an_empty_reason_is_refused_and_escape_skips_nothing(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    before = (case / "journal.jsonl").read_bytes()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            highlight(screen, "console")
            await pilot.press("s", "enter")  # no reason given: the prompt stays
            assert isinstance(app.screen, TextPrompt)
            await pilot.press("escape")
            assert app.screen is screen and screen.statuses["console"] == "awaiting_approval"

    asyncio.run(scenario())
    assert (case / "journal.jsonl").read_bytes() == before


def test_retry_after_a_backend_outage(tmp_path: Path) -> None:
    world = WORLD + "faults:\n  pause: {error: unavailable, times: 1}\n"
    ws = make_workspace(tmp_path / "ws", world=world)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("enter", "enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await settle(app, pilot)
            await pilot.press("r")
            await settle(app, pilot)
            assert screen.finished == "errored" and screen.statuses["freeze"] == "errored"
            assert "injected unavailable fault" in log_text(screen)
            assert screen.check_action("retry", ()) and not screen.check_action("run", ())
            assert "r retries" in str(screen.query_one("#status", Static).render())
            await pilot.press("r")
            await settle(app, pilot)
            assert screen.statuses["freeze"] == "succeeded"

    asyncio.run(scenario())
    (case,) = (ws / "cases").iterdir()
    assert [r["attempt"] for r in journal(case, "step.started") if r["step"] == "freeze"] == [1, 2]


def test_a_case_another_responder_holds_opens_read_only_and_nothing_is_written(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    before = (case / "journal.jsonl").read_bytes()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            with Journal(case).open():  # the other responder's run holds the case
                screen = await open_newest_case(app, pilot)
                assert "read-only view" in str(screen.query_one("#status", Static).render())
                highlight(screen, "console")
                await pilot.pause()
                assert [a for a in RESPONDER_KEYS if screen.check_action(a, ())] == []
                shown = {b.binding.action for b in screen.active_bindings.values()}
                assert shown.isdisjoint(RESPONDER_KEYS)
                await pilot.press("r", "y", "s", "n", "x", "d")
                await settle(app, pilot)
                assert app.screen is screen

    asyncio.run(scenario())
    assert (case / "journal.jsonl").read_bytes() == before


def test_a_killed_run_shows_as_interrupted_and_resumes_from_the_incidents_screen(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    killed = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=ws, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    assert killed.returncode == -9
    (case,) = (ws / "cases").iterdir()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("c")
            await pilot.pause()
            assert "interrupted" in [str(c) for c in app.screen.query_one("DataTable").get_row_at(0)]  # type: ignore[attr-defined]
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, RunScreen) and screen.finished == "interrupted"
            assert screen.statuses["isolate"] == "running"
            assert "r resumes it" in str(screen.query_one("#status", Static).render())
            await pilot.press("r")
            await settle(app, pilot)
            assert screen.statuses["isolate"] == "succeeded"
            assert screen.waiting is not None and screen.waiting["step"] == "console"

    asyncio.run(scenario())
    (verified,) = [r for r in journal(case, "step.verified") if r["step"] == "isolate"]
    assert verified["done"] is False  # killed before the call: verify() read real state, then it ran
    assert [r["status"] for r in journal(case, "step.result") if r["step"] == "isolate"] == ["succeeded"]


def test_an_unexpected_exception_in_a_backend_is_one_line_and_the_case_resumes(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")

    async def scenario() -> None:
        app = app_for(ws)
        runtime = app.backends.container_runtime("simulated", None)
        real_pause = runtime.pause

        def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("driver bug \x1b[31m[red]x[/red]")

        runtime.pause = broken
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("enter", "enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await settle(app, pilot)
            await pilot.press("r")
            await settle(app, pilot)
            assert not screen.running
            text = log_text(screen)
            assert (
                "error: internal error (RuntimeError: driver bug \\x1b[31m[red]x[/red]); the case is interrupted"
                in text
            )
            assert "Traceback" not in text
            runtime.pause = real_pause
            await pilot.press("escape", "c", "enter")
            resumed = app.screen
            assert isinstance(resumed, RunScreen) and resumed.finished == "interrupted"
            await pilot.press("r")
            await settle(app, pilot)
            assert resumed.statuses["freeze"] == "succeeded"

    asyncio.run(scenario())


def test_a_case_that_once_waited_and_then_finished_opens_as_finished(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    assert ir_cmd("resume", case.name, "--yes", cwd=ws).returncode == 0

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert screen.finished == "succeeded" and screen.waiting is None
            assert str(screen.query_one("#status", Static).render()).startswith("run succeeded")
            assert not screen.check_action("approve", ())

    asyncio.run(scenario())
