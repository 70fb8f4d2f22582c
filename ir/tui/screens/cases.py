"""The incidents screen: every case, newest first; Enter opens one, n starts a new one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from ir.core.case import list_cases


class CasesScreen(Screen[None]):
    """Cases with their agent, playbook and run status."""

    BINDINGS: ClassVar[list[BindingType]] = [("n", "new", "New incident")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="cases", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("case", "agent", "playbook", "status")
        self._fill()
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from a run: a case may have been added or moved on."""
        if self.query_one(DataTable).columns:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for path, state in list_cases(self.app.workspace.cases_dir):  # type: ignore[attr-defined]
            book = state.started.get("playbook", {})
            agent = state.started.get("agent", {}).get("id", "?")
            table.add_row(
                path.name,
                agent,
                f"{book.get('id', '?')} {book.get('version', '')}",
                str(state.run_status),
                key=str(path),
            )
        table.move_cursor(row=row)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        from pathlib import Path

        from ir.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(case_dir=Path(str(event.row_key.value))))

    def action_new(self) -> None:
        """Start a new incident: choose the agent, then the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self)
