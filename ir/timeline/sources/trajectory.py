"""SWE-agent trajectories (`.traj`): the agent's steps with no times.

`{"trajectory": [{"action", "observation", "thought", "response", "state"}], "history": [...],
"info": {...}}`. Each step's `action` is a command line for the agent's tools (`find_file x`,
`open f`, `edit 4:4 ...`, `python3 t.py`, `submit`): a tool call named by its first word, with
the whole command as the argument, and its `observation` the result. Events are untimed, in the
trajectory's order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ir.timeline.model import Event
from ir.timeline.sources.base import SourceStats, as_text, json_document, tool_event
from ir.timeline.sources.sample import NO, Sample, Score

FORMAT = "trajectory"


def _steps(doc: Any) -> list[Any] | None:
    steps = doc.get("trajectory") if isinstance(doc, dict) else None
    return steps if isinstance(steps, list) else None


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """A tool call and its result for every step."""
    source = f"{FORMAT}:{path.name}"
    doc = json_document(path, stats)
    if doc is None:
        return
    steps = _steps(doc)
    if steps is None:
        stats.bad_record(str(path), "no trajectory list")
        return
    session = as_text(doc.get("environment") or "", 80)
    seq = 0
    for i, step in enumerate(steps):
        stats.records += 1
        ref = f"{path}#trajectory[{i}]"
        action = step.get("action") if isinstance(step, dict) else None
        if not isinstance(action, str):
            stats.bad_record(ref, "step without an action text")
            continue
        name = action.split(maxsplit=1)[0] if action.strip() else "?"
        common: dict[str, Any] = {
            "when": (0, False),
            "raw": None,
            "source": source,
            "ref": ref,
            "actor": {"session": session} if session else {},
        }
        call_id = f"step-{i}"
        for kind, extra in (
            (
                "tool_call",
                {"arguments": {"command": action.rstrip("\n")}, "thought": as_text(step.get("thought"))},
            ),
            ("tool_result", {"result": as_text(step.get("observation") or "")}),
        ):
            seq += 1
            made = tool_event(kind=kind, name=name, call_id=call_id, seq=seq, **common, **extra)
            made["untimed"] = True
            yield made


def score(s: Sample) -> Score:
    """How surely a sample is an SWE-agent trajectory."""
    steps = _steps(s.document)
    if steps and all(isinstance(x, dict) and "action" in x and "observation" in x for x in steps[:20]):
        return Score(95, "SWE-agent trajectory (steps with action and observation, no times)")
    opening = s.opening.lstrip()[:4096]
    if not s.whole and b'"trajectory"' in opening and b'"action"' in opening and b'"observation"' in opening:
        return Score(75, "opens as an SWE-agent trajectory (too big to sample whole)")
    return NO
