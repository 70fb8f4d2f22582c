"""The timeline explorer: filter by kind, tag and text; jump between suspicious events; see the raw record."""

from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Sparkline, Static
from textual.worker import get_current_worker

from ir.core.derived import verified_problem
from ir.core.journal import JOURNAL_FILE
from ir.core.text import neutralise
from ir.tui.timeline_index import TimelineIndex
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.details import DetailsPane
from ir.tui.widgets.timeline_view import TimelineView


class TimelineScreen(Screen[None]):
    """A case's timeline (or any timeline JSONL file)."""

    BINDINGS: ClassVar[list[BindingType]] = [("slash", "filter", "Filter"), ("escape", "back", "Back")]

    class Loaded(Message):
        """The index is built."""

        def __init__(self, index: TimelineIndex) -> None:
            super().__init__()
            self.index = index

    class Refused(Message):
        """The file is a case file that does not match its journal record: nothing is shown."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Filtered(Message):
        """A filter's matching rows are ready."""

        def __init__(self, rows: array[int]) -> None:
            super().__init__()
            self.rows = rows

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.index: TimelineIndex | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        if (self.path.parent / JOURNAL_FILE).is_file():  # a case's own timeline: the case at a glance
            yield CaseHeader(self.path.parent)
        yield Input(placeholder="filter: words, kind:tool_call, tag:secret_read — Enter applies", id="filter")
        yield Sparkline([], id="rate")
        with Horizontal(id="timeline-body"):
            yield TimelineView(id="events")
            yield DetailsPane(id="details")
        yield Static(Text(f"reading {self.path}…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        case_dir = self.path.parent
        if (case_dir / JOURNAL_FILE).is_file():  # a case file: shown only if it is what the journal recorded
            reason = verified_problem(case_dir, self.path.name)
            if reason is not None:
                self.app.call_from_thread(self.post_message, TimelineScreen.Refused(reason))
                return
        index = TimelineIndex(self.path)
        self.app.call_from_thread(self.post_message, TimelineScreen.Loaded(index))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#status", Static).update(Text(neutralise(message.reason), style="bold red"))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.index = message.index
        view = self.query_one(TimelineView)
        view.show(message.index, message.index.select())
        self.query_one("#rate", Sparkline).data = message.index.per_minute()
        flagged = sum(message.index.suspicious)
        self.query_one("#status", Static).update(
            Text(f"{len(message.index):,} events, {flagged:,} suspicious — n: next suspicious, /: filter")
        )
        view.focus()

    @on(TimelineView.Highlighted)
    def _highlighted(self, message: TimelineView.Highlighted) -> None:
        if self.index is None:
            return
        event = self.index.event(message.row)
        why = "\n".join(f"{t['tag']}: {t['why']}" for t in event.get("tags") or [])
        body = json.dumps({k: v for k, v in event.items() if k != "tags"}, indent=1, default=str)
        text = (f"{why}\n\n" if why else "") + body
        self.query_one(DetailsPane).show(Text(neutralise(text, keep_newlines=True)))

    def action_filter(self) -> None:
        """Focus the filter."""
        self.query_one("#filter", Input).focus()

    @on(Input.Submitted, "#filter")
    def _filter(self, message: Input.Submitted) -> None:
        if self.index is None:
            return
        self.query_one("#status", Static).update(Text(f"filtering {len(self.index):,} events…"))
        self._select(self.index, message.value)

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def _select(self, index: TimelineIndex, query: str) -> None:
        """Apply a filter off the UI thread: the screen keeps scrolling while a million lines are searched."""
        kind = tag = None
        words = []
        for token in query.split():
            if token.startswith("kind:"):
                kind = token.removeprefix("kind:")
            elif token.startswith("tag:"):
                tag = token.removeprefix("tag:")
            else:
                words.append(token)
        rows = index.select(kind=kind, tag=tag, text=" ".join(words) or None)
        if not get_current_worker().is_cancelled:  # a newer filter replaced this one: drop its rows
            self.app.call_from_thread(self.post_message, TimelineScreen.Filtered(rows))

    @on(Filtered)
    def _filtered(self, message: Filtered) -> None:
        if self.index is None:
            return
        view = self.query_one(TimelineView)
        view.show(self.index, message.rows)
        self.query_one("#status", Static).update(Text(f"{len(message.rows):,} of {len(self.index):,} events match"))
        view.focus()

    def action_back(self) -> None:
        """Back to the case."""
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.index is not None:
            self.index.close()
