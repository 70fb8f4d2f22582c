"""The run screen: a playbook's steps with their status, the selected step's guidance, live output.

The engine runs in a thread worker and reports through messages; the screen changes only in
their handlers. A step waiting for approval opens the approval modal; approving resumes the
case with that step approved. Text from the agent's world is shown as plain text, never markup.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, ListItem, ListView, Markdown, RichLog, Static

from ir.core.case import PLAYBOOK_FILE, CaseState, RunStatus
from ir.core.errors import IrError
from ir.core.events import Event, RunOptions, RunSummary
from ir.core.journal import is_open, read
from ir.core.playbook import LoadedPlaybook, find_playbook, parse_playbook
from ir.core.text import neutralise

MARK = {
    "succeeded": "✔",
    "failed": "✘",
    "errored": "!",
    "skipped": "–",
    "awaiting_approval": "?",
    "running": "…",
    "pending": " ",
    "cancelled": "×",
}


class RunScreen(Screen[None]):
    """One case: start it, watch it, approve its gated steps, resume it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("r", "run", "Run / resume"),
        ("y", "approve", "Approve"),
        ("e", "evidence", "Evidence"),
        ("t", "timeline", "Timeline"),
        ("d", "decide", "Decision"),
        ("R", "reenable", "Re-enable"),
        ("escape", "back", "Back"),
    ]

    class EngineEvent(Message):
        """An engine event, carried from the worker thread to the screen."""

        def __init__(self, event: Event) -> None:
            super().__init__()
            self.event = event

    class Finished(Message):
        """The engine returned (finished, stopped at an approval, or failed)."""

        def __init__(self, summary: RunSummary | None, error: str | None) -> None:
            super().__init__()
            self.summary = summary
            self.error = error

    def __init__(
        self,
        *,
        agent_id: str | None = None,
        playbook: str | None = None,
        case_dir: Path | None = None,
        params: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.agent_id = agent_id
        self.playbook_ref = playbook
        self.params = params or {}
        self.case_dir = case_dir
        self.loaded: LoadedPlaybook | None = None
        self.statuses: dict[str, str] = {}
        self.waiting: dict[str, Any] | None = None
        self.running = False
        self.finished: str | None = None
        self.read_only = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-body"):
            yield ListView(id="steps")
            with Vertical(id="detail"):
                yield Markdown(id="guidance")
                yield RichLog(id="output", wrap=True, markup=False, highlight=False)
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        workspace = self.app.workspace  # type: ignore[attr-defined]
        try:
            if self.case_dir is not None:
                path = self.case_dir / PLAYBOOK_FILE
                self.loaded = parse_playbook(path.read_text(encoding="utf-8"), str(path))
                records = read(self.case_dir / "journal.jsonl").records
                state = CaseState.replay(records)
                self.agent_id = str(state.started.get("agent", {}).get("id"))
                self.statuses = {s.id: str(state.step(s.id).status) for s in self.loaded.playbook.steps}
                self.finished = str(state.run_status) if state.run_status != RunStatus.RUNNING else None
                self.read_only = is_open(self.case_dir)
                for rec in records:
                    self._show(Event(kind=rec.type, data=rec.data, step=rec.data.get("step"), seq=rec.seq, ts=rec.ts))
            else:
                self.loaded = find_playbook(workspace.playbooks_dir, str(self.playbook_ref))
                self.statuses = {s.id: "pending" for s in self.loaded.playbook.steps}
        except IrError as exc:
            self.notify(str(exc), severity="error")
            return
        self._refresh_steps()
        self._set_status()

    # -- display --------------------------------------------------------------------------------

    def _refresh_steps(self) -> None:
        assert self.loaded is not None
        view = self.query_one("#steps", ListView)
        index = view.index or 0
        view.clear()
        for step in self.loaded.playbook.steps:
            status = self.statuses.get(step.id, "pending")
            label = Text(f"{MARK.get(status, ' ')} {step.id}  {status}")
            view.append(ListItem(Static(label), name=step.id))
        view.index = min(index, len(self.loaded.playbook.steps) - 1)
        self._show_guidance(self.loaded.playbook.steps[view.index or 0].id)

    def _show_guidance(self, step_id: str) -> None:
        assert self.loaded is not None
        step = self.loaded.playbook.step(step_id)
        args = json.dumps(step.with_, sort_keys=True) if step.with_ else "(none)"
        gate = "**approval required**  \n" if step.approval.required else ""
        text = f"## {step.title}\naction `{step.action}` · arguments `{args}`  \n{gate}\n{step.guidance}"
        self.query_one("#guidance", Markdown).update(text)

    @on(ListView.Highlighted)
    def _highlighted(self, event: ListView.Highlighted) -> None:
        if event.item is not None and event.item.name:
            self._show_guidance(event.item.name)

    def _set_status(self) -> None:
        if self.read_only:
            text = "case is open in another process: read-only view"
        elif self.running:
            text = "running…"
        elif self.waiting:
            text = f"step {self.waiting['step']} waits for approval: press y to review it"
        elif self.finished:
            text = f"run {self.finished}" + (f" — case {self.case_dir.name}" if self.case_dir else "")
        else:
            text = f"press r to start {self.playbook_ref} for {self.agent_id}"
        self.query_one("#status", Static).update(Text(text))
        self.refresh_bindings()

    def _show(self, event: Event) -> None:
        data, log = event.data, self.query_one("#output", RichLog)
        if event.kind == "step.result":
            self.statuses[str(data["step"])] = str(data["status"])
            line = f"{data['step']}: {data['status']}" + (f" — {data['error']}" if data.get("error") else "")
        elif event.kind == "step.started":
            self.statuses[str(data["step"])] = "running"
            line = f"→ {data['step']}: {data['action']}"
        elif event.kind == "step.skipped":
            self.statuses[str(data["step"])] = "skipped"
            line = f"{data['step']}: skipped"
        elif event.kind == "approval.waiting":
            self.statuses[str(data["step"])] = "awaiting_approval"
            self.waiting = dict(data)
            line = f"{data['step']}: waits for approval of {data['action']}"
        elif event.kind == "approval.granted":
            line = f"{data['step']}: approved by {data['by']}"
        elif event.kind in ("step.output", "evidence.unavailable", "followup"):
            line = "    " + str(data.get("line") or data.get("reason") or data.get("what"))
        elif event.kind == "run.started":
            line = f"case {data['case']}"
        else:
            return
        log.write(Text(neutralise(line)))

    # -- the engine -------------------------------------------------------------------------------

    @on(EngineEvent)
    def _engine_event(self, message: EngineEvent) -> None:
        if message.event.kind == "run.started":
            self.case_dir = self.app.workspace.cases_dir / str(message.event.data["case"])  # type: ignore[attr-defined]
        self._show(message.event)
        self._refresh_steps()

    @on(Finished)
    def _finished(self, message: Finished) -> None:
        self.running = False
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
            self.query_one("#output", RichLog).write(Text(neutralise(f"error: {message.error}")))
        elif message.summary is not None:
            summary = message.summary
            if summary.status != RunStatus.AWAITING_APPROVAL:
                self.waiting = None
            self.finished = str(summary.status)
            if summary.case_dir:
                self.case_dir = Path(summary.case_dir)
            self.notify(
                f"run {summary.status}", severity="information" if summary.status == RunStatus.SUCCEEDED else "warning"
            )
        self._refresh_steps()
        self._set_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something now."""
        if action == "run":
            return not (self.running or self.read_only or self.waiting) and self.finished != str(RunStatus.SUCCEEDED)
        if action == "approve":
            return self.waiting is not None and not self.running and not self.read_only
        if action == "evidence":
            return self.case_dir is not None
        if action == "timeline":
            return self.case_dir is not None and (self.case_dir / "timeline.jsonl").is_file()
        if action in ("decide", "reenable"):
            is_incident = self.loaded is not None and "incident" not in self.loaded.playbook.params
            return self.case_dir is not None and not self.running and not self.read_only and is_incident
        return True

    def action_evidence(self) -> None:
        """The case's evidence files and hashes."""
        from ir.tui.screens.evidence import EvidenceScreen

        if self.case_dir is not None:
            self.app.push_screen(EvidenceScreen(self.case_dir))

    def action_timeline(self) -> None:
        """The timeline explorer on this case's timeline."""
        from ir.tui.screens.timeline import TimelineScreen

        if self.case_dir is not None:
            self.app.push_screen(TimelineScreen(self.case_dir / "timeline.jsonl"))

    def action_decide(self) -> None:
        """The decision form for this incident."""
        from ir.tui.screens.decision import DecisionScreen

        if self.case_dir is not None:
            self.app.push_screen(DecisionScreen(self.case_dir))

    def action_reenable(self) -> None:
        """Start the re-enable playbook for this incident (the engine checks the decision)."""
        if self.case_dir is not None:
            self.app.push_screen(
                RunScreen(agent_id=self.agent_id, playbook="agent-reenable", params={"incident": self.case_dir.name})
            )

    def action_run(self) -> None:
        """Start the run, or resume the case."""
        self._launch(frozenset())

    def action_approve(self) -> None:
        """Review the waiting step in the approval modal."""
        from ir.tui.screens.approval import ApprovalModal

        if self.waiting is None:
            return
        waiting = self.waiting

        def decided(approved: bool | None) -> None:
            if approved:
                self._launch(frozenset({str(waiting["step"])}))

        self.app.push_screen(ApprovalModal(waiting), decided)

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.app.pop_screen()

    def _launch(self, approve: frozenset[str]) -> None:
        self.running = True
        self.waiting = None
        self._set_status()
        self._engine(approve)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _engine(self, approve: frozenset[str]) -> None:
        from ir.actions import default_registry
        from ir.core.engine import Engine

        app: Any = self.app
        workspace = app.workspace
        engine = Engine(
            registry=default_registry(),
            backends=app.backends,
            workspace=workspace.root,
            approvers=workspace.settings.approvers,
            on_event=lambda e: app.call_from_thread(self.post_message, RunScreen.EngineEvent(e)),
        )
        options = RunOptions(actor=app.actor, approve=approve)
        try:
            if self.case_dir is None:
                assert self.loaded is not None
                agent = workspace.inventory.get(str(self.agent_id), str(workspace.inventory_path))
                summary = engine.start(
                    loaded=self.loaded, agent=agent, params=self.params, cases_dir=workspace.cases_dir, options=options
                )
            else:
                summary = engine.resume(case_dir=self.case_dir, options=options)
        except IrError as exc:
            app.call_from_thread(self.post_message, RunScreen.Finished(None, str(exc)))
            return
        app.call_from_thread(self.post_message, RunScreen.Finished(summary, None))
