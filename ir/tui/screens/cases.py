"""The incidents screen: every case, newest first; Enter opens one, n starts a new one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from ir.core.case import list_cases
from ir.tui.screens.listing import ListingScreen


def short_case_id(case_id: str, agent_id: str) -> str:
    """`20261121T190857Z…afc8` for `20261121T190857Z-support-bot-agent-compromise-afc8`: the time and
    the unique tail (agent and playbook have their own columns; `ir` accepts a unique prefix)."""
    stamp, _, rest = case_id.partition(f"-{agent_id}-")
    tail = rest.rsplit("-", 1)[-1] if rest else ""
    return f"{stamp}…{tail}" if rest and tail else case_id


class CasesScreen(ListingScreen):
    """Cases with their agent, playbook and run status."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open case", priority=True),  # over the table's own (hidden) Enter
        Binding("n", "new", "New incident"),
    ]
    COLUMNS = ("status", "agent", "playbook", "case")  # status first: at 80 columns the long ids are cut, not it
    TABLE_ID = "cases"
    TITLE_TEXT = "incidents (newest first)"

    def rows(self) -> Iterable[tuple[str, Sequence[str]]]:
        for path, state in list_cases(self.app.workspace.cases_dir):  # type: ignore[attr-defined]
            playbook = f"{state.run.playbook.id} {state.run.playbook.version}" if state.run else "? "
            yield str(path), (str(state.run_status), state.agent_id, playbook, short_case_id(path.name, state.agent_id))

    def open(self, key: str) -> None:
        """Open the case on the run screen."""
        from ir.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(case_dir=Path(key)))

    def action_new(self) -> None:
        """Start a new incident: choose the agent, then the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self)
