"""A virtual list over a TimelineIndex: only the visible lines are ever read or drawn."""

from __future__ import annotations

from array import array
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

    def show(self, index: TimelineIndex, rows: array[int]) -> None:
        """Display `rows` of `index` (after loading, or a filter)."""
        self.index, self.rows = index, rows
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

    def action_next_suspicious(self) -> None:
        """Jump to the next event that carries a suspicious tag."""
        if self.index is None:
            return
        for line in range(self.cursor + 1, len(self.rows)):
            if self.index.suspicious[self.rows[line]]:
                self.action_move(line - self.cursor)
                return
        self.notify("no suspicious event after this one")
