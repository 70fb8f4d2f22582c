"""The agents screen: the inventory with each agent's status; Enter starts an incident on one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from ir.core.case import agent_status, list_cases
from ir.core.text import neutralise


class AgentsScreen(Screen[None]):
    """Every agent in agents.yaml: status from its cases, owner, purpose."""

    BINDINGS: ClassVar[list[BindingType]] = [("enter", "start", "Start incident")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="agents", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("agent", "status", "backend", "owner", "purpose")
        self._fill()
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from a run: statuses may have changed."""
        if self.query_one(DataTable).columns:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        workspace = self.app.workspace  # type: ignore[attr-defined]
        cases = list_cases(workspace.cases_dir)
        for agent in workspace.inventory.agents.values():
            status, _case = agent_status(cases, agent.id, str(agent.status))
            table.add_row(
                agent.id, status, agent.backend, neutralise(agent.owner), neutralise(agent.purpose), key=agent.id
            )
        table.move_cursor(row=row)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._start(str(event.row_key.value))

    def action_start(self) -> None:
        """Start an incident for the highlighted agent: choose the playbook."""
        table = self.query_one(DataTable)
        if table.row_count:
            self._start(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def _start(self, agent_id: str) -> None:
        from ir.tui.screens.start import start_incident

        start_incident(self, agent_id)
