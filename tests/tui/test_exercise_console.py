"""The console on an exercise through Textual's Pilot: the panel, every facilitator key and the
journal record it writes, keys inside forms, the help, cards for the viewer's role."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Input

from ir.tabletop.sessions import JoinedSession
from ir.tui.exercise_lines import FOR_YOU, inject_lines
from ir.tui.screens.exercise import ExerciseScreen
from ir.tui.screens.exercise_confirm import EndConfirm
from ir.tui.screens.help import HelpScreen, help_lines
from ir.tui.screens.prompt import ChoicePrompt, TextPrompt
from tests.tui.exercise_consoles import begin, console, panel_text, records, settle

SIZE = (130, 40)


def test_the_panel_shows_the_clock_the_next_inject_and_the_expectations_turning(tmp_path: Path) -> None:
    session = begin(tmp_path)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, ExerciseScreen)
            shown = panel_text(app)
            assert "Clock  0:00 of 10:00 · clock manual" in shown
            assert "Next   I1 A customer forwards a reply that contains an access key — in 1:00" in shown
            assert "You    fran (facilitator) · this console drives the clock" in shown
            assert "… E3 Every key of the agent" in shown and "pending: not yet: revoked(support-bot)" in shown
            assert "to acknowledge — · to contain —" in shown
            await pilot.press("t")
            await pilot.press(*"2m", "enter")  # I1, I2 and the alert I3 come due; the route contains the agent
            await settle(app, pilot)
            app.rescore(force=True)
            await settle(app, pilot)
            shown = panel_text(app)
            assert "Clock  2:00 of 10:00" in shown and "in 3:00 I4 The owner asks what happened" in shown
            assert "card for ic: Ticket 4821 reply shows an AKIA key" in shown
            assert "The reply to ticket 4821 ends with `AKIADRILLSUPPORT0001`." in shown
            assert "world: create_user AKIADRILLHELPER00001 applied" in shown
            assert "✓ E1 The container is frozen within 2 minutes of the alert" in shown  # turned while we watched
            assert "P O1 Contain the agent within minutes of the alert" in shown
            assert "to acknowledge — · to contain 0.000s" in shown  # the route contained; no person acted yet
            assert "[ 2:00] inject I3 delivered: Alertmanager fires on the agent's egress" in shown

    asyncio.run(scenario())
    session.close()


def test_every_facilitator_key_writes_its_record(tmp_path: Path) -> None:
    session = begin(tmp_path)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("p")
            await settle(app, pilot)
            assert records(session)[-1].type == "clock.paused" and "PAUSED" in panel_text(app)
            await pilot.press("p")
            await settle(app, pilot)
            assert records(session)[-1].type == "clock.resumed"
            await pilot.press("t")
            assert isinstance(app.screen, TextPrompt)
            await pilot.press(*"1m10s", "enter")
            await settle(app, pilot)
            advanced = records(session, "clock.advanced")[-1].data
            assert (advanced["by"], advanced["seconds"], advanced["exercise_s"]) == ("fran", 70.0, 70.0)
            assert [r.data["inject"] for r in records(session, "inject.delivered")] == ["I1"]  # due at 1m
            await pilot.press("f")
            await settle(app, pilot)
            fired = records(session, "inject.delivered")[-1].data
            assert (fired["inject"], fired["fired_by"], fired["exercise_s"]) == ("I2", "fran", 70.0)
            await pilot.press("m")
            assert isinstance(app.screen, ChoicePrompt) and [k for k, _ in app.screen.choices] == ["E5"]
            await pilot.press("enter")  # E5
            await pilot.press("down", "enter")  # failed
            await pilot.press(*"owner not told", "enter")
            await settle(app, pilot)
            marked = records(session, "expectation.marked")[-1].data
            assert (marked["expectation"], marked["passed"], marked["by"], marked["note"]) == (
                "E5",
                False,
                "fran",
                "owner not told",
            )
            await pilot.press("n")
            await pilot.press(*"IC asked for CloudTrail", "enter")
            await settle(app, pilot)
            note = records(session, "note")[-1].data
            assert (note["by"], note["text"]) == ("fran", "IC asked for CloudTrail")
            await pilot.press("E")
            assert isinstance(app.screen, EndConfirm)
            await pilot.press("n")  # keep going: nothing recorded
            await settle(app, pilot)
            assert records(session, "exercise.ended") == []
            await pilot.press("E", "y")
            await settle(app, pilot)
            ended = records(session, "exercise.ended")[-1].data
            assert (ended["reason"], ended["by"]) == ("facilitator", "fran")
            screen = app.screen
            assert isinstance(screen, ExerciseScreen)
            assert not any(screen.check_action(a, ()) for a in ("toggle_clock", "advance", "fire_next", "note"))
            count = len(records(session))
            await pilot.press("p", "f", "n")  # hidden once it ended: nothing happens
            await settle(app, pilot)
            assert len(records(session)) == count and isinstance(app.screen, ExerciseScreen)
            assert "ENDED: facilitator" in panel_text(app)

    asyncio.run(scenario())
    session.close()
    assert session.sandbox.verify().problems == []


def test_facilitator_keys_do_nothing_inside_a_form(tmp_path: Path) -> None:
    session = begin(tmp_path)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            before = len(records(session))
            await pilot.press("n")
            await pilot.press("p", "f", "E", "t", "m", "X")
            await settle(app, pilot)
            assert isinstance(app.screen, TextPrompt)
            assert app.screen.query_one(Input).value == "pfEtmX"  # the letters went into the note
            await pilot.press("escape")
            await settle(app, pilot)
            assert len(records(session)) == before  # no pause, no inject, no note
            assert isinstance(app.screen, ExerciseScreen)

    asyncio.run(scenario())
    session.close()


def test_the_keys_are_in_the_footer_and_the_help(tmp_path: Path) -> None:
    session = begin(tmp_path)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            lines = {description: now for _key, description, _doc, now in help_lines(app.screen)}
            for key in ("Pause/resume", "Advance", "Fire inject", "Mark", "Note", "End", "Exercise"):
                assert lines[key] is True, key
            assert lines["Take over"] is False  # this console drives the clock
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
            assert "Pause the exercise clock, or resume it when paused" in shown
            assert "Deliver the next pending inject now, whatever its time" in shown

    asyncio.run(scenario())
    session.close()


def test_a_card_addressed_to_the_viewers_role_stands_out(tmp_path: Path) -> None:
    session = begin(tmp_path)
    session.exercise.fire_next("fran")  # I1: a card for the incident commander
    as_ic = JoinedSession(session.sandbox, session.scenario, "ic", "ic").view()
    as_approver = JoinedSession(session.sandbox, session.scenario, "alex", "approver").view()

    def highlighted(view: object) -> list[str]:
        text = inject_lines(view, session.scenario)  # type: ignore[arg-type]
        return [text.plain[s.start : s.end].strip() for s in text.spans if s.style == FOR_YOU]

    assert highlighted(as_ic) == ["card for ic: Ticket 4821 reply shows an AKIA key"]
    assert highlighted(as_approver) == [] and highlighted(session.view()) == []
    session.close()


def test_the_exercise_screen_is_one_key_away_from_every_screen(tmp_path: Path) -> None:
    session = begin(tmp_path)

    async def scenario() -> None:
        app = console(session)
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            await pilot.press("c")
            await settle(app, pilot)
            assert not isinstance(app.screen, ExerciseScreen)
            await pilot.press("X")
            await settle(app, pilot)
            assert isinstance(app.screen, ExerciseScreen)
            assert "Clock  0:00 of 10:00" in panel_text(app)  # the new screen shows the last view at once

    asyncio.run(scenario())
    session.close()
