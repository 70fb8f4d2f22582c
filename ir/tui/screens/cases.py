"""The incidents screen: every case, newest first; Enter opens one, n starts a new one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from ir.core.case import list_cases
from ir.tui.screens.listing import ListingScreen


class CasesScreen(ListingScreen):
    """Cases with their agent, playbook and run status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open case", priority=True),  # over the table's own (hidden) Enter
        Binding("n", "new", "New incident"),
    ]
    COLUMNS = ("case", "agent", "playbook", "status")
    TABLE_ID = "cases"

    def rows(self) -> Iterable[tuple[str, Sequence[str]]]:
        for path, state in list_cases(self.app.workspace.cases_dir):  # type: ignore[attr-defined]
            playbook = f"{state.run.playbook.id} {state.run.playbook.version}" if state.run else "? "
            yield str(path), (path.name, state.agent_id, playbook, str(state.run_status))

    def open(self, key: str) -> None:
        """Open the case on the run screen."""
        from ir.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(case_dir=Path(key)))

    def action_new(self) -> None:
        """Start a new incident: choose the agent, then the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self)
