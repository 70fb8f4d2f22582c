"""The selected step: its guidance (markdown from the playbook), arguments and dry-run plan.

The guidance comes from the playbook and is rendered as markdown; the plan is read from the
agent's world, so it is shown as plain text, never markup.
"""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from ir.core.playbook import Step
from ir.core.records import StepPlanned
from ir.core.text import neutralise


class StepDetail(VerticalScroll):
    """What the step is, its plan, then its guidance."""

    guidance_shown: str | None = None
    """The guidance text on screen (a status change redraws the head and plan, not the markdown)."""

    def compose(self) -> ComposeResult:
        yield Static(id="step-head")
        yield Static(id="plan")
        yield Markdown(id="guidance")

    def show(self, step: Step, planned: StepPlanned | None, planning: bool = False) -> None:
        """Show `step`: what it is, what the dry run said it would change (once it has run), the guidance."""
        args = json.dumps(step.with_, sort_keys=True) if step.with_ else "(none)"
        head = Text()
        head.append(step.title, style="bold")
        head.append(f"\naction {step.action} · arguments {args}")
        if step.approval.required:
            head.append("\napproval required", style="bold yellow")
        self.query_one("#step-head", Static).update(head)
        self.query_one("#plan", Static).update(Text(neutralise(plan_text(planned, planning), keep_newlines=True)))
        if step.guidance != self.guidance_shown:  # Markdown.update is async: never restart it for the same text
            self.guidance_shown = step.guidance
            self.query_one("#guidance", Markdown).update(step.guidance)


def plan_text(planned: StepPlanned | None, planning: bool = False) -> str:
    """The dry-run plan of one step as lines: the arguments it resolved to, then each change and note."""
    if planned is None:
        return "plan: planning…" if planning else "plan: press p for a dry run of every step"
    if planned.error:
        return f"plan: cannot plan: {planned.error}"
    lines = ["plan (dry run, read from real state):"]
    if planned.args:
        lines.append("  with " + json.dumps(planned.args, sort_keys=True))
    plan = planned.plan
    for change in plan.changes:
        lines.append(f"  {change.resource} {change.attribute}: {change.before} → {change.after}")
    lines.extend(f"  {note}" for note in plan.notes)
    if not plan.changes and not plan.notes:
        lines.append("  no change")
    return "\n".join(lines)
