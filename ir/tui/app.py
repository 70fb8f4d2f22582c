"""The Textual application and its one factory, used by `ir` and by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from ir.core.workspace import Workspace
from ir.tui.commands import IrCommands


class IrApp(App[None]):
    """agent-ir's console: agents, incidents, alerts, runs."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live in other folders
    TITLE = "agent-ir"
    COMMANDS = App.COMMANDS | {IrCommands}  # Ctrl+P: every screen and action by name (ir/tui/commands.py)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "show_agents", "Agents"),
        Binding("c", "show_cases", "Incidents"),
        Binding("q", "leave", "Quit"),
        Binding("question_mark", "help", "Help", show=False),  # every screen has it: the footer keeps its room
    ]
    FORM_SAFE: ClassVar[frozenset[str]] = frozenset({"show_agents", "show_cases", "leave"})
    """App actions that would throw away a half-filled form: not bound while one is open."""

    def __init__(self, workspace: Workspace, backends: Any = None, actor: str = "responder") -> None:
        super().__init__()
        from ir.backends import backends_for

        self.workspace = workspace
        self.backends = backends or backends_for(workspace)  # behind the exercise interlock in a sandbox
        self.actor = actor

    def on_mount(self) -> None:
        """Open on the first screen (the agents)."""
        self.sub_title = self.workspace.settings.name
        self.screen_change_signal.subscribe(self, self._screen_changed)  # the exercise banner, in a sandbox
        self.push_screen(self.first_screen())

    def first_screen(self) -> Screen[None]:
        """The screen the console opens on: the agents."""
        from ir.tui.screens.agents import AgentsScreen

        return AgentsScreen()

    def _screen_changed(self, screen: Screen[object]) -> None:
        """Each screen as it appears: in an exercise's sandbox, it gets the banner (nothing elsewhere)."""
        from ir.tui.widgets.exercise_banner import mount_banner

        screen.call_later(mount_banner, screen, self.workspace)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that leave the screen are not active while a form or a modal is open (`ctrl+q` still quits)."""
        from ir.tui.forms import form_open

        return not (action in self.FORM_SAFE and form_open(self.screen, self.focused))

    async def action_leave(self) -> None:
        """`q`: quit, asking first while a run is in progress (a form's letters never reach it)."""
        await self.action_quit()

    async def action_quit(self) -> None:
        """Quit; while a run is in progress, ask first and name the case left to resume."""
        from ir.tui.quit_confirm import QuitConfirm, resume_hint
        from ir.tui.screens.run import RunScreen

        runs = [s for s in self.screen_stack if isinstance(s, RunScreen) and s.live_case]
        if not runs:
            self.exit()
            return
        live = str(runs[0].live_case)

        def answered(quit_anyway: bool | None) -> None:
            if quit_anyway:
                for run in runs:
                    run.stop()
                self.exit(return_code=130, message=resume_hint(live))

        if not isinstance(self.screen, QuitConfirm):
            self.push_screen(QuitConfirm(live), answered)

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

    def action_show_alerts(self) -> None:
        """Go to the alerts screen."""
        from ir.tui.screens.alerts import AlertsScreen

        self.switch_screen(AlertsScreen())


def make_app(workspace: Workspace, backends: Any = None, actor: str = "responder", exercise: Any = None) -> IrApp:
    """The app for `workspace` (backends default to the workspace's own); with `exercise` (a session
    of `ir.tabletop.sessions`), the console on that exercise, opening on its panel."""
    if exercise is not None:
        from ir.tui.exercise_app import ExerciseApp

        return ExerciseApp(workspace, exercise, backends=backends, actor=actor)
    return IrApp(workspace, backends=backends, actor=actor)
