"""An exercise's score: time to acknowledge and to contain in exercise time, and each objective rated
P/S/M/U (HSEEP) from its expectations.

**Times.** The clock starts when the first alert inject was delivered (the exercise start when the
scenario has none). *Acknowledged* and *contained* are what `ir cases --metrics` and `ir report`
call them — `ir.report.times.case_times` over each of the alert's cases (the cases its delivery
opened or joined; every case of the sandbox when it named none): the start of the case's first
mutating step, and the moment its freeze, key and session steps had all succeeded. Here both are
read in exercise time, so pauses do not count. MTTA runs to the first case's first action
(never below zero: a responder who acted before the alert acknowledged at once); MTTC to the
moment the last of those cases was contained (none while one is not).

**Ratings** (HSEEP: performed without challenges, with some, with major challenges, unable to be
performed), from the objective's expectations; engine expectations are step, order, world and
decision, the facilitator's are manual; a pending expectation counts as not passed:

    P  every expectation passed
    S  every engine expectation passed, but a manual one failed or is not marked yet
    M  at least one expectation passed, but an engine expectation did not
    U  no expectation passed
    —  the objective has no expectation (not rated)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ir.report.times import case_times
from ir.tabletop.expectations import ENGINE_KINDS, Result
from ir.tabletop.played import Played, SandboxCase
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.scenario import Objective, Scenario

RATINGS = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
}
"""HSEEP ratings and what each means."""


def rate(results: Sequence[Result]) -> tuple[str | None, str]:
    """(P, S, M, U or None, why) for one objective's expectations (the rule in the module docstring)."""
    if not results:
        return None, "no expectation counts for it"
    passed = [r for r in results if r.status == "passed"]
    engine_short = [r.expectation for r in results if r.kind in ENGINE_KINDS and r.status != "passed"]
    manual_short = [r.expectation for r in results if r.kind not in ENGINE_KINDS and r.status != "passed"]
    if len(passed) == len(results):
        return "P", f"all {len(results)} expectation(s) passed"
    if not passed:
        return "U", f"none of {len(results)} expectation(s) passed"
    if not engine_short:
        return "S", "every engine expectation passed; not passed (facilitator): " + ", ".join(manual_short)
    return "M", f"{len(passed)} of {len(results)} passed; engine expectation(s) not passed: " + ", ".join(engine_short)


@dataclass(frozen=True)
class ObjectiveScore:
    """One objective, its rating, and the expectations under it."""

    objective: Objective
    rating: str | None
    why: str
    results: tuple[Result, ...]


def score_objectives(scenario: Scenario, results: Sequence[Result]) -> list[ObjectiveScore]:
    """Every objective of the scenario with its rating, in scenario order."""
    scores = []
    for objective in scenario.objectives:
        mine = tuple(r for r in results if r.objective == objective.id)
        rating, why = rate(mine)
        scores.append(ObjectiveScore(objective, rating, why, mine))
    return scores


@dataclass(frozen=True)
class CaseClock:
    """One case's times in exercise seconds."""

    case: str
    agent: str
    opened_s: float | None
    first_action_s: float | None
    contained_s: float | None
    contains: bool
    """Whether its playbook has containment steps (a release has none)."""


@dataclass(frozen=True)
class ExerciseTimes:
    """When the alert came, when its cases were first acted on and contained (exercise seconds)."""

    start: str
    """What the clock runs from: `I2 (alert)` or `exercise start`."""
    start_s: float
    cases: tuple[CaseClock, ...]
    """The alert's cases."""

    @property
    def first_action_s(self) -> float | None:
        """The first action on any of the alert's cases."""
        known = [c.first_action_s for c in self.cases if c.first_action_s is not None]
        return min(known) if known else None

    @property
    def contained_s(self) -> float | None:
        """When the last of the alert's incident cases was contained (None while one is not)."""
        incident = [c for c in self.cases if c.contains]
        if not incident or any(c.contained_s is None for c in incident):
            return None
        return max(c.contained_s for c in incident if c.contained_s is not None)

    @property
    def mtta(self) -> float | None:
        """Time to acknowledge, seconds."""
        first = self.first_action_s
        return None if first is None else max(first - self.start_s, 0.0)

    @property
    def mttc(self) -> float | None:
        """Time to contain, seconds."""
        done = self.contained_s
        return None if done is None else max(done - self.start_s, 0.0)

    def as_dict(self) -> dict[str, object]:
        """As plain data (report.json)."""
        return {
            "start": self.start,
            "start_s": self.start_s,
            "first_action_s": self.first_action_s,
            "contained_s": self.contained_s,
            "mtta_s": self.mtta,
            "mttc_s": self.mttc,
            "cases": [c.__dict__ for c in self.cases],
        }


def case_clock(case: SandboxCase, p: Played) -> CaseClock:
    """A case's `case_times`, read in exercise time."""
    t = case_times(case.records, case.steps)

    def at(ts: str | None) -> float | None:
        return None if ts is None else p.clock.exercise_seconds(ts)

    return CaseClock(case.id, case.agent, at(t.opened), at(t.first_action), at(t.contained), t.contains)


def exercise_times(p: Played) -> ExerciseTimes:
    """MTTA and MTTC of an exercise (module docstring)."""
    alert = next((r for r in p.of(K.INJECT_DELIVERED) if "alert" in (r.data.get("what") or [])), None)
    if alert is None:
        return ExerciseTimes("exercise start", 0.0, tuple(case_clock(c, p) for c in p.cases))
    named = ((alert.data.get("details") or {}).get("alert") or {}).get("cases") or []
    cases = [c for c in p.cases if c.id in named] or p.cases
    return ExerciseTimes(f"{alert.data.get('inject')} (alert)", p.at(alert), tuple(case_clock(c, p) for c in cases))
