"""An exercise's score: time to acknowledge and to contain in exercise time, and each objective rated
P/S/M/U (HSEEP) from its expectations.

**Times.** The clock starts when the first alert inject was delivered (the exercise start when the
scenario has none), over the alert's cases (the cases its delivery opened or joined; every case of
the sandbox when it named none), in exercise time, so pauses do not count.

*Acknowledged* is the first thing **a person** did in one of those cases — a mutating step started
in a run they started or resumed, or an approval, skip, override, decision, note or abort they
recorded — never what the alert route's automation ran as the service principal (`alerts.service.
principal` of the sandbox): a team that did nothing has not acknowledged, however fast the route
froze the agent. MTTA runs to it (never below zero: a responder who acted before the alert
acknowledged at once). *Contained* is what `ir cases --metrics` calls it (`ir.report.times.
case_times`: freeze, key and session steps all succeeded), whoever ran them; MTTC runs to the
moment the last of those cases was contained (none while one is not), and says who contained it:
the route's automation or a person.

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

from ir.core.journal import Record
from ir.core.records import Kind
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


PERSON_ACTS = frozenset(
    {Kind.APPROVAL_GRANTED, Kind.APPROVAL_DECLINED, Kind.STEP_SKIPPED, Kind.OVERRIDE, Kind.DECISION, Kind.NOTE}
    | {Kind.RUN_ABORTED}
)
"""Records that are an act of whoever their `by` names (a person, unless it is the service principal)."""


def segment_actors(records: Sequence[Record]) -> list[str]:
    """Who drove the run at each record: the actor of the latest `run.started` or `run.resumed`."""
    actor, out = "", []
    for rec in records:
        if rec.type in (Kind.RUN_STARTED, Kind.RUN_RESUMED):
            actor = str(rec.data.get("actor") or "")
        out.append(actor)
    return out


def acts(records: Sequence[Record], service: str) -> list[tuple[Record, str, bool]]:
    """What was done in a case, in order: (record, who, by the automation). A mutating step's start
    belongs to whoever drove that run; an approval, skip, override, decision, note or abort to its `by`."""
    mutating = {str(r.data.get("step")) for r in records if r.type == Kind.STEP_INTENT}
    found = []
    for rec, actor in zip(records, segment_actors(records), strict=True):
        if rec.type == Kind.STEP_STARTED and str(rec.data.get("step")) in mutating:
            found.append((rec, actor, actor == service))
        elif rec.type in PERSON_ACTS:
            by = str(rec.data.get("by") or "")
            if by:
                found.append((rec, by, by == service))
    return found


@dataclass(frozen=True)
class CaseClock:
    """One case's times in exercise seconds."""

    case: str
    agent: str
    opened_s: float | None
    first_action_s: float | None
    """The first thing a person did in the case (the route's automation never counts)."""
    contained_s: float | None
    contains: bool
    """Whether its playbook has containment steps (a release has none)."""
    first_action_by: str | None = None
    """Who that person was."""
    automation_s: float | None = None
    """The first step the alert route's automation started (as the service principal)."""
    contained_by: str | None = None
    """Who ran the run in which containment completed (the service principal: the route's automation)."""
    contained_by_automation: bool = False
    """Whether containment was completed by the route's automation."""


@dataclass(frozen=True)
class ExerciseTimes:
    """When the alert came, when its cases were first acted on and contained (exercise seconds)."""

    start: str
    """What the clock runs from: `I2 (alert)` or `exercise start`."""
    start_s: float
    cases: tuple[CaseClock, ...]
    """The alert's cases."""

    service: str = ""
    """The alert route's service principal (what it acts as)."""

    @property
    def first_action(self) -> CaseClock | None:
        """The case a person acted on first."""
        known = [c for c in self.cases if c.first_action_s is not None]
        return min(known, key=lambda c: c.first_action_s or 0.0) if known else None

    @property
    def first_action_s(self) -> float | None:
        """The first thing a person did on any of the alert's cases."""
        first = self.first_action
        return None if first is None else first.first_action_s

    @property
    def automation_s(self) -> float | None:
        """The first step the route's automation started on any of the alert's cases."""
        known = [c.automation_s for c in self.cases if c.automation_s is not None]
        return min(known) if known else None

    @property
    def contained_last(self) -> CaseClock | None:
        """The last of the alert's incident cases to be contained (None while one is not)."""
        incident = [c for c in self.cases if c.contains]
        if not incident or any(c.contained_s is None for c in incident):
            return None
        return max(incident, key=lambda c: c.contained_s or 0.0)

    @property
    def contained_s(self) -> float | None:
        """When the last of the alert's incident cases was contained (None while one is not)."""
        last = self.contained_last
        return None if last is None else last.contained_s

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
        first, last = self.first_action, self.contained_last
        return {
            "start": self.start,
            "start_s": self.start_s,
            "first_action_s": self.first_action_s,
            "first_action_by": first.first_action_by if first else None,
            "automation_s": self.automation_s,
            "contained_s": self.contained_s,
            "contained_by": last.contained_by if last else None,
            "contained_by_automation": last.contained_by_automation if last else None,
            "service": self.service,
            "mtta_s": self.mtta,
            "mttc_s": self.mttc,
            "cases": [c.__dict__ for c in self.cases],
        }


def case_clock(case: SandboxCase, p: Played, service: str) -> CaseClock:
    """A case's times in exercise time: `case_times` for opening and containment; the first act of a
    person and of the route's automation (`service`); who ran the run in which containment completed."""
    t = case_times(case.records, case.steps)

    def at(ts: str | None) -> float | None:
        return None if ts is None else p.clock.exercise_seconds(ts)

    done = acts(case.records, service)
    person = next(((rec, who) for rec, who, auto in done if not auto), None)
    automated = next((rec for rec, _who, auto in done if auto), None)
    by = None
    if t.contained is not None:
        actors = segment_actors(case.records)
        index = next(i for i in reversed(range(len(case.records))) if case.records[i].ts == t.contained)
        by = actors[index]
    return CaseClock(
        case.id,
        case.agent,
        at(t.opened),
        at(person[0].ts) if person else None,
        at(t.contained),
        t.contains,
        first_action_by=person[1] if person else None,
        automation_s=at(automated.ts) if automated else None,
        contained_by=by,
        contained_by_automation=by == service,
    )


def exercise_times(p: Played) -> ExerciseTimes:
    """MTTA and MTTC of an exercise (module docstring)."""
    service = p.workspace.settings.alerts.service.principal
    alert = next((r for r in p.of(K.INJECT_DELIVERED) if "alert" in (r.data.get("what") or [])), None)
    if alert is None:
        clocks = tuple(case_clock(c, p, service) for c in p.cases)
        return ExerciseTimes("exercise start", 0.0, clocks, service)
    named = ((alert.data.get("details") or {}).get("alert") or {}).get("cases") or []
    cases = [c for c in p.cases if c.id in named] or p.cases
    clocks = tuple(case_clock(c, p, service) for c in cases)
    return ExerciseTimes(f"{alert.data.get('inject')} (alert)", p.at(alert), clocks, service)
