"""The end of a run in words: the same lines on the command line (`ir run`, `ir resume`) and in the console.

Status and case, each step's status, the follow-ups with their owners, what is still live, and
the journal head (signed or not) a responder copies into a ticket. Every value is neutralised:
reasons and names may come from the agent's world.
"""

from __future__ import annotations

from ir.core.events import RunSummary
from ir.core.text import neutralise


def summary_lines(summary: RunSummary) -> list[str]:
    """The summary of one run as lines of text, first line `run STATUS  case PATH`."""
    head = f"run {summary.status}" + (f"  case {summary.case_dir}" if summary.case_dir else "")
    lines = [head]
    lines += [f"  {step:<24} {status}" for step, status in summary.steps.items()]
    if summary.follow_ups:
        lines.append(f"follow-ups ({len(summary.follow_ups)}), not done automatically:")
        lines += [
            f"  - {neutralise(f.what)} — owner {neutralise(f.owner)}: {neutralise(f.why)}" for f in summary.follow_ups
        ]
    if summary.still_live:
        lines.append(f"still live ({len(summary.still_live)}), containment is not whole:")
        for live in summary.still_live:
            what, step, why = (neutralise(str(live[k])) for k in ("what", "step", "why"))
            lines.append(f"  - {what} — step {step}: {why}")
    if summary.head:
        signed = f" signed by {neutralise(summary.signed_by)}" if summary.signed_by else " (not signed)"
        lines.append(f"journal head: seq {summary.head[0]} sha256 {summary.head[1]}{signed}")
        if summary.unsigned:
            lines.append(neutralise(summary.unsigned))
    if summary.message:
        lines.append(neutralise(summary.message))
    return lines
