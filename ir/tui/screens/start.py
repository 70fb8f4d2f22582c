"""Starting an incident from the console: choose the agent (unless known), then the playbook."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from ir.core.playbook import list_playbooks
from ir.core.text import neutralise
from ir.tui.screens.prompt import ChoicePrompt


def startable_playbooks(folder: Path) -> tuple[list[tuple[str, str]], list[str]]:
    """(id, label) of every workspace playbook a responder can start on an agent alone, and the bad files.

    A playbook with a required parameter that has no default (`agent-reenable` needs the
    incident) is started from its case instead; a file that does not load is left out of the
    choice and named in the second list (`file:line:col: message`, as `ir playbook lint` says).
    """
    listing = list_playbooks(folder)
    found: list[tuple[str, str]] = []
    for loaded in listing.playbooks:
        book = loaded.playbook
        if any(p.required and p.default is None for p in book.params.values()):
            continue
        found.append((book.id, neutralise(f"{book.id} {book.version} — {book.title}")))
    return sorted(found), [neutralise(problem) for problem in listing.problems]


def start_incident(screen: Screen[None], agent_id: str | None = None) -> None:
    """Ask for the agent (when not given) and the playbook, then open the run screen on them."""
    from ir.tui.screens.run import RunScreen

    app = screen.app
    workspace = app.workspace  # type: ignore[attr-defined]

    def with_agent(agent: str | None) -> None:
        if agent is None:
            return
        books, bad = startable_playbooks(workspace.playbooks_dir)
        if bad:
            names = "; ".join(bad)
            notice = f"{len(bad)} playbook file(s) not loaded: {names}"
            screen.notify(notice, severity="warning", timeout=30, markup=False)  # file names are not markup
        if not books:
            screen.notify(f"no playbook to start in {workspace.playbooks_dir}", severity="error")
            return

        def with_playbook(playbook: str | None) -> None:
            if playbook is not None:
                app.push_screen(RunScreen(agent_id=agent, playbook=playbook))

        app.push_screen(ChoicePrompt(f"Start an incident for {agent} with which playbook?", books), with_playbook)

    if agent_id is not None:
        with_agent(agent_id)
        return
    agents = [(a.id, neutralise(f"{a.id} — {a.purpose} ({a.owner})")) for a in workspace.inventory.agents.values()]
    app.push_screen(ChoicePrompt("Start an incident for which agent?", agents), with_agent)
