"""The agents screen: the inventory with each agent's status and open cases; Enter starts an incident on one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from ir.core.agent_lock import OPEN_STATUSES
from ir.core.case import CaseState, agent_status, list_cases
from ir.core.text import neutralise
from ir.tui.screens.cases import short_case_id
from ir.tui.screens.listing import ListingScreen


def open_cases(cases: list[tuple[Path, CaseState]], agent_id: str) -> str:
    """The agent's unfinished cases, newest first: `…afc8 agent-compromise awaiting_approval`."""
    found = [
        f"{short_case_id(path.name, agent_id).split('…')[-1]} {state.run.playbook.id} {state.run_status}"
        for path, state in cases
        if state.run is not None and state.agent_id == agent_id and state.run_status in OPEN_STATUSES
    ]
    return "; ".join(found)


class AgentsScreen(ListingScreen):
    """Every agent in agents.yaml: status from its cases, owner, purpose."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Start incident", priority=True)]
    COLUMNS = ("agent", "status", "open case", "backend", "owner", "purpose")
    TABLE_ID = "agents"
    TITLE_TEXT = "agents (agents.yaml)"

    def rows(self) -> Iterable[tuple[str, Sequence[str]]]:
        workspace = self.app.workspace  # type: ignore[attr-defined]
        cases = list_cases(workspace.cases_dir)
        for agent in workspace.inventory.agents.values():
            status, _case = agent_status(cases, agent.id, str(agent.status))
            cells = (agent.id, status, open_cases(cases, agent.id), agent.backend)
            yield agent.id, (*cells, neutralise(agent.owner), neutralise(agent.purpose))

    def open(self, key: str) -> None:
        """Start an incident for the agent: choose the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self, key)
