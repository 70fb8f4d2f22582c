"""The case view tells the truth: decision criteria, the form at 80×24, listings, verify failures,
a second incident on a busy agent, a re-enable that would be refused, and the case at a glance."""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input, Static

from ir.core.journal import Journal
from ir.core.verify import verify_case
from ir.tui.app import IrApp
from ir.tui.screens.decision import DecisionScreen
from ir.tui.screens.evidence import EvidenceScreen
from ir.tui.screens.prompt import ChoicePrompt, Notice
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.containment import ContainmentPanel
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd
from tests.tui.test_console import app_for, settle


def visible(app: IrApp) -> str:
    """What the terminal shows, as text, one line per screen row."""
    svg = app.export_screenshot()
    rows: dict[int, str] = {}
    for line, text in re.findall(r'<text[^>]*clip-path="url\(#terminal-(?:[\w-]*-)?line-(\d+)\)">(.*?)</text>', svg):
        rows[int(line)] = rows.get(int(line), "") + html.unescape(text).replace("\xa0", " ")
    return "\n".join(rows[n] for n in sorted(rows))


def waiting_case(ws: Path) -> Path:
    """A case stopped at its first approval (console): later steps never ran."""
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=ws)
    assert run.returncode == 4, run.stdout + run.stderr
    return Path(json.loads(run.stdout.splitlines()[-1])["case"])


def criteria_text(form: DecisionScreen) -> str:
    return str(form.query_one("#criteria", Static).render())


def test_the_form_does_not_tick_follow_ups_or_count_never_run_revocations(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 50)) as pilot:
            await app.push_screen(DecisionScreen(case))
            await settle(app, pilot)
            shown = " ".join(criteria_text(app.screen).split())  # type: ignore[arg-type]
            assert "[ ] follow_ups_closed: not known: the steps that raise follow-ups have not all run" in shown
            assert "secrets (never ran)" in shown and "provider-keys (never ran)" in shown
            assert "[ ] credentials_rotated: not done: console (awaiting_approval), secrets (never ran)" in shown

    asyncio.run(scenario())


def test_typing_a_root_cause_verifies_once_and_never_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = demo_workspace(tmp_path)
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0
    (case,) = (ws / "cases").iterdir()
    calls: list[str] = []
    release = threading.Event()

    def slow_verify(case_dir: Path, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        release.wait(timeout=5)  # a multi-GB image tar: the form must not wait for it
        return verify_case(case_dir, **kwargs)

    import ir.core.decision
    import ir.tui.screens.decision

    monkeypatch.setattr(ir.tui.screens.decision, "verify_case", slow_verify, raising=False)
    monkeypatch.setattr(ir.core.decision, "verify_case", slow_verify)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 50)) as pilot:
            await app.push_screen(DecisionScreen(case))
            await pilot.pause()
            form = app.screen
            assert isinstance(form, DecisionScreen)
            form.query_one("#root-cause", Input).focus()
            await pilot.press(*"prompt injection")
            await pilot.pause()
            shown = criteria_text(form)
            assert not release.is_set()  # still hashing: yet the form answered every key
            assert "[x] root_cause_recorded: prompt injection" in shown
            assert "evidence_sealed: checking" in shown
            release.set()
            await settle(app, pilot)
            assert "[x] evidence_sealed: ir verify:" in criteria_text(form)

    asyncio.run(scenario())
    assert len(calls) == 1 and calls[0] != threading.main_thread().name


