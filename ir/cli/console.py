"""How the command line shows engine events and summaries to a person (or as JSON lines)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ir.core.events import Event, RunSummary
from ir.core.records import (
    ApprovalDeclined,
    ApprovalGranted,
    ApprovalWaiting,
    EvidenceUnavailable,
    FollowUp,
    JournalTornTail,
    Override,
    Payload,
    RunResumed,
    RunStarted,
    StepOutput,
    StepPlanned,
    StepResult,
    StepRetry,
    StepSkipped,
    StepStarted,
    StepVerified,
    parse,
)
from ir.core.summary_text import summary_lines
from ir.core.text import neutralise

MARK = {"succeeded": "ok", "failed": "FAILED", "errored": "ERROR", "skipped": "skipped", "planned": "plan"}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return neutralise(text if len(text) <= 160 else text[:157] + "...")


class EventPrinter:
    """Prints engine events as they happen: human lines, or one JSON object per line."""

    def __init__(self, out: TextIO | None = None, *, as_json: bool = False) -> None:
        self.out = out or sys.stdout
        self.as_json = as_json

    def __call__(self, event: Event) -> None:
        if self.as_json:
            self.out.write(json.dumps(event.as_dict(), sort_keys=True, default=str, ensure_ascii=True) + "\n")
            self.out.flush()
            return
        line = self._human(event)
        if line is not None:
            self.out.write(line + "\n")
            self.out.flush()

    def _human(self, event: Event) -> str | None:
        return human_line(parse(event.kind, event.data), event.case)


def human_line(p: Payload, case: str | None = None) -> str | None:
    """The line a person reads for one record or event (None: nothing worth a line)."""
    match p:
        case RunStarted():
            book = p.playbook
            return f"case {p.case}  playbook {book.id} {book.version} (sha256 {book.sha256[:12]})  agent {p.agent_id}"
        case RunResumed():
            return f"resuming case {case} as {neutralise(p.actor)}"
        case StepStarted():
            attempt = f" (attempt {p.attempt})" if p.attempt > 1 else ""
            return f"-> {p.step}: {p.action}{attempt}"
        case StepOutput():
            return f"     {neutralise(p.line)}"
        case StepVerified():
            verdict = "already done" if p.done else "redo"
            return f"     verified after restart: {neutralise(p.detail)} -> {verdict}"
        case StepRetry():
            return f"     transient error, retrying in {p.delay_s:g}s: {neutralise(p.error)}"
        case StepResult():
            extra = f": {neutralise(p.error)}" if p.error else ""
            recovered = " (found done on resume)" if p.recovered else ""
            return f"   {p.step}: {MARK.get(p.status, p.status)}{recovered}{extra}"
        case StepSkipped():
            return f"-- {p.step}: skipped ({neutralise(p.reason)})"
        case ApprovalWaiting():
            return f"?? {p.step}: waits for approval of {p.action} {_short(p.args or {})}"
        case ApprovalGranted():
            return f"   {p.step}: approved by {neutralise(p.by)}"
        case ApprovalDeclined():
            return f"   {p.step}: approval declined by {neutralise(p.by)}: {neutralise(p.reason)}"
        case Override():
            return f"   {p.step}: evidence requirement overridden by {neutralise(p.by)}: {neutralise(p.reason)}"
        case EvidenceUnavailable():
            return f"     unavailable {p.name}: {neutralise(p.reason)}"
        case StepPlanned():
            return _planned(p)
        case FollowUp():
            return f"     FOLLOW-UP {neutralise(p.what)} (owner {neutralise(p.owner)})"
        case JournalTornTail():
            return f"!! a torn journal line ({p.bytes} bytes) was set aside as {p.saved_as}"
    return None


def _planned(p: StepPlanned) -> str:
    head = f"-> {p.step}: {p.action} {_short(p.args or {})}"
    if p.approval:
        head += "  [approval required]"
    if p.error:
        return head + f"\n     ERROR {neutralise(p.error)}"
    lines = [
        f"     {_short(c.resource)} {_short(c.attribute)}: {_short(c.before)} → {_short(c.after)}"
        for c in p.plan.changes
    ]
    lines += [f"     {neutralise(str(n))}" for n in p.plan.notes]
    return "\n".join([head, *(lines or ["     no change"])])


def print_summary(summary: RunSummary, out: TextIO, *, as_json: bool) -> None:
    """The final lines of a run: status, per-step status, where the case is, the journal head."""
    if as_json:
        out.write(json.dumps(summary.as_dict(), sort_keys=True, ensure_ascii=True) + "\n")
        return
    out.write("\n" + "\n".join(summary_lines(summary)) + "\n")
