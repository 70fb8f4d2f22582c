"""The run screen's step list: one line per step with its status mark, plain text only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import ListItem, ListView, Static

from ir.core.playbook import Step

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


class StepList(ListView):
    """The playbook's steps, in order, each with where it is; keeps the highlight across updates."""

    def show(self, steps: Sequence[Step], statuses: Mapping[str, str]) -> None:
        """Redraw every step with its status."""
        index = self.index or 0
        self.clear()
        for step in steps:
            status = statuses.get(step.id, "pending")
            self.append(ListItem(Static(Text(f"{MARK.get(status, ' ')} {step.id}  {status}")), name=step.id))
        self.index = min(index, len(steps) - 1)

    @property
    def highlighted_step(self) -> str | None:
        """The id of the highlighted step, if any."""
        item = self.highlighted_child
        return item.name if item is not None else None
