"""The run screen's step list: one line per step with its status mark, plain text only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import ListItem, ListView, Static

from ir.core.case_state import SUCCEEDED_FOLLOW_UPS, SUCCEEDED_NOTHING
from ir.core.playbook import Step

MARK = {
    "succeeded": "✔",
    SUCCEEDED_FOLLOW_UPS: "⚑",
    SUCCEEDED_NOTHING: "○",
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

    step_ids: tuple[str, ...] = ()
    """The ids shown, in order."""
    lines: list[Static]
    """One line per step, in order (set with the ids)."""

    def show(self, steps: Sequence[Step], statuses: Mapping[str, str]) -> None:
        """Show every step with its status: the lines are built once and then updated in place (a
        rebuild per update races Textual's asynchronous removal and showed steps twice)."""
        ids = tuple(step.id for step in steps)
        if ids != self.step_ids:
            self.step_ids, self.lines = ids, [Static() for _ in ids]
            self.clear()
            self.extend(ListItem(line, name=sid) for line, sid in zip(self.lines, ids, strict=True))
            self.index = 0
        for line, sid in zip(self.lines, ids, strict=True):
            status = statuses.get(sid, "pending")
            line.update(Text(f"{MARK.get(status, ' ')} {sid}  {status}"))

    def follow(self, step_id: str) -> None:
        """Move the highlight to `step_id` (the step running or waiting now)."""
        if step_id in self.step_ids:
            self.index = self.step_ids.index(step_id)

    @property
    def highlighted_step(self) -> str | None:
        """The id of the highlighted step, if any."""
        item = self.highlighted_child
        return item.name if item is not None else None
