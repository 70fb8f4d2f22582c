"""The run screen's output log: one plain-text line per record or event worth one, searchable."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.text import Text
from textual.widgets import RichLog

from ir.core.journal import Record
from ir.core.records import Payload, payload_of
from ir.core.text import neutralise
from ir.tui.run_lines import log_line

MATCH_STYLE = "bold black on yellow"
CURRENT_STYLE = "bold black on bright_green"


class RunLog(RichLog):
    """What happened in a run, as lines: a reopened case's journal at once, then live events as they come.

    Text from the agent's world is neutralised and never read as markup. A search highlights the
    lines whose plain text holds the query (case-insensitive, the query taken literally) and moves
    between them.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, wrap=True, markup=False, highlight=False)
        self.entries: list[Text] = []
        """Every line as first written, unhighlighted: what a search re-renders from."""
        self.pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []
        """Indexes into `entries` of the lines that match the search."""
        self.current = -1
        """Which of `matches` the view is on (-1: none yet)."""
        self._offsets: list[int] = []
        """The first rendered line of each entry (wrapping makes one entry several lines)."""

    def add(self, payload: Payload) -> None:
        """Log the line one record or event is worth, if any."""
        line = log_line(payload)
        if line is not None:
            self.say(line)

    def replay(self, records: Iterable[Record]) -> None:
        """Log every record of a journal, in order."""
        for rec in records:
            self.add(payload_of(rec, f"journal seq {rec.seq}"))

    def summary(self, lines: Iterable[str]) -> None:
        """The end of a run, as the command line prints it (status, steps, follow-ups, still live, head)."""
        self._put(Text("── end of run ──", style="bold"))
        for line in lines:
            self.say(line)

    def say(self, text: str) -> None:
        """Log one line of our own (an error, a notice)."""
        self._put(Text(neutralise(text)))

    def _put(self, text: Text) -> None:
        self.entries.append(text)
        if self.pattern is not None and self.pattern.search(text.plain):
            self.matches.append(len(self.entries) - 1)
        self._render_entry(len(self.entries) - 1)

    def _render_entry(self, index: int) -> None:
        """Write one entry, its matches highlighted, and note where its first line lands."""
        text = self.entries[index]
        if self.pattern is not None:
            text = text.copy()
            current = self.current >= 0 and self.matches[self.current] == index
            for found in self.pattern.finditer(text.plain):
                text.stylize(CURRENT_STYLE if current else MATCH_STYLE, found.start(), found.end())
        self._offsets.append(len(self.lines))
        self.write(text)

    def search(self, query: str) -> None:
        """Highlight every line holding `query` (plain text, any case); an empty query clears the search."""
        self.pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
        pattern = self.pattern
        self.matches = [i for i, t in enumerate(self.entries) if pattern and pattern.search(t.plain)]
        self.current = -1
        self.auto_scroll = pattern is None  # while searching, new lines do not pull the view away
        self._rerender()

    def _rerender(self) -> None:
        y = self.scroll_y
        self.clear()
        self._offsets = []
        for index in range(len(self.entries)):
            self._render_entry(index)
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True)
        else:
            self.scroll_to(y=y, animate=False, immediate=True)

    def step(self, delta: int) -> bool:
        """Go to the next (`delta` 1) or previous (-1) matching line and bring it into view; False if none."""
        if not self.matches:
            return False
        if self.current < 0:
            self.current = 0 if delta > 0 else len(self.matches) - 1
        else:
            self.current = (self.current + delta) % len(self.matches)
        self._rerender()
        entry = self.matches[self.current]
        if entry < len(self._offsets):
            self.scroll_to(y=max(0, self._offsets[entry] - self.size.height // 3), animate=False, immediate=True)
        return True

    def count(self) -> str:
        """`3 of 12`, `12 matches`, or `no match`."""
        if not self.matches:
            return "no match"
        if self.current < 0:
            return f"{len(self.matches)} matches — ]: next, [: previous"
        return f"{self.current + 1} of {len(self.matches)} — ]: next, [: previous"
