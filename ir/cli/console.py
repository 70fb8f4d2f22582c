"""How the command line shows engine events and summaries to a person (or as JSON lines)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ir.core.events import Event, RunSummary
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
        d = event.data
        kind = event.kind
        if kind == "run.started":
            book = d["playbook"]
            book_text = f"{book['id']} {book['version']} (sha256 {book['sha256'][:12]})"
            return f"case {d['case']}  playbook {book_text}  agent {d['agent']['id']}"
        if kind == "run.resumed":
            return f"resuming case {event.case} as {neutralise(str(d.get('actor')))}"
        if kind == "step.started":
            attempt = f" (attempt {d['attempt']})" if d.get("attempt", 1) > 1 else ""
            return f"-> {event.step}: {d['action']}{attempt}"
        if kind == "step.output":
            return f"     {neutralise(str(d['line']))}"
        if kind == "step.verified":
            verdict = "already done" if d["done"] else "redo"
            return f"     verified after restart: {neutralise(str(d['detail']))} -> {verdict}"
        if kind == "step.retry":
            return f"     transient error, retrying in {d['delay_s']:g}s: {neutralise(str(d['error']))}"
        if kind == "step.result":
            status = MARK.get(d["status"], d["status"])
            extra = f": {neutralise(str(d['error']))}" if d.get("error") else ""
            recovered = " (found done on resume)" if d.get("recovered") else ""
            return f"   {event.step}: {status}{recovered}{extra}"
        if kind == "step.skipped":
            return f"-- {event.step}: skipped ({neutralise(str(d['reason']))})"
        if kind == "approval.waiting":
            return f"?? {event.step}: waits for approval of {d['action']} {_short(d.get('args', {}))}"
        if kind == "approval.granted":
            return f"   {event.step}: approved by {neutralise(str(d['by']))}"
        if kind == "override":
            who, why = neutralise(str(d["by"])), neutralise(str(d["reason"]))
            return f"   {event.step}: evidence requirement overridden by {who}: {why}"
        if kind == "evidence.unavailable":
            return f"     unavailable {d['name']}: {neutralise(str(d['reason']))}"
        if kind == "step.planned":
            return self._planned(d)
        if kind == "followup":
            return f"     FOLLOW-UP {neutralise(str(d['what']))} (owner {neutralise(str(d['owner']))})"
        if kind == "journal.torn_tail":
            return f"!! a torn journal line ({d['bytes']} bytes) was set aside as {d['saved_as']}"
        return None

    @staticmethod
    def _planned(d: Any) -> str:
        head = f"-> {d['step']}: {d['action']} {_short(d.get('args', {}))}"
        if d.get("approval"):
            head += "  [approval required]"
        if d.get("error"):
            return head + f"\n     ERROR {neutralise(str(d['error']))}"
        plan = d.get("plan", {})
        lines = [
            f"     {_short(c['resource'])} {_short(c['attribute'])}: {_short(c['before'])} → {_short(c['after'])}"
            for c in plan.get("changes", [])
        ]
        lines += [f"     {neutralise(str(n))}" for n in plan.get("notes", [])]
        return "\n".join([head, *(lines or ["     no change"])])


def print_summary(summary: RunSummary, out: TextIO, *, as_json: bool) -> None:
    """The final lines of a run: status, per-step status, where the case is, the journal head."""
    if as_json:
        out.write(json.dumps(summary.as_dict(), sort_keys=True, ensure_ascii=True) + "\n")
        return
    out.write(f"\nrun {summary.status}")
    if summary.case_dir:
        out.write(f"  case {summary.case_dir}")
    out.write("\n")
    for step, status in summary.steps.items():
        out.write(f"  {step:<24} {status}\n")
    if summary.follow_ups:
        out.write(f"follow-ups ({len(summary.follow_ups)}), not done automatically:\n")
        for item in summary.follow_ups:
            out.write(
                f"  - {neutralise(str(item['what']))} — owner {neutralise(str(item['owner']))}: "
                f"{neutralise(str(item['why']))}\n"
            )
    if summary.still_live:
        out.write(f"still live ({len(summary.still_live)}), containment is not whole:\n")
        for item in summary.still_live:
            out.write(
                f"  - {neutralise(str(item['what']))} — step {neutralise(str(item['step']))}: "
                f"{neutralise(str(item['why']))}\n"
            )
    if summary.head:
        signed = f" signed by {neutralise(summary.signed_by)}" if summary.signed_by else " (not signed)"
        out.write(f"journal head: seq {summary.head[0]} sha256 {summary.head[1]}{signed}\n")
        if summary.unsigned:
            out.write(f"{neutralise(summary.unsigned)}\n")
    if summary.message:
        out.write(f"{neutralise(summary.message)}\n")