def test_at_80x24_tab_reaches_the_criteria_and_the_record_button(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.push_screen(DecisionScreen(case))
            await settle(app, pilot)
            button = app.screen.query_one("#record", Button)
            for _ in range(12):
                if app.focused is button:
                    break
                await pilot.press("tab")
            await pilot.pause()
            assert app.focused is button
            assert "Record decision" in visible(app)
            assert "credentials_rotated" in visible(app)

    asyncio.run(scenario())


def test_the_incidents_table_shows_the_status_at_80x24(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("c")
            await pilot.pause()
            shown = visible(app)
            assert "awaiting_approval" in shown
            assert case.name.split("-")[0] in shown and case.name.rsplit("-", 1)[1] in shown  # time and unique tail
            await pilot.press("enter")  # the truncated id still opens the whole case
            assert isinstance(app.screen, RunScreen) and app.screen.case_dir == case

    asyncio.run(scenario())


def test_a_verify_failure_stays_on_screen_after_the_toast(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0
    (case,) = (ws / "cases").iterdir()
    tampered = next(p for p in (case / "evidence").rglob("*") if p.is_file())
    tampered.chmod(0o644)
    tampered.write_bytes(b"changed after the fact")
    problem = verify_case(case).problems[0]

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.push_screen(EvidenceScreen(case))
            await pilot.press("v")
            await settle(app, pilot)
            app.clear_notifications()
            await pilot.pause()
            shown = " ".join(visible(app).split())
            assert "FAILED" in shown
            assert " ".join(problem.split()[-4:]) in shown  # the end of the reason too, not a line cut at 80

    asyncio.run(scenario())


def test_a_second_incident_on_an_agent_with_an_open_case_offers_that_case(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            row = app.screen.query_one(DataTable).get_row_at(0)
            assert row[2] == f"{case.name.rsplit('-', 1)[1]} agent-compromise awaiting_approval"  # the open case
            await pilot.press("enter", "enter")  # support-bot, agent-compromise
            prompt = app.screen
            assert isinstance(prompt, ChoicePrompt)
            assert f"support-bot already has an open agent-compromise case {case.name}" in prompt.question
            assert "a second case would be refused" in prompt.question
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen) and app.screen.case_dir == case
        assert len(list((ws / "cases").iterdir())) == 1

    asyncio.run(scenario())


def test_reenable_is_not_started_when_its_release_would_be_refused(tmp_path: Path) -> None:
    from ir.tui.screens.start import start_reenable

    ws = demo_workspace(tmp_path)
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws).returncode == 0
    (case,) = (ws / "cases").iterdir()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            start_reenable(app.screen, case, "support-bot")
            await pilot.pause()
            notice = app.screen
            assert isinstance(notice, Notice)
            assert f"case {case.name} has no approved reenable decision" in notice.text
            await pilot.press("enter")
            assert not isinstance(app.screen, RunScreen)
        assert len(list((ws / "cases").iterdir())) == 1

    asyncio.run(scenario())


def test_the_header_and_the_containment_panel_tell_the_case_at_a_glance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)
    skip = ("--skip", "secrets", "--reason", "vendor outage")
    assert ir_cmd("resume", case.name, "--yes", *skip, cwd=ws).returncode in (0, 1)
    opened = datetime.fromisoformat(json.loads((case / "journal.jsonl").read_text().splitlines()[0])["ts"])
    monkeypatch.setattr(CaseHeader, "clock", staticmethod(lambda: opened.replace(microsecond=0) + _minutes(125)))

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 50)) as pilot:
            await app.push_screen(EvidenceScreen(case))
            await pilot.pause()
            header = " ".join(str(app.screen.query_one(CaseHeader).render()).split())
            assert f"support-bot · agent-compromise 1.2.1 · {_status(ws, case)} · held by nobody" in header
            assert f"case {case.name} · opened 2h 04m ago · first alert —" in header
            table = app.screen.query_one(ContainmentPanel)
            rows = {
                str(r[0]): (str(r[1]), " ".join(str(r[2]).split()))
                for r in map(table.get_row_at, range(table.row_count))
            }
            assert rows["secret agent/support-bot/openai"] == ("live", "secrets: skipped by tester: vendor outage")
            assert rows["token llm-vendor-key"][0] == "follow-up"
            assert "owner platform@example.com" in rows["token llm-vendor-key"][1]
            assert rows["key AKIAEXAMPLEDEMO00001"] == ("inactive", "keys: deactivated")
            assert rows["user support-bot-helper (minted)"][0] == "denied"
            assert rows["key AKIAEXAMPLEDEMO00003 (minted)"] == ("inactive", "minted-keys: deactivated")
            assert rows["container support-bot"][0] == "paused"
            assert rows["container support-bot"][1] == "freeze: paused isolate: cut from agents-net, egress-proxy"

        with Journal(case).open() as journal:  # a later alert about the agent, journalled into its open case
            journal.append("alert.correlated", {"by": "ir-service", "text": "joined", "alert": {"inbox": "1.0"}})
        first = datetime.fromisoformat(json.loads((case / "journal.jsonl").read_text().splitlines()[-1])["ts"])
        monkeypatch.setattr(CaseHeader, "clock", staticmethod(lambda: first + _minutes(3)))
        async with app_for(ws).run_test(size=(150, 50)) as pilot:
            await pilot.app.push_screen(EvidenceScreen(case))
            await pilot.pause()
            # an alert that arrived after the case was opened did not start its clock
            assert "first alert —" in str(pilot.app.screen.query_one(CaseHeader).render())

    asyncio.run(scenario())


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _status(ws: Path, case: Path) -> str:
    from ir.core.case import load_state

    return str(load_state(case).run_status)


def test_the_header_names_who_holds_a_running_case(tmp_path: Path) -> None:
    from ir.core.agent_lock import AgentLock
    from ir.core.records import Kind
    from ir.tui.widgets.case_header import glance

    ws = demo_workspace(tmp_path)
    case = waiting_case(ws)
    assert glance(case, ws).held_by == "nobody"
    with Journal(case).open() as journal, AgentLock(ws, "support-bot").acquire(case=case.name, actor="alice"):
        journal.append(Kind.RUN_RESUMED, {"actor": "alice"})
        seen = glance(case, ws)
        assert seen.status == "running" and seen.held_by.startswith("alice (pid ")
    assert glance(case, ws).held_by == "nobody"


def test_a_refused_decision_says_why_in_full_at_80x24(tmp_path: Path, signers: Any) -> None:
    from textual.widgets import RadioButton

    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    case = waiting_case(ws)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.push_screen(DecisionScreen(case))
            await settle(app, pilot)
            form = app.screen
            next(b for b in form.query(RadioButton) if b.name == "reenable").value = True
            form.query_one("#reason", Input).value = "looks fine"
            form.query_one("#record", Button).press()
            await settle(app, pilot)
            app.clear_notifications()
            await pilot.pause()
            shown = " ".join(visible(app).split())
            assert "re-enable refused: criteria not met: credentials_rotated" in shown
            assert "follow_ups_closed (not known: the steps that raise follow-ups have not all run" in shown

    asyncio.run(scenario())
