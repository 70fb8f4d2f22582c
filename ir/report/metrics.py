"""`ir cases --metrics`: each case's time to acknowledge and to contain, and the medians across cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.core.case import CaseState, pinned_playbook
from ir.core.errors import IrError
from ir.core.journal import JOURNAL_FILE, read
from ir.report.times import CaseTimes, case_times, duration, median


@dataclass(frozen=True)
class CaseMetrics:
    """One case's times, or why they could not be read."""

    case: str
    times: CaseTimes | None
    problem: str | None = None

    def line(self) -> str:
        """`acknowledged 4.0s  contained 1m 02s` (or why not) for the listing."""
        if self.times is None:
            return f"times unknown: {self.problem}"
        contained = duration(self.times.to_contain) if self.times.contains else "n/a (release)"
        return f"acknowledged {duration(self.times.to_acknowledge)}  contained {contained}"

    def as_dict(self) -> dict[str, Any]:
        """The times as plain data (the json listing)."""
        return self.times.as_dict() if self.times else {"problem": self.problem}


def case_metrics(case_dir: Path, state: CaseState) -> CaseMetrics:
    """The times of one case, as the report computes them (`case_times` over its journal and playbook)."""
    try:
        records = read(case_dir / JOURNAL_FILE).records
        steps = [(s.id, s.action) for s in pinned_playbook(case_dir, state).playbook.steps]
    except IrError as exc:
        return CaseMetrics(case_dir.name, None, str(exc))
    return CaseMetrics(case_dir.name, case_times(records, steps))


@dataclass(frozen=True)
class Medians:
    """The medians across incident cases (cases whose playbook contains something; releases are not counted)."""

    to_acknowledge: float | None
    to_contain: float | None
    cases: int
    """Incident cases counted."""
    contained: int
    """Of those, how many were contained."""


def medians(rows: list[CaseMetrics]) -> Medians:
    """The medians of time to acknowledge and to contain over the incident cases where each is known."""
    known = [r.times for r in rows if r.times is not None and r.times.contains]
    return Medians(
        median(t.to_acknowledge for t in known),
        median(t.to_contain for t in known),
        len(known),
        sum(t.to_contain is not None for t in known),
    )
