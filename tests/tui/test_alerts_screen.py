"""The alerts screen and the breaker banner through Pilot, on the demo workspace with its inbox
filled through the `Inbox` API (as `ir serve` would): a contained alert whose case waits for an
approval, one waiting for a person, one with a hostile title, a rejected delivery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from ir.alerts.inbox import Inbox
from ir.alerts.model import Alert, Entities
from ir.core.journal import read
from ir.core.records import Kind
from ir.tui.app import IrApp
from ir.tui.screens.agents import AgentsScreen
from ir.tui.screens.alerts import AlertsScreen
from ir.tui.screens.approval import ApprovalModal
from ir.tui.screens.help import HelpScreen
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.breaker_banner import BreakerBanner
from ir.tui.widgets.details import DetailsPane
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd, make_workspace
from tests.tui.test_console import app_for, settle
from tests.tui.test_live_lists import rows, until
from tests.tui.test_palette_help import choose

HOSTILE = "\x1b]52;c;cm0gLXJmIH4=\x07[red]pwned[/red] \u202egnp.exe"
"""A title that would set the clipboard (OSC 52), be read as markup, and reverse the text after it."""


def alert(n: int, title: str, *, agent: str = "", severity: str = "critical") -> Alert:
    """An Alertmanager alert as the normaliser makes one."""
    return Alert(
        source="alertmanager",
        format="alertmanager",
        kind="alertmanager",
        source_id=f"fp{n:04d}",
        incident_key=f"alertmanager:fp{n:04d}",
        status="firing",
        severity=severity,
        title=title,
        observed="2026-11-20T03:14:00+00:00",
        entities=Entities(agent_ids=(agent,), agent_id_sources=("labels.agent_id",)) if agent else Entities(),
        labels={"alertname": "AgentExfil"},
    )


def deliver(inbox: Inbox, n: int, item: Alert) -> int:
    """Accept a delivery holding `item`; the alert row's id."""
    accepted = inbox.accept(
        source="alertmanager", fmt="alertmanager", body=b'{"n": %d}' % n, delivery_key=f"d{n}", headers={}, via="test"
    )
    (row,) = inbox.add_alerts(accepted.id, [item])
    inbox.set_delivery(accepted.id, "done")
    return row.id


def fill_inbox(ws: Path, case: str) -> Inbox:
    """The inbox of `ws` with four deliveries; `case` is the case the contained alert started."""
    inbox = Inbox(ws / ".ir" / "inbox.sqlite")
    route = {"route": "contain-compromised-agent", "policy": "auto_then_approve"}
    first = deliver(inbox, 1, alert(1, "support-bot exfiltrates to paste site", agent="support-bot"))
    inbox.settle(
        first,
        "contained",
        f"route contain-compromised-agent: auto_then_approve ({case})",
        resolution={"state": "attributed", "rule": "explicit", "agents": ["support-bot"], "detail": "labels.agent_id"},
        cases=[{"agent": "support-bot", "case": case, "how": "started", "status": "awaiting_approval"}],
        **route,
    )
    second = deliver(inbox, 2, alert(2, "outbound to tor exit from shared host", severity="high"))
    why = "ambiguous: host agent-host-1 runs 2 agents (support-bot, billing-bot)"
    resolution = {"state": "ambiguous", "rule": "host", "agents": [], "detail": "host agent-host-1 runs 2 agents"}
    inbox.settle(second, "waiting", why, resolution=resolution, **route)
    third = deliver(inbox, 3, alert(3, HOSTILE, agent="support-bot", severity="low"))
    inbox.settle(third, "observed", "route watch: policy observe (journalled only)", route="watch", policy="observe")
    bad = inbox.accept(source="falco", fmt="falco", body=b"{}", delivery_key="d4", headers={}, via="test")
    inbox.set_delivery(bad.id, "rejected", "falco: missing field `rule`")
    return inbox


def waiting_demo(tmp_path: Path) -> tuple[Path, Path]:
    """The demo workspace with the incident stopped at its first gate (`console`)."""
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=ws)
    assert run.returncode == 4, run.stderr
    return ws, Path(json.loads(run.stdout.splitlines()[-1])["case"])


def details_text(app: IrApp) -> str:
    return str(app.screen.query_one(DetailsPane).text)


def by_ref(app: IrApp) -> dict[str, list[str]]:
    return {row[0]: row for row in rows(app)}


async def highlight(app: IrApp, pilot: Pilot[None], ref: str) -> None:
    table = app.screen.query_one(DataTable)
    table.move_cursor(row=[r[0] for r in rows(app)].index(ref))
    await pilot.pause()


