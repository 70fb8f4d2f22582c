"""The agents screen: the inventory with each agent's status and open cases; Enter starts an incident on one.

While the alert breaker stands open, a red banner across the top says automation is stopped,
since when, why, and how to reset it; `l` goes to the alerts screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from ir.alerts.inbox import InboxError
from ir.core.agent_lock import OPEN_STATUSES
from ir.core.case import CaseState, agent_status, list_cases
from ir.core.text import neutralise
from ir.tui.alert_rows import breaker_state, inbox_path, inbox_stamp
from ir.tui.screens.cases import short_case_id
from ir.tui.screens.listing import ListingScreen
from ir.tui.widgets.breaker_banner import BreakerBanner


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

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Start incident", priority=True),
        Binding("l", "show_alerts", "Alerts"),
    ]
    COLUMNS = ("agent", "status", "open case", "backend", "owner", "purpose")
    TABLE_ID = "agents"
    TITLE_TEXT = "agents (agents.yaml)"
    _inbox_seen: object = None

    def above_table(self) -> ComposeResult:
        yield BreakerBanner()

    def rows(self) -> Iterable[tuple[str, Sequence[str | Text]]]:
        workspace = self.app.workspace  # type: ignore[attr-defined]
        cases = list_cases(workspace.cases_dir)
        for agent in workspace.inventory.agents.values():
            status, _case = agent_status(cases, agent.id, str(agent.status))
            cells = (agent.id, status, open_cases(cases, agent.id), agent.backend)
            yield agent.id, (*cells, Text(neutralise(agent.owner)), Text(neutralise(agent.purpose)))  # not markup

    def refill(self) -> None:
        """Read the cases and the breaker again."""
        super().refill()
        self.show_breaker()

    def poll(self) -> None:
        """The rows when a case changed; the banner when the inbox did (a flood of alerts replays no journal)."""
        super().poll()
        if self.app.screen is self and inbox_stamp(self._inbox()) != self._inbox_seen:
            self.show_breaker()

    def show_breaker(self) -> None:
        """Read the breaker: the banner shows while it is open."""
        self._inbox_seen = inbox_stamp(self._inbox())
        try:
            breaker = breaker_state(self._inbox())
        except InboxError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
            return
        self.query_one(BreakerBanner).show(breaker)

    def _inbox(self) -> Path:
        return inbox_path(self.app.workspace)  # type: ignore[attr-defined]

    def open(self, key: str) -> None:
        """Start an incident for the agent: choose the playbook."""
        from ir.tui.screens.start import start_incident

        start_incident(self, key)

    def action_show_alerts(self) -> None:
        """Go to the alerts screen: the inbox, what became of each alert, what waits for a person."""
        self.app.action_show_alerts()  # type: ignore[attr-defined]
