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
        """Start the re-enable playbook for this incident (the engine checks the decision)."""
        from ir.tui.screens.run import RunScreen

        if self.case_dir is not None:
            self.app.push_screen(
                RunScreen(agent_id=self.agent_id, playbook="agent-reenable", params={"incident": self.case_dir.name})
            )

    def action_back(self) -> None:
        """Back to the previous screen."""
        self.app.pop_screen()
