"""The times that matter in a case: first alert or case open → first action → containment.

Time to acknowledge runs from the first alert (or the case's opening, when no alert was
journalled) to the start of the first mutating step (a step that wrote a `step.intent`). Time to
contain runs from the same start to the moment the freeze, key and session steps had all
succeeded. `ir report` and `ir cases --metrics` both ask `case_times`, so they never disagree.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ir.core.case_state import StepStatus
from ir.core.journal import Record
from ir.core.records import Kind

CONTAINMENT_ACTIONS = frozenset({"container.pause", "credentials.deactivate_keys", "credentials.revoke_sessions"})
"""The actions whose success is containment: the agent frozen, its keys inactive, its sessions denied."""

ALERT_PREFIX = "alert."
"""Alert records (journalled by the alert path) all have kinds starting with this."""


@dataclass(frozen=True)
class CaseTimes:
    """When a case's incident was noticed, first acted on and contained (journal `ts` strings)."""

    opened: str | None
    """The case's `run.started`."""
    first_alert: str | None
    """The first alert record, when the case has one."""
    first_action: str | None
    """The start of the first mutating step."""
    contained: str | None
    """When the last of the containment steps succeeded (None: containment never completed)."""
    contains: bool = True
    """Whether the playbook has containment steps at all (a release playbook has none)."""

    @property
    def start(self) -> str | None:
        """What the clock runs from: the first alert, else the case's opening."""
        return self.first_alert or self.opened

    @property
    def to_acknowledge(self) -> float | None:
        """Seconds from the start to the first action."""
        return _seconds(self.start, self.first_action)

    @property
    def to_contain(self) -> float | None:
        """Seconds from the start to containment."""
        return _seconds(self.start, self.contained)

    def as_dict(self) -> dict[str, object]:
        """The times and both durations as plain data (seconds, None when unknown)."""
        return {
            "first_alert": self.first_alert,
            "opened": self.opened,
            "first_action": self.first_action,
            "contained": self.contained,
            "playbook_contains": self.contains,
            "time_to_acknowledge_s": self.to_acknowledge,
            "time_to_contain_s": self.to_contain,
        }


def case_times(records: Sequence[Record], steps: Iterable[tuple[str, str]]) -> CaseTimes:
    """The times of one case from its journal and its pinned playbook's (step id, action) pairs."""
    opened = next((r.ts for r in records if r.type == Kind.RUN_STARTED), None)
    alerts = _alerts_before(records, opened)
    mutating = {str(r.data.get("step")) for r in records if r.type == Kind.STEP_INTENT}
    first_action = next(
        (r.ts for r in records if r.type == Kind.STEP_STARTED and str(r.data.get("step")) in mutating), None
    )
    containing = [sid for sid, action in steps if action in CONTAINMENT_ACTIONS]
    return CaseTimes(
        opened=opened,
        first_alert=min(alerts, key=_parse) if alerts else None,
        first_action=first_action,
        contained=_contained(records, containing),
        contains=bool(containing),
    )


def _alerts_before(records: Sequence[Record], opened: str | None) -> list[str]:
    """When the alerts that led to the case arrived: the alert that started it (`trigger.received`
    of `run.started`) and alert records from before the case opened. An alert journalled into the
    case later (`alert.correlated`) did not start its clock."""
    times: list[str] = []
    for r in records:
        if r.type == Kind.RUN_STARTED and isinstance(r.data.get("trigger"), dict):
            received = r.data["trigger"].get("received")
            if isinstance(received, str) and received:
                times.append(received)
        elif r.type.startswith(ALERT_PREFIX) and r.type != Kind.ALERT_CORRELATED:
            times.append(r.ts)
    return [t for t in times if _valid(t) and (opened is None or _parse(t) <= _parse(opened))]


def _valid(ts: str) -> bool:
    try:
        _parse(ts)
    except ValueError:
        return False
    return True


def _contained(records: Sequence[Record], steps: list[str]) -> str | None:
    """When every containment step had succeeded (a step its own `when:` skipped does not apply)."""
    succeeded: dict[str, str] = {}
    skipped_by_when: set[str] = set()
    for rec in records:
        step = str(rec.data.get("step"))
        if step not in steps:
            continue
        if rec.type == Kind.STEP_RESULT and rec.data.get("status") == StepStatus.SUCCEEDED:
            outputs = rec.data.get("outputs") or {}
            if not (isinstance(outputs, dict) and outputs.get("failed")):
                succeeded.setdefault(step, rec.ts)
        elif rec.type == Kind.STEP_SKIPPED and rec.data.get("by") is None:
            skipped_by_when.add(step)
    if not succeeded or any(s not in succeeded and s not in skipped_by_when for s in steps):
        return None
    return max(succeeded.values(), key=_parse)


def not_contained(times: dict[str, object]) -> str:
    """What the report shows for a case with no containment time, and why."""
    return "— (not contained)" if times.get("playbook_contains", True) else "— (the playbook contains nothing)"


def median(values: Iterable[float | None]) -> float | None:
    """The median of the known values (None when none is known)."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def duration(seconds: float | None) -> str:
    """`1h 02m 03s`, `2m 05s`, `4.2s`, `0.042s`; `—` when unknown."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds:.3f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _seconds(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    return (_parse(end) - _parse(start)).total_seconds()
