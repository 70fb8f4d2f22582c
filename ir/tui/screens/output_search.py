"""Search in the run screen's output: `/` opens a search line, `]` and `[` go from match to match,
Escape closes it (the timeline explorer's keys, so a responder learns them once)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Static

from ir.tui.forms import form_open
from ir.tui.screens.case_links import CaseLinks
from ir.tui.widgets.run_log import RunLog


class OutputSearchBar(Horizontal):
    """The search line under the output: the query and how many lines match."""

    DEFAULT_CSS = """
    OutputSearchBar { height: 3; }
    OutputSearchBar Input { width: 1fr; }
    OutputSearchBar Static { width: auto; padding: 1 1 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search the output (plain text); Enter, then ] and [; Escape closes", id="output-query")
        yield Static(id="output-count")


class OutputSearch(CaseLinks):
    """The keys and handlers of the output search, for a screen with a `RunLog` in `#detail`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search_output", "Search output", show=False),  # named by `?` and in docs/cli.md
        Binding("right_square_bracket", "output_match(1)", "Next match", show=False),
        Binding("left_square_bracket", "output_match(-1)", "Previous match", show=False),
    ]

    def action_search_output(self) -> None:
        """Open the search line under the output (or go back to it)."""
        if form_open(self.app.screen, self.focused):
            return
        bars = self.query(OutputSearchBar)
        if not bars:
            self.query_one("#detail").mount(OutputSearchBar())
            self.call_after_refresh(lambda: self.query_one("#output-query", Input).focus())
        else:
            self.query_one("#output-query", Input).focus()

    def action_output_match(self, delta: int) -> None:
        """Bring the next (1) or previous (-1) line matching the search into view."""
        if form_open(self.app.screen, self.focused):
            return
        log = self.query_one(RunLog)
        if log.pattern is None:
            self.notify("no search: press / to search the output")
            return
        log.step(delta)
        self._show_count()

    @on(Input.Changed, "#output-query")
    def _query_changed(self, message: Input.Changed) -> None:
        self.query_one(RunLog).search(message.value)
        self._show_count()

    @on(Input.Submitted, "#output-query")
    def _query_submitted(self, _message: Input.Submitted) -> None:
        log = self.query_one(RunLog)
        log.step(1)
        self._show_count()
        log.focus()  # so ] and [ are keys again, not letters typed into the query

    def _show_count(self) -> None:
        log = self.query_one(RunLog)
        for count in self.query("#output-count").results(Static):
            count.update(Text(log.count() if log.pattern is not None else ""))

    def action_back(self) -> None:
        """Escape: close the search if one is open, else back to the previous screen."""
        bars = self.query(OutputSearchBar)
        if bars:
            bars.remove()
            log = self.query_one(RunLog)
            log.search("")
            log.focus()
            return
        super().action_back()
