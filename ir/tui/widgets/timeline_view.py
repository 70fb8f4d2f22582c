"""A virtual list over a TimelineIndex: only the visible lines are ever read or drawn; a filter's
matches can be marked in the whole list and visited in turn."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ir.tui.timeline_index import TimelineIndex

CURSOR = Style(reverse=True)
SUSPICIOUS = Style(color="red", bold=True)
MATCH = Style(underline=True)


class TimelineView(ScrollView, can_focus=True):
    """Events of a timeline, one per line, with a cursor; `n` jumps to the next suspicious one."""

    DEFAULT_CSS = """
    TimelineView { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
        Binding("home", "move(-1000000000)", "Top", show=False),
        Binding("end", "move(1000000000)", "End", show=False),
        Binding("n", "next_suspicious", "Next suspicious"),
        Binding("right_square_bracket", "match(1)", "Next match", show=False),
        Binding("left_square_bracket", "match(-1)", "Previous match", show=False),
    ]
    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to an event (`row` is its row in the index)."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.index: TimelineIndex | None = None
        self.rows: array[int] = array("l")
        self.marks: array[int] = array("l")
        """Rows of the index a filter matched, ascending, marked while the whole list shows."""

    def show(self, index: TimelineIndex, rows: array[int], marks: array[int] | None = None) -> None:
        """Display `rows` of `index` (after loading, or a filter), with `marks` underlined."""
        self.index, self.rows = index, rows
        self.marks = marks if marks is not None else array("l")
        self.virtual_size = Size(self.size.width, len(rows))
        self.cursor = 0
        self.scroll_to(y=0, animate=False)
        self.refresh()
        if rows:
            self.post_message(TimelineView.Highlighted(rows[0]))

    def render_line(self, y: int) -> Strip:
        """The event on screen line `y` (read from the file only now)."""
        width = self.size.width
        line = int(self.scroll_offset.y) + y
        if self.index is None or line >= len(self.rows):
            return Strip.blank(width)
        row = self.rows[line]
        text = self.index.line(row, width).ljust(width)
        style = CURSOR if line == self.cursor else SUSPICIOUS if self.index.suspicious[row] else Style()
        if self._marked(row):
            style += MATCH
        return Strip([Segment(text, style)], width)

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        for line in (old, new):  # only the two lines that changed are drawn again
            if top <= line < top + self.size.height:
                self.refresh_line(line - top)
        if self.rows:
            self.post_message(TimelineView.Highlighted(self.rows[new]))

    def action_move(self, delta: int) -> None:
        """Move the cursor, keeping it on screen."""
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, self.cursor + delta))
        top, height = int(self.scroll_offset.y), self.size.height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def _marked(self, row: int) -> bool:
        """Whether `row` is a marked match (a binary search: no set of a million rows is built)."""
        at = bisect_left(self.marks, row)
        return at < len(self.marks) and self.marks[at] == row

    def go_to_row(self, row: int) -> None:
        """Put the cursor on the line showing index row `row` (rows are ascending)."""
        line = bisect_left(self.rows, row)
        if line < len(self.rows) and self.rows[line] == row:
            self.action_move(line - self.cursor)

    def action_match(self, step: int) -> None:
        """Jump to the next (1) or previous (-1) marked match."""
        if not self.marks or not self.rows:
            self.notify("no matches marked: filter with /, then z shows them among all events")
            return
        row = self.rows[self.cursor]
        at = bisect_right(self.marks, row) if step > 0 else bisect_left(self.marks, row) - 1
        if not 0 <= at < len(self.marks):
            self.notify(f"no match {'after' if step > 0 else 'before'} this one")
            return
        self.go_to_row(self.marks[at])

    def action_next_suspicious(self) -> None:
        """Jump to the next event that carries a suspicious tag."""
        if self.index is None:
            return
        for line in range(self.cursor + 1, len(self.rows)):
            if self.index.suspicious[self.rows[line]]:
                self.action_move(line - self.cursor)
                return
        self.notify("no suspicious event after this one")
