"""The timeline explorer: filter by kind, tag and text; jump between suspicious events; see the raw record,
the evidence it was read from and the steps that captured it and built the timeline."""

from __future__ import annotations

import json
from array import array
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Sparkline, Static
from textual.worker import get_current_worker

from ir.core.derived import verified_problem
from ir.core.journal import JOURNAL_FILE
from ir.core.text import neutralise
from ir.tui.event_sources import CaseSources, RawSource
from ir.tui.timeline_index import TimelineIndex
from ir.tui.widgets.case_header import CaseHeader
from ir.tui.widgets.details import DetailsPane
from ir.tui.widgets.timeline_view import TimelineView


class TimelineScreen(Screen[None]):
    """A case's timeline (or any timeline JSONL file)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("slash", "filter", "Filter"),
        # e, y, Y are named in the details pane (and by `?`): at 80 columns the footer is already full
        Binding("e", "evidence", "Evidence", show=False),
        Binding("y", "copy_call", "Copy call id", show=False),
        Binding("Y", "copy_ref", "Copy raw ref", show=False),
        Binding("z", "context", "Matches in context", show=False),  # named in the status line after a filter
        ("escape", "back", "Back"),
    ]

    class Loaded(Message):
        """The index is built."""

        def __init__(self, index: TimelineIndex, sources: CaseSources | None) -> None:
            super().__init__()
            self.index = index
            self.sources = sources

    class Refused(Message):
        """The file is a case file that does not match its journal record: nothing is shown."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Filtered(Message):
        """A filter's matching rows are ready."""

        def __init__(self, rows: array[int], query: str) -> None:
            super().__init__()
            self.rows = rows
            self.query = query

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.index: TimelineIndex | None = None
        self.case_dir = path.parent if (path.parent / JOURNAL_FILE).is_file() else None
        """The case the timeline belongs to (None: a loose timeline file)."""
        self.sources: CaseSources | None = None
        self.event: dict[str, Any] | None = None
        self.event_sources: list[RawSource] = []
        self.matches: array[int] | None = None
        """The rows the last text or tag filter matched (None: no filter applied)."""
        self._all: array[int] | None = None
        """Every row, once built (for showing the matches among all events)."""

    def compose(self) -> ComposeResult:
        yield Header()
        if self.case_dir is not None:  # a case's own timeline: the case at a glance
            yield CaseHeader(self.case_dir)
        yield Input(placeholder="filter: words, kind:tool_call, tag:secret_read — Enter applies", id="filter")
        yield Sparkline([], id="rate")
        with Horizontal(id="timeline-body"):
            yield TimelineView(id="events")
            yield DetailsPane(id="details")
        yield Static(Text(f"reading {self.path}…"), id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#events").border_title = "events"
        self.query_one("#details").border_title = "event"
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        case_dir = self.case_dir
        sources = None
        if case_dir is not None:  # a case file: shown only if it is what the journal recorded
            reason = verified_problem(case_dir, self.path.name)
            if reason is not None:
                self.app.call_from_thread(self.post_message, TimelineScreen.Refused(reason))
                return
            sources = CaseSources(case_dir, self.path.name)
        index = TimelineIndex(self.path)
        self.app.call_from_thread(self.post_message, TimelineScreen.Loaded(index, sources))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.query_one("#status", Static).update(Text(neutralise(message.reason), style="bold red"))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.index = message.index
        self.sources = message.sources
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
        event = self.event = self.index.event(message.row)
        self.event_sources = self.sources.sources(event) if self.sources is not None else []
        why = "\n".join(f"{t['tag']}: {t['why']}" for t in event.get("tags") or [])
        body = json.dumps({k: v for k, v in event.items() if k != "tags"}, indent=1, default=str)
        text = (f"{why}\n\n" if why else "") + self._recorded_by() + "\n\n" + body
        self.query_one(DetailsPane).show(Text(neutralise(text, keep_newlines=True)))

    def _recorded_by(self) -> str:
        """The evidence each raw record of the event came from, the step that captured it, the
        step that built the timeline."""
        if self.sources is None:
            return "recorded by: not from a case (a loose timeline file)\ny: copy call id · Y: copy raw ref"
        lines = ["recorded by:"]
        where = f"{self.sources.case_dir}/"
        for src in self.event_sources:
            at = f" line {src.line}" if src.line else ""
            if src.item is None:
                lines.append(f"  {src.file.replace(where, '')}{at}: {src.why}")
                continue
            item = src.item
            how = f": {item.method}" if item.method else ""
            lines.append(f"  {item.name}{at}, evidence sha256 {item.sha256[:16]}…")
            lines.append(f"    captured by step {item.step}{how}")
        if len(lines) == 1:
            lines.append("  no raw record is cited by this event")
        built = self.sources.built_by
        if built:
            lines.append(f"  timeline built by step {built} (timeline.reconstruct)")
        else:
            lines.append("  timeline: no timeline.reconstruct step in the journal")
        found = "e: open its evidence · " if any(src.item for src in self.event_sources) else ""
        lines.append(f"{found}y: copy call id · Y: copy raw ref")
        return "\n".join(lines)

    def action_evidence(self) -> None:
        """Open the evidence list with the item this event was read from highlighted."""
        from ir.tui.screens.evidence import EvidenceScreen

        if self.case_dir is None or self.sources is None:
            self.notify("not from a case: no evidence list to open", severity="warning")
            return
        found = next((src.item for src in self.event_sources if src.item is not None), None)
        if found is None:
            self.notify("this event's raw record is not among the case's evidence", severity="warning")
            return
        self.app.push_screen(EvidenceScreen(self.case_dir, highlight=found.sha256))

    def action_copy_call(self) -> None:
        """Copy the event's tool call id (its raw ref when it has none)."""
        if self.event is None:
            return
        call_id = (self.event.get("tool") or {}).get("call_id")
        if call_id:
            self._copy(str(call_id), "call id")
        else:
            self.action_copy_ref()

    def action_copy_ref(self) -> None:
        """Copy the event's raw ref (`file:line`)."""
        if self.event is not None and self.event.get("raw_ref"):
            self._copy(str(self.event["raw_ref"]), "raw ref")

    def _copy(self, text: str, what: str) -> None:
        text = neutralise(text)  # the id is the agent's: no control characters reach a paste
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {what}: {text}", markup=False)

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
            self.app.call_from_thread(self.post_message, TimelineScreen.Filtered(rows, query))

    @on(Filtered)
    def _filtered(self, message: Filtered) -> None:
        if self.index is None:
            return
        view = self.query_one(TimelineView)
        view.show(self.index, message.rows)
        self.matches = message.rows if message.query.strip() else None
        hint = " — z: show them among all events" if self.matches else ""
        self.query_one("#status", Static).update(
            Text(f"{len(message.rows):,} of {len(self.index):,} events match{hint}")
        )
        view.focus()

    def action_context(self) -> None:
        """Show every event again, the filter's matches underlined, the cursor on the same event;
        `]` and `[` then go to the next and previous match."""
        if self.index is None or not self.matches:
            self.notify("no filter matches to show: filter with / first")
            return
        view = self.query_one(TimelineView)
        here = view.rows[view.cursor] if view.rows else 0
        if self._all is None:
            self._all = self.index.select()
        view.show(self.index, self._all, marks=self.matches)
        view.go_to_row(here)
        self.query_one("#status", Static).update(
            Text(
                f"all {len(self.index):,} events, {len(self.matches):,} matches underlined — "
                "]: next match, [: previous, n: next suspicious"
            )
        )
        view.focus()

    def action_back(self) -> None:
        """Back to the case."""
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.index is not None:
            self.index.close()
