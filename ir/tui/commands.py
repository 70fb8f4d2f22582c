"""The command palette (Ctrl+P): every screen and action of the console, found by typing.

Global commands open any case, start an incident on any agent, and go to the agents, incidents or
alerts list. On a case screen: verify the case, export its timeline, write its incident report (all
three in thread workers), copy the case id or the journal head, and on the run screen jump to
any step. Every binding the current screen shows is a command too (generated from its BINDINGS,
available only when it is now).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ir.core.errors import IrError
from ir.core.journal import JOURNAL_FILE
from ir.core.text import neutralise

Command = tuple[str, str, Callable[[], Any]]
"""(text shown and matched, one line of help, what choosing it does)."""


class IrCommands(Provider):
    """agent-ir's commands for the palette, for the screen it was opened on."""

    def commands(self) -> Iterator[Command]:
        """Every command that applies now."""
        app: Any = self.app
        screen: Any = self.screen
        case_dir = getattr(screen, "case_dir", None)
        if isinstance(case_dir, Path):
            yield from self._case_commands(case_dir)
            yield from self._steps(screen)
        yield from self._bindings(screen)
        yield "Show agents", "the inventory with each agent's status", app.action_show_agents
        yield "Show incidents", "every case, newest first", app.action_show_cases
        yield "Show alerts", "the alert inbox: what became of each alert, what waits", app.action_show_alerts
        for agent in app.workspace.inventory.agents.values():
            yield f"Start incident: {agent.id}", f"choose a playbook for {agent.id}", partial(self._start, agent.id)
        cases_dir = app.workspace.cases_dir
        found = cases_dir.iterdir() if cases_dir.is_dir() else iter(())
        names = sorted((p.name for p in found if (p / JOURNAL_FILE).is_file()), reverse=True)
        for name in names:  # names only: opening the palette replays no journal
            yield f"Open case: {name}", "open the case on its run screen", partial(self._open, cases_dir / name)

    def _case_commands(self, case_dir: Path) -> Iterator[Command]:
        from ir.core.signing_trust import workspace_trust
        from ir.tui.case_jobs import export_timeline, write_md_report

        app: Any = self.app
        yield "Verify case", "journal chain, signatures, every evidence hash", partial(self._verify, case_dir)
        yield (
            "Export timeline",
            "the case's timeline as Timesketch JSONL under exports/",
            partial(self._job, lambda: export_timeline(case_dir, app.workspace.root)),
        )
        yield (
            "Write incident report",
            "report.md in the case, journalled and signed (ir report)",
            partial(self._job, lambda: write_md_report(case_dir, app.actor, workspace_trust(app.workspace))),
        )
        yield "Copy case id", f"{case_dir.name} to the clipboard", partial(self._copy, case_dir.name, "case id")
        yield (
            "Copy journal head",
            "seq, sha256 and who signed it, as the run summary prints it",
            partial(self._copy_head, case_dir),
        )

    def _steps(self, screen: Any) -> Iterator[Command]:
        loaded = getattr(screen, "loaded", None)
        if loaded is None:
            return
        for index, step in enumerate(loaded.playbook.steps):
            status = getattr(screen, "statuses", {}).get(step.id, "")
            yield (
                f"Jump to step: {step.id}",
                neutralise(f"{step.title} · {status}"),
                partial(self._jump, screen, index),
            )

    def _bindings(self, screen: Any) -> Iterator[Command]:
        from textual.binding import Binding

        seen = set()
        for binding in Binding.make_bindings(getattr(type(screen), "BINDINGS", [])):
            if not binding.show or binding.action in seen or not screen.check_action(binding.action, ()):
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            yield binding.description, f"key {key}", partial(screen.run_action, binding.action)

    async def startup(self) -> None:
        """Gather the commands once per opening of the palette (searching runs on every keystroke)."""
        self._found = list(self.commands())

    async def discover(self) -> Hits:
        """Every command, before anything is typed."""
        for text, help_text, run in self._found:
            yield DiscoveryHit(text, run, help=help_text)

    async def search(self, query: str) -> Hits:
        """The commands matching what was typed, best first."""
        matcher = self.matcher(query)
        for text, help_text, run in self._found:
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, text=text, help=help_text)

    # -- what the commands do -----------------------------------------------------------------

    def _start(self, agent_id: str) -> None:
        from ir.tui.screens.start import start_incident

        start_incident(self.app.screen, agent_id)  # type: ignore[arg-type]

    def _open(self, path: Path) -> None:
        from ir.tui.screens.run import RunScreen

        self.app.push_screen(RunScreen(case_dir=path))

    def _jump(self, screen: Any, index: int) -> None:
        from ir.tui.widgets.steps import StepList

        steps = screen.query_one(StepList)
        steps.index = index
        steps.focus()

    def _verify(self, case_dir: Path) -> None:
        from ir.tui.case_jobs import verify_line

        def job() -> str:
            ok, line = verify_line(case_dir)
            if not ok:
                raise IrError(line)
            return line

        self._job(job)

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_to_clipboard(text)
        self.app.notify(neutralise(f"copied {what}: {text}"), markup=False)

    def _copy_head(self, case_dir: Path) -> None:
        """Read the head and check its signature in a thread worker, then copy its line."""
        from ir.tui.case_jobs import journal_head_line

        app = self.app

        def job() -> str:
            line = neutralise(journal_head_line(case_dir))
            app.call_from_thread(app.copy_to_clipboard, line)
            return f"copied {line}"

        self._job(job)

    def _job(self, job: Callable[[], str]) -> None:
        """Run `job` in a thread worker; its line (or its error) becomes a notification."""
        app = self.app

        def work() -> None:
            try:
                line = job()
            except (IrError, OSError) as exc:
                app.call_from_thread(app.notify, neutralise(str(exc)), severity="error", timeout=30, markup=False)
                return
            app.call_from_thread(app.notify, neutralise(line), timeout=10, markup=False)

        app.run_worker(work, thread=True, group="case-jobs", exit_on_error=False)
