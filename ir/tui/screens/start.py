"""Starting an incident from the console: choose the agent (unless known), then the playbook.

Before a run screen opens, the console says what the engine would refuse: an agent that already
has an open case of the playbook (or a run in progress) is offered that case instead, and the
re-enable playbook does not start while its incident has no approved, verifiable decision.
"""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen

from ir.core.agent_lock import holder, open_case
from ir.core.case import load_state
from ir.core.playbook import list_playbooks
from ir.core.text import neutralise
from ir.core.workspace import Workspace
from ir.tui.screens.prompt import ChoicePrompt, Notice

REENABLE = "agent-reenable"
"""The shipped playbook that releases an incident's containment (`incident` names the case)."""


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
                open_or_start(screen, agent, playbook)

        app.push_screen(ChoicePrompt(f"Start an incident for {agent} with which playbook?", books), with_playbook)

    if agent_id is not None:
        with_agent(agent_id)
        return
    agents = [(a.id, neutralise(f"{a.id} — {a.purpose} ({a.owner})")) for a in workspace.inventory.agents.values()]
    app.push_screen(ChoicePrompt("Start an incident for which agent?", agents), with_agent)


def busy_with(workspace: Workspace, agent_id: str, playbook: str) -> tuple[Path, str] | None:
    """(the case, why) when the engine would refuse a new run of `playbook` on the agent, else None.

    A run in progress on the agent holds its lock (`AgentBusy`); an unfinished case of the same
    playbook is the one open case of that (agent, playbook) pair.
    """
    meta = holder(workspace.root, agent_id)
    if meta and meta.get("case") and (workspace.cases_dir / meta["case"]).is_dir():
        who = meta.get("actor") or "someone"
        return workspace.cases_dir / meta["case"], f"{who} is running case {meta['case']} on {agent_id} right now"
    found = open_case(workspace.cases_dir, agent_id, playbook)
    if found is not None:
        status = load_state(found).run_status
        return found, f"{agent_id} already has an open {playbook} case {found.name} ({status})"
    return None


def open_or_start(screen: Screen[None], agent_id: str, playbook: str, params: dict[str, str] | None = None) -> None:
    """Open the run screen for a new run, or — when the agent already has an open case the engine
    would refuse to duplicate — say so and offer to open that case instead."""
    from ir.tui.screens.run import RunScreen

    app = screen.app
    busy = busy_with(app.workspace, agent_id, playbook)  # type: ignore[attr-defined]
    if busy is None:
        app.push_screen(RunScreen(agent_id=agent_id, playbook=playbook, params=params))
        return
    case_dir, why = busy

    def chosen(choice: str | None) -> None:
        if choice == "open":
            app.push_screen(RunScreen(case_dir=case_dir))

    question = f"{neutralise(why)}: a second case would be refused. Open it instead?"
    app.push_screen(ChoicePrompt(question, [("open", f"Open case {case_dir.name}"), ("cancel", "Cancel")]), chosen)


def reenable_refusal(workspace: Workspace, incident: Path) -> str | None:
    """Why the re-enable playbook would be refused for this incident case, or None when it may run
    (the engine's own gate: the agent's latest containment, an intact journal, an approved reenable
    decision whose signatures verify now)."""
    from ir.actions import default_registry
    from ir.core.errors import IrError
    from ir.core.release import release_refusal
    from ir.core.signing_trust import workspace_trust

    try:
        agent = load_state(incident).agent_id
        refusal, _decision = release_refusal(incident, "", agent, workspace_trust(workspace), default_registry())
    except IrError as exc:
        return str(exc)
    return refusal


def start_reenable(screen: Screen[None], incident: Path, agent_id: str) -> None:
    """Start the re-enable playbook for an incident case — unless its release would be refused:
    then say why (in a notice that stays) and start nothing."""
    workspace = screen.app.workspace  # type: ignore[attr-defined]
    refusal = reenable_refusal(workspace, incident)
    if refusal is not None:
        screen.app.push_screen(Notice("Re-enable would be refused: nothing was started", neutralise(refusal)))
        return
    open_or_start(screen, agent_id, REENABLE, {"incident": incident.name})