def test_the_inbox_with_outcomes_agents_cases_and_hostile_text_shown_as_text(tmp_path: Path) -> None:
    ws, case = waiting_demo(tmp_path)
    fill_inbox(ws, case.name).close()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("l")
            assert isinstance(app.screen, AlertsScreen)
            assert [r[0] for r in rows(app)] == ["4", "3.0", "2.0", "1.0"]  # newest first, rejected in its place
            shown = by_ref(app)
            contained = ["contained", "critical", "alertmanager", "support-bot", "approval waits: console"]
            assert shown["1.0"][1:6] == contained
            assert shown["2.0"][1] == "WAITING for a person" and shown["2.0"][4] == "(ambiguous)"
            assert shown["4"][1] == "rejected" and shown["4"][6] == "falco: missing field `rule`"
            assert shown["3.0"][6] == "\\x1b]52;c;cm0gLXJmIH4=\\x07[red]pwned[/red] \\u202egnp.exe"
            assert not app.screen.check_action("approve", ())  # the cursor is on the rejected delivery
            await highlight(app, pilot, "3.0")
            assert "[red]pwned[/red]" in details_text(app) and "\x1b" not in details_text(app)
            await highlight(app, pilot, "2.0")
            text = details_text(app)
            assert "WAITING for a person" in text and "ambiguous: host agent-host-1 runs 2 agents" in text
            assert "d dismisses it" in text and "ir alerts assign 2.0 --agent ID" in text
            assert app.screen.check_action("dismiss_alert", ()) and not app.screen.check_action("open", ())
            await highlight(app, pilot, "1.0")
            text = details_text(app)
            assert f"support-bot: started — {case.name} — now awaiting_approval" in text
            assert "waits for approval: console" in text and "route: contain-compromised-agent" in text
            assert app.screen.check_action("approve", ()) and not app.screen.check_action("dismiss_alert", ())
            await pilot.press("enter")
            assert isinstance(app.screen, RunScreen) and app.screen.case_dir == case

    asyncio.run(scenario())


def test_y_approves_the_step_that_waits_on_the_alerts_case_through_the_approval_modal(tmp_path: Path) -> None:
    ws, case = waiting_demo(tmp_path)
    fill_inbox(ws, case.name).close()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("l")
            await highlight(app, pilot, "1.0")
            await pilot.press("y")
            await pilot.pause()
            modal = app.screen
            assert isinstance(modal, ApprovalModal) and modal.waiting.step == "console"
            await pilot.press("y")
            await settle(app, pilot)
            run = app.screen
            assert isinstance(run, RunScreen) and run.case_dir == case
            assert run.waiting is not None and run.waiting.step == "secrets"  # the next gate
            await pilot.press("escape")
            assert isinstance(app.screen, AlertsScreen)
            assert by_ref(app)["1.0"][5] == "approval waits: secrets"  # the case as it is now

    asyncio.run(scenario())
    granted = [r.data for r in read(case / "journal.jsonl").records if r.type == Kind.APPROVAL_GRANTED]
    assert [(g["step"], g["by"]) for g in granted] == [("console", "tester")]


def test_d_dismisses_a_waiting_alert_with_who_and_why(tmp_path: Path) -> None:
    ws, case = waiting_demo(tmp_path)
    fill_inbox(ws, case.name).close()

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("l")
            await highlight(app, pilot, "2.0")
            await pilot.press("d", *"tor exit is the VPN egress", "enter")
            await pilot.pause()
            assert by_ref(app)["2.0"][1] == "dismissed"
            assert not app.screen.check_action("dismiss_alert", ())

    asyncio.run(scenario())
    row = Inbox(ws / ".ir" / "inbox.sqlite").find("2.0")
    assert row is not None and row.outcome == "dismissed"
    assert row.reason == "dismissed by tester: tor exit is the VPN egress"


def test_alerts_from_a_running_receiver_and_the_breaker_banner_show_up_on_their_own(tmp_path: Path) -> None:
    ws, case = waiting_demo(tmp_path)
    inbox = fill_inbox(ws, case.name)

    def banner(app: IrApp) -> BreakerBanner:
        return app.screen.query_one(BreakerBanner)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, AgentsScreen) and not banner(app).display
            inbox.set_breaker(open_=True, reason="more than 5 automatic containments in 10 minutes", by="demo-service")
            assert await until(pilot, lambda: bool(banner(app).display))
            line = str(banner(app).render())
            assert line.startswith("AUTOMATION STOPPED by the breaker since ")
            assert "(tripped by demo-service): more than 5 automatic containments in 10 minutes" in line
            assert "ir alerts breaker reset --as WHO --reason TEXT" in line
            await pilot.press("l")
            assert isinstance(app.screen, AlertsScreen) and banner(app).display  # the alerts screen says so too
            deliver(inbox, 5, alert(5, "a fifth alert while automation is stopped"))
            assert await until(pilot, lambda: "5.0" in by_ref(app))
            assert by_ref(app)["5.0"][1] == "new" and rows(app)[0][0] == "5.0"
            await pilot.press("a")
            inbox.set_breaker(open_=False, reason="cascade understood", by="alice")
            assert await until(pilot, lambda: not banner(app).display)

    asyncio.run(scenario())
    inbox.close()


def test_the_alerts_screen_from_the_palette_and_its_keys_in_help(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)  # no inbox yet: the screen says so and creates none

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert {line[1]: line[0] for line in app.screen.lines}["Alerts"] == "l"
            await pilot.press("escape")
            await choose(app, pilot, "Show alerts")
            assert isinstance(app.screen, AlertsScreen) and rows(app) == []
            assert "No alerts in the inbox yet" in details_text(app)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            lines = {line[1]: line for line in app.screen.lines}
            for binding in AlertsScreen.BINDINGS:
                assert lines[binding.description][3] is False  # type: ignore[union-attr]  # nothing to act on

    asyncio.run(scenario())
    assert not (ws / ".ir" / "inbox.sqlite").exists()


def test_an_owner_written_like_markup_is_shown_as_written_on_the_agents_screen(tmp_path: Path) -> None:
    agents = "agents:\n  support-bot:\n    owner: '[/]sec[bold]ops'\n    purpose: p\n    backend: simulated\n"
    ws = make_workspace(tmp_path / "ws", agents=agents)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(150, 45)) as pilot:
            await pilot.pause()
            assert rows(app)[0][4] == "[/]sec[bold]ops"

    asyncio.run(scenario())
