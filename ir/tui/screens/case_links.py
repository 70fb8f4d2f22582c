"""The run screen's ways into the rest of a case: evidence, timeline, decision, re-enable."""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen


class CaseLinks(Screen[None]):
    """Actions that open another screen on this screen's case (`case_dir`, `agent_id`)."""

    case_dir: Path | None
    agent_id: str | None

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
        """Start the re-enable playbook for this incident — not while its release would be refused
        (a notice says why: the engine's own gate)."""
        from ir.tui.screens.start import start_reenable

        if self.case_dir is not None:
            start_reenable(self, self.case_dir, str(self.agent_id))

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.app.pop_screen()
