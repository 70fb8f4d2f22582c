"""The run screen tells the truth: skips and declines are journal records, keys act on the step the
status line names, quitting mid-run asks, forms keep their keys, a success that did nothing or
left follow-ups says so, the end of a run reads as on the command line, and another responder's
approval shows up here without reopening the screen."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.widgets import Footer, RadioSet, Static

from ir.cli.console import print_summary
from ir.core.case import CaseState
from ir.core.journal import read
from ir.core.workspace import find_workspace
from ir.tui.app import IrApp, make_app
from ir.tui.quit_confirm import QuitConfirm
from ir.tui.run_workers import Finished
from ir.tui.screens.approval import ApprovalModal
from ir.tui.screens.decision import DecisionScreen
from ir.tui.screens.prompt import TextPrompt
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.steps import StepList
from tests.cli.test_interventions import records as journal
from tests.cli.test_interventions import waiting_case
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for, log_text, settle
from tests.tui.test_run_keys import highlight, open_newest_case


async def until(pilot: object, condition: object, what: str, tries: int = 100) -> None:
    """Let the app run until `condition()` holds (a bounded wait for a condition, not a sleep for timing)."""
    for _ in range(tries):
        if condition():  # type: ignore[operator]
            return
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    raise AssertionError(f"never happened: {what}")


async def approve_every_gate(app: IrApp, pilot: object, screen: RunScreen) -> None:
    """Approve each gate as it comes (y opens the modal, y approves) until the run ends."""
    while screen.waiting is not None:
        await pilot.press("y")  # type: ignore[attr-defined]
        assert isinstance(app.screen, ApprovalModal)
        await pilot.press("y")  # type: ignore[attr-defined]
        await settle(app, pilot)


def test_a_skip_of_a_later_step_in_an_interrupted_case_is_journalled_and_holds_for_every_later_launch(
    tmp_path: Path,
) -> None:
    ws = demo_workspace(tmp_path)
    killed = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=ws, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    assert killed.returncode == -9
    (case,) = (ws / "cases").iterdir()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert screen.finished == "interrupted"
            highlight(screen, "kill-switch")
            await pilot.pause()
            await pilot.press("s")
            assert isinstance(app.screen, TextPrompt) and app.screen.question == "Skip step kill-switch: why?"
            await pilot.press(*"the host team runs it", "enter")
            await settle(app, pilot)
            assert journal(case, "step.skipped") == [
                {"step": "kill-switch", "reason": "the host team runs it", "by": "tester"}
            ]  # on record at once, before anything runs again
            assert "kill-switch: skipped by tester — the host team runs it" in log_text(screen)

            await pilot.press("r")  # resume: it stops at the first gate, the skip outlives that launch
            await settle(app, pilot)
            assert screen.waiting is not None and screen.waiting.step == "console"
            assert screen.query_one(StepList).highlighted_step == "console"  # the cursor follows the run
            await approve_every_gate(app, pilot, screen)
            assert screen.statuses["kill-switch"] == "skipped"

    asyncio.run(scenario())
    assert [r for r in journal(case, "step.started") if r["step"] == "kill-switch"] == []  # it never ran


def test_a_decline_is_journalled_with_who_and_why_and_enter_never_approves(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            await pilot.press("y")
            modal = app.screen
            assert isinstance(modal, ApprovalModal)
            await pilot.press("enter")  # focus starts on Decline: Enter asks why, it approves nothing
            assert isinstance(app.screen, TextPrompt) and app.screen.question == "Decline step console: why?"
            assert modal.irreversible  # deleting a login cannot be undone: that is why Decline has the focus
            assert len(modal.query(Footer)) == 1  # the footer under the modal shows the modal's keys
            await pilot.press(*"wait for the cloud team", "enter")
            await settle(app, pilot)
            assert app.screen is screen and screen.waiting is not None and screen.waiting.step == "console"
            assert "console: approval declined by tester — wait for the cloud team" in log_text(screen)

    asyncio.run(scenario())
    assert journal(case, "approval.granted") == []
    assert journal(case, "approval.declined") == [
        {"step": "console", "by": "tester", "reason": "wait for the cloud team"}
    ]
    state = CaseState.replay(read(case / "journal.jsonl").records)
    declined = state.step("console").declined
    assert declined is not None and declined.by == "tester"
    assert state.waiting is not None and state.waiting.step == "console"  # a decline is not a stop
    shown = ir_cmd("verify", str(case))
    assert shown.returncode == 0, shown.stdout + shown.stderr


def test_the_approval_modal_plans_for_the_arguments_the_engine_resolved(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    on = ir_cmd("resume", case.name, "--approve", "console", "--approve", "secrets", cwd=ws)
    assert on.returncode == 4, on.stdout + on.stderr  # now minted-console waits: its users came from `minted`

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert screen.waiting is not None and screen.waiting.step == "minted-console"
            await pilot.press("y")
            await settle(app, pilot)
            shown = " ".join(" ".join(str(w.render()) for w in app.screen.query(Static)).split())
            assert "aws.iam_user:support-bot-helper console password: present → deleted" in shown
            assert "planned at run time" not in shown  # not the plan made before the step's inputs existed

    asyncio.run(scenario())


def test_steps_that_left_follow_ups_or_had_nothing_to_do_are_not_plain_successes(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert screen.statuses["provider-keys"] == "succeeded, follow-ups"  # the vendor key is still live
            assert screen.statuses["console"] == "succeeded, nothing to do"  # the agent user had no login
            assert screen.statuses["keys"] == "succeeded"
            items = [str(item.query_one(Static).render()) for item in screen.query_one(StepList).children]
            assert "⚑ provider-keys  succeeded, follow-ups" in items
            assert "○ console  succeeded, nothing to do" in items

    asyncio.run(scenario())


def test_the_end_of_a_run_in_the_console_is_what_the_command_line_prints(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    finished: list[Finished] = []

    def hook(message: Message) -> None:
        if isinstance(message, Finished):
            finished.append(message)

    async def scenario() -> str:
        app = app_for(ws)
        async with app.run_test(size=(150, 45), message_hook=hook) as pilot:
            await pilot.press("enter", "enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await settle(app, pilot)
            await pilot.press("r")
            await settle(app, pilot)
            await approve_every_gate(app, pilot, screen)
            return log_text(screen)

    shown = asyncio.run(scenario())
    summary = finished[-1].summary
    assert summary is not None and summary.head is not None
    printed = io.StringIO()
    print_summary(summary, printed, as_json=False)
    assert "".join(printed.getvalue().split()) in "".join(shown.split())  # character for character, wrapping aside
    assert f"journal head: seq {summary.head[0]} sha256 {summary.head[1]}" in shown
    assert "revoke http.token:llm-vendor-key at its provider — owner platform@example.com" in shown


def test_another_responders_approval_shows_up_and_closes_the_stale_modal(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            screen = await open_newest_case(app, pilot)
            await pilot.press("y")
            assert isinstance(app.screen, ApprovalModal)
            other = await asyncio.to_thread(
                ir_cmd, "resume", case.name, "--approve", "console", cwd=ws, env={"IR_USER": "alice"}
            )
            assert other.returncode == 4, other.stdout + other.stderr
            await until(pilot, lambda: app.screen is screen, "the stale modal closes")
            assert screen.waiting is not None and screen.waiting.step == "secrets"
            assert "console: approved by alice" in log_text(screen)
            assert screen.statuses["console"] == "succeeded, nothing to do"
            assert screen.loaded is not None
            listed = [item.name for item in screen.query_one(StepList).query("ListItem")]
            assert listed == [s.id for s in screen.loaded.playbook.steps]  # each step once
            await pilot.press("y")  # the modal now is for the step that waits now
            modal = app.screen
            assert isinstance(modal, ApprovalModal) and modal.waiting.step == "secrets"

    asyncio.run(scenario())
    assert [r["by"] for r in journal(case, "approval.granted")] == ["alice"]  # approved once, by alice


def test_app_keys_do_not_fire_inside_a_form_or_a_modal(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await app.push_screen(DecisionScreen(case))
            await pilot.pause()
            form = app.screen
            form.query_one(RadioSet).focus()
            await pilot.press("c", "a", "q")
            assert app.screen is form and app.is_running  # the form is still there, half filled

            await app.push_screen(TextPrompt("why?"))
            await pilot.pause()
            app.screen.set_focus(None)
            await pilot.press("c", "q")
            assert isinstance(app.screen, TextPrompt) and app.is_running

    asyncio.run(scenario())


def test_q_mid_run_asks_names_the_case_to_resume_and_leaves_it_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = demo_workspace(tmp_path)
    release = tmp_path / "release"
    monkeypatch.setenv("IR_FAILPOINT", "step.intent:isolate:1:pause")  # the engine holds inside a step
    monkeypatch.setenv("IR_FAILPOINT_FILE", str(release))
    app = make_app(find_workspace(ws), actor="tester")

    async def scenario() -> None:
        try:
            await drive()
        finally:
            release.touch()  # never leave the engine thread held (a failing run would hang the test)

    async def drive() -> None:
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("enter", "enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await settle(app, pilot)
            await pilot.press("r")
            await until(pilot, lambda: Path(f"{release}.paused").exists(), "the run reaches isolate")
            assert screen.case_dir is not None
            case = screen.case_dir.name
            await pilot.press("q")
            assert isinstance(app.screen, QuitConfirm)
            text = " ".join(str(w.render()) for w in app.screen.query(Static))
            assert f"ir resume {case}" in " ".join(text.split())
            await pilot.press("n")  # staying is the default
            assert app.screen is screen and app.is_running
            await pilot.press("q", "y")
            release.touch()  # let the engine thread reach its next record: it stops there
            await pilot.pause()

    asyncio.run(scenario())
    assert app.return_code == 130
    (case,) = (ws / "cases").iterdir()
    assert journal(case, "run.interrupted") == [{"step": "isolate"}]
    assert [r["step"] for r in journal(case, "step.started")][-1] == "isolate"
    world = json.loads((ws / ".ir" / "world.json").read_text())
    networks = [n["name"] for n in world["containers"]["support-bot"]["networks"]]
    assert "agents-net" in networks  # isolate never ran: nothing after the quit did


def test_a_case_opened_after_its_run_ended_shows_the_summary_the_command_line_printed(
    tmp_path: Path, signers: Any
) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    printed = run.stdout[run.stdout.index("\nrun succeeded") :]  # the summary block `ir run` ended with

    async def scenario() -> str:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("c", "enter")
            screen = app.screen
            assert isinstance(screen, RunScreen)
            await settle(app, pilot)
            return log_text(screen)

    shown = asyncio.run(scenario())
    assert "end of run" in shown and "signed by tester" in printed
    assert "".join(printed.split()) in "".join(shown.split())  # character for character, wrapping aside
