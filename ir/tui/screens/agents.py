"""The agents screen: the inventory with each agent's status; Enter starts an incident on one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType

from ir.core.case import agent_status, list_cases
from ir.core.text import neutralise
from ir.tui.screens.listing import ListingScreen


class AgentsScreen(ListingScreen):
    """Every agent in agents.yaml: status from its cases, owner, purpose."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Start incident", priority=True)]
    COLUMNS = ("agent", "status", "backend", "owner", "purpose")
    TABLE_ID = "agents"

    def rows(self) -> Iterable[tuple[str, Sequence[str]]]:
        workspace = self.app.workspace  # type: ignore[attr-defined]
        cases = list_cases(workspace.cases_dir)
        for agent in workspace.inventory.agents.values():
            status, _case = agent_status(cases, agent.id, str(agent.status))
            yield agent.id, (agent.id, status, agent.backend, neutralise(agent.owner), neutralise(agent.purpose))

    def open(self, key: str) -> None:
        """Start an incident for the agent: choose the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self, key)
