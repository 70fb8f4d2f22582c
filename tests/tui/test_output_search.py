"""Search in the run screen's output: `/` opens it, matches are highlighted and counted, `]` and `[`
bring the next and previous matching line into view, Escape closes it; the query is plain text."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner
from rich.style import Style
from textual.widgets import Input, Static

from ir.cli.main import cli
from ir.tui.screens.help import help_lines
from ir.tui.screens.output_search import OutputSearchBar
from ir.tui.screens.run import RunScreen
from ir.tui.widgets.run_log import CURRENT_STYLE, MATCH_STYLE, RunLog
from tests.cli.test_interventions import waiting_case
from tests.tui.test_console import app_for
from tests.tui.test_run_keys import open_newest_case


def styled(log: RunLog, style: str) -> list[str]:
    """The text of every rendered segment drawn in `style`."""
    wanted = Style.parse(style)
    return [seg.text for strip in log.lines for seg in strip if seg.style == wanted]


def on_screen(log: RunLog) -> str:
    """The lines the log shows now."""
    return "\n".join("".join(seg.text for seg in log.render_line(y)) for y in range(log.size.height))


def test_search_the_output_count_and_move_between_matches_then_escape_closes_it(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    runner = CliRunner()  # `ir note` in this process: forty interpreter starts were most of this test's time
    for n in range(40):  # a log longer than the screen, with two notes far apart that say "[red]marker[/red]"
        text = "[red]marker[/red] first" if n == 3 else "[red]marker[/red] last" if n == 36 else f"filler {n}"
        done = runner.invoke(cli, ["-w", str(ws), "note", case.name, text], env={"IR_USER": "tester"})
        assert done.exit_code == 0, done.output

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert isinstance(screen, RunScreen)
            log = screen.query_one(RunLog)
            await pilot.press("slash")
            await pilot.pause()
            assert isinstance(app.focused, Input) and app.focused.id == "output-query"
            await pilot.press(*"[RED]MARKER[/red]")  # any case; brackets are letters, not markup
            await pilot.pause()
            count = screen.query_one("#output-count", Static)
            assert "2 matches" in str(count.render())
            assert styled(log, MATCH_STYLE) == ["[red]marker[/red]", "[red]marker[/red]"]
            await pilot.press("enter")  # the first match, in view, the keys ] and [ live again
            await pilot.pause()
            assert "1 of 2" in str(count.render())
            assert styled(log, CURRENT_STYLE) == ["[red]marker[/red]"]
            first_y = log.scroll_y
            visible = on_screen(log)
            assert "marker[/red] first" in visible
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert "2 of 2" in str(count.render())
            assert log.scroll_y > first_y
            visible = on_screen(log)
            assert "marker[/red] last" in visible
            await pilot.press("left_square_bracket", "left_square_bracket")
            await pilot.pause()
            assert "2 of 2" in str(count.render())  # wraps around
            await pilot.press("escape")  # closes the search, not the screen
            await pilot.pause()
            assert app.screen is screen and not screen.query(OutputSearchBar)
            assert styled(log, MATCH_STYLE) == [] and styled(log, CURRENT_STYLE) == []
            await pilot.press("escape")  # now Escape leaves the case as before
            await pilot.pause()
            assert app.screen is not screen

    asyncio.run(scenario())


def test_help_names_the_search_keys_and_slash_is_a_letter_in_a_form(tmp_path: Path) -> None:
    ws, _case = waiting_case(tmp_path)

    async def scenario() -> None:
        app = app_for(ws)
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_newest_case(app, pilot)
            assert {"Search output", "Next match", "Previous match"} <= {line[1] for line in help_lines(screen)}
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert any("press / to search" in str(n.message) for n in app._notifications)
            await pilot.press("n")  # the note form is open: / is a letter typed into it
            await pilot.pause()
            await pilot.press("a", "slash", "b")
            await pilot.pause()
            assert isinstance(app.focused, Input) and app.focused.value == "a/b"
            assert not screen.query(OutputSearchBar)

    asyncio.run(scenario())
