"""A full-screen table (agents, incidents, alerts): refilled whenever the screen comes back into view, and
when another process adds a case or writes to one (a timer looks at the cases folder, and at whatever
else a screen's `stamp()` names)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from ir.tui.journal_watch import cases_stamp

LIST_POLL_SECONDS = 1.0
"""How often a list looks at the cases folder: one listdir and one stat() per case a tick."""


class ListingScreen(Screen[None]):
    """Rows from `rows()`; Enter (or a click) opens the highlighted one with `open()`.

    Subclasses bind Enter to `open` with priority, so the footer names what Enter does (the
    table's own Enter binding is hidden and would otherwise win)."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    TABLE_ID: ClassVar[str] = "rows"
    TITLE_TEXT: ClassVar[str] = ""
    """The table's title, on its top border."""
    _stamp: object = ()
    DEFAULT_CSS = """
    ListingScreen DataTable { border-top: solid $primary; }
    """

    def compose(self) -> ComposeResult:
        yield Header()
        yield from self.above_table()
        yield DataTable(id=self.TABLE_ID, cursor_type="row")
        yield from self.below_table()
        yield Footer()

    def above_table(self) -> ComposeResult:
        """Widgets between the header and the table (none here)."""
        yield from ()

    def below_table(self) -> ComposeResult:
        """Widgets between the table and the footer (none here)."""
        yield from ()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.COLUMNS)
        table.border_title = self.TITLE_TEXT
        self.refill()
        table.focus()
        self.set_interval(LIST_POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Refill when a case was added, removed or written to since the last look (by anyone)."""
        if self.app.screen is self and self.stamp() != self._stamp:
            self.refill()

    def stamp(self) -> object:
        """What the rows depend on, read without reading them: here the cases folder's stamp."""
        return cases_stamp(self._cases_dir())

    def _cases_dir(self) -> Path:
        return Path(self.app.workspace.cases_dir)  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        """Back from another screen: what the rows show may have changed."""
        if self.query_one(DataTable).columns:
            self.refill()

    def refill(self) -> None:
        """Rebuild the rows, keeping the cursor on the same row (by key: a new case may come first)."""
        self._stamp = self.stamp()  # before reading, so a write during it is seen next tick
        table = self.query_one(DataTable)
        row = table.cursor_row
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key if table.row_count else None
        table.clear()
        for row_key, cells in self.rows():
            table.add_row(*cells, key=row_key)
        if key is not None and key in table.rows:
            row = table.get_row_index(key)
        table.move_cursor(row=row)

    def rows(self) -> Iterable[tuple[str, Sequence[str | Text]]]:
        """(key, cells) of every row, in order (world text as `Text`: a `str` cell is read as markup)."""
        raise NotImplementedError

    def open(self, key: str) -> None:
        """What Enter on a row does."""
        raise NotImplementedError

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.open(str(event.row_key.value))

    def action_open(self) -> None:
        """Open the highlighted row."""
        table = self.query_one(DataTable)
        if table.row_count:
            self.open(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
