"""`timeline.reconstruct`: the agent's timeline, written into the case as evidence.

The case's `timeline.jsonl` (what the console shows) is the same bytes, recorded as a derived
file so `ir verify` and the console can tell when it was changed afterwards.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from ir.core.action import Action, ActionParams, Check, Plan, StepContext
from ir.core.errors import IrError
from ir.core.redaction import redact_text
from ir.timeline.inputs import case_inputs
from ir.timeline.pipeline import Timeline, build

SHOWN_REASONS = 5
"""Files whose reasons the step's error names (the summary in the case lists every one)."""


class NothingRead(IrError):
    """Files held something and none gave an event: the timeline is empty and says nothing of what
    the agent did. The step fails (the empty timeline and its summary, with every file's reason,
    are still kept)."""

    def __init__(self, message: str, outputs: Mapping[str, object]) -> None:
        super().__init__(message)
        self.outputs = dict(outputs)


def unread(timeline: Timeline) -> list[str]:
    """Why each file that held something gave no event: not a known format, unreadable, or read
    with every record bad. (An empty file is no loss: a container that logged nothing.)"""
    found = [f"skipped {d.path}: {d.why}" for d in timeline.detections if not d.format and _holds_something(d.path)]
    for st in timeline.stats:
        if not st.events and st.records:
            first = f"; first: {st.bad_refs[0]}" if st.bad_refs else ""
            found.append(f"{st.path}: read as {st.format}, {st.records} records, {st.bad} bad, no events{first}")
    return [redact_text(why) for why in found]  # (a reason may quote a line of the file)


def _holds_something(path: Path) -> bool:
    """Whether the file holds anything but whitespace."""
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                if not block.isspace():
                    return True
            return False
    except OSError:
        return True  # unreadable: whatever it holds was not read


class TimelineParams(ActionParams):
    """Which sources besides the agent's inventory log sources."""

    sources: list[str] = Field(default_factory=list)
    """More files or folders, relative to the workspace."""
    case_logs: bool = True
    """Include the container logs captured in this case (`logs.txt` evidence)."""


class Reconstruct(Action[TimelineParams]):
    """Merge the agent's log sources and captured logs into `timeline.jsonl` (evidence and case file)."""

    name = "timeline.reconstruct"
    summary = "Merge the agent's traces, container logs and CloudTrail into timeline.jsonl with a summary."
    Params = TimelineParams
    mutates = False
    captures_evidence = True
    domain = "timeline"

    def _paths(self, ctx: StepContext, params: TimelineParams) -> list[Path]:
        paths = [ctx.workspace / s.path for s in ctx.agent.logs if s.path and (ctx.workspace / s.path).exists()]
        paths += [ctx.workspace / p for p in params.sources]
        if params.case_logs and ctx.case_dir is not None:
            paths += case_inputs(ctx.case_dir)[0]
        return paths

    def plan(self, ctx: StepContext, params: TimelineParams) -> Plan:
        named = [str(s.path) for s in ctx.agent.logs if s.path] + params.sources
        extra = " and the container logs this case captures" if params.case_logs else ""
        return Plan(notes=(f"reads {', '.join(named) or 'no inventory log files'}{extra}; writes timeline.jsonl",))

    def execute(self, ctx: StepContext, params: TimelineParams) -> Mapping[str, Any]:
        assert ctx.evidence is not None and ctx.case_dir is not None
        paths = self._paths(ctx, params)
        timeline = build(paths, agent=ctx.agent, fmt="jsonl")
        for stale in ctx.case_dir.glob(".timeline-*.part"):  # left by a run killed mid-write
            stale.unlink(missing_ok=True)
        final = ctx.case_dir / "timeline.jsonl"
        with tempfile.NamedTemporaryFile(
            "w+", encoding="utf-8", dir=ctx.case_dir, prefix=".timeline-", suffix=".part", delete=False
        ) as fh:
            try:
                count = timeline.write(fh, "jsonl")  # type: ignore[arg-type]  # (a text file wrapper)
                fh.flush()
                os.fsync(fh.fileno())
                fh.seek(0)
                item = ctx.evidence.store(
                    "timeline.jsonl",
                    iter(lambda: fh.read(1 << 20).encode(), b""),
                    source="ir timeline",
                    method="parse, sort, merge, detect",
                )
            except BaseException:
                Path(fh.name).unlink(missing_ok=True)
                raise
        os.replace(fh.name, final)  # whole or absent: the console and verify never see half a file
        ctx.evidence.derived("timeline.jsonl", final)
        summary = timeline.summary()
        blob = json.dumps(summary, indent=2, sort_keys=True, default=str).encode()
        ctx.evidence.store("timeline-summary.json", [blob], source="ir timeline", method="detectors")
        first = summary["first_suspicious"]
        if first:
            ctx.output(f"first suspicious event: {first['ts']} {first['message'][:120]}")
        why = unread(timeline)
        outputs = {
            "events": count,
            "sha256": item.sha256,
            "by_tag": summary["by_tag"],
            "first_suspicious": first,
            "likely_injection": summary["likely_injection"],
        }
        if why:
            outputs["not_read"] = why
        if not count and why:
            more = f" (and {len(why) - SHOWN_REASONS} more)" if len(why) > SHOWN_REASONS else ""
            raise NothingRead(f"no events in any source: {'; '.join(why[:SHOWN_REASONS])}{more}", outputs)
        for line in why:
            ctx.output(f"not read: {line}")
        return outputs

    def verify(self, ctx: StepContext, params: TimelineParams) -> Check:
        return Check(False, "derived from files: build again")
