"""The Textual application and its one factory, used by `ir` and by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from ir.core.workspace import Workspace
from ir.tui.commands import IrCommands


class IrApp(App[None]):
    """agent-ir's console: agents, incidents, runs."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live in other folders
    TITLE = "agent-ir"
    COMMANDS = App.COMMANDS | {IrCommands}  # Ctrl+P: every screen and action by name (ir/tui/commands.py)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "show_agents", "Agents"),
        Binding("c", "show_cases", "Incidents"),
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", show=False),  # every screen has it: the footer keeps its room
    ]

    def __init__(self, workspace: Workspace, backends: Any = None, actor: str = "responder") -> None:
        super().__init__()
        from ir.backends import WorkspaceBackends

        self.workspace = workspace
        self.backends = backends or WorkspaceBackends(workspace)
        self.actor = actor

    def on_mount(self) -> None:
        """Open on the agents screen."""
        from ir.tui.screens.agents import AgentsScreen

        self.sub_title = self.workspace.settings.name
        self.push_screen(AgentsScreen())

    def action_show_agents(self) -> None:
        """Go to the agents screen."""
        from ir.tui.screens.agents import AgentsScreen

        self.switch_screen(AgentsScreen())

    def action_help(self) -> None:
        """Show the keys of this screen, one line each."""
        from ir.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_show_cases(self) -> None:
        """Go to the incidents screen."""
        from ir.tui.screens.cases import CasesScreen

        self.switch_screen(CasesScreen())


def make_app(workspace: Workspace, backends: Any = None, actor: str = "responder") -> IrApp:
    """The app for `workspace` (backends default to the workspace's own)."""
    return IrApp(workspace, backends=backends, actor=actor)
