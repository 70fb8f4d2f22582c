"""Expectations decided from what the exercise recorded: pass, fail or pending, each with the record
that decided it and one line saying why. Never self-reported: the engine's journals and the
simulated world decide `step`, `order`, `world` and `decision`; only `manual` ones are the
facilitator's (`expectation.marked`).

- **step**: a `step.result` succeeded (no target failed) for a step running that action (or
  `step:ID`), in a case of `agent` (any case without), at exercise time ≤ the delivery of `after`
  (the start without) + `within`. A step that succeeded late fails, and says how late. When
  `after` was skipped (its `unless` held) or never delivered, there is no deadline.
- **order**: `first` succeeded before any `then` step started, across the agent's cases (by `ts`;
  within a case by `seq`). `destructive` means a step that stops, deletes, isolates or removes
  (`ir.tabletop.destructive`: read from the engine's registry, handed in by the caller, and the
  step's approval). A `then` step started first fails at once (naming the override, if one let it
  run); `first` never succeeding fails at the end.
- **world**: every condition holds on the sandbox's cases and world now; at the end, one that
  does not hold fails.
- **decision**: a `decision` record for the agent, of that kind, whose signatures verify against
  the sandbox's allowed signers (as `ir verify` checks them), naming its decider.
- **manual**: the latest `expectation.marked` for it; pending until marked, even after the end.

While the exercise runs, what has not happened yet is `pending`; once it ended, every engine
expectation is passed or failed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Literal

from ir.core.inventory import Frozen
from ir.core.journal import Record
from ir.core.records import Kind
from ir.core.signing_journal import case_id_of, decision_signers
from ir.report.times import duration
from ir.tabletop.clock import wall
from ir.tabletop.conditions import holds
from ir.tabletop.destructive import Destructive, as_destructive
from ir.tabletop.played import Evidence, Played, SandboxCase, at_text, load_played
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.sandbox import JOURNAL_FILE
from ir.tabletop.scenario import DecisionCheck, Expectation, OrderCheck, Scenario, StepCheck, WorldCheck, seconds

Status = Literal["passed", "failed", "pending"]
ENGINE_KINDS = ("step", "order", "world", "decision")
"""Expectations the engine's records decide (the rest, `manual`, the facilitator marks)."""
DESTRUCTIVE = "destructive"


class Result(Frozen):
    """How one expectation stands, and what decided it."""

    expectation: str
    """The expectation's id."""
    objective: str
    """The objective it counts for."""
    kind: str
    """step, order, world, decision or manual."""
    title: str
    """What was expected."""
    status: Status
    """passed, failed or pending."""
    why: str
    """One line: what decided it."""
    evidence: tuple[Evidence, ...] = ()
    """The records (journal file and seq) or world state that decided it."""
    source: Literal["engine", "facilitator"] = "engine"
    """Who decides it: the engine's records, or the facilitator's mark."""
    at_s: float | None = None
    """Exercise time of the deciding record, when one decided it."""


def evaluate(
    scenario: Scenario,
    exercise_dir: Path,
    *,
    destructive: Destructive | Collection[str],
    now: str | datetime | None = None,
) -> list[Result]:
    """Every expectation of the scenario, in scenario order, from the exercise folder."""
    return evaluate_played(load_played(exercise_dir, scenario), destructive=destructive, now=now)


def evaluate_played(
    played: Played, *, destructive: Destructive | Collection[str], now: str | datetime | None = None
) -> list[Result]:
    """Every expectation of an exercise already read (`destructive`: the rule built from the registry,
    `Destructive.from_actions`; a plain collection of action names counts those actions only)."""
    now_s, ended = played.now(now), played.ended is not None
    results = []
    for e in played.scenario.expectations:
        if e.step is not None:
            status, why, ev, at = _step(e.step, played, now_s, ended)
        elif e.order is not None:
            status, why, ev, at = _order(e.order, played, as_destructive(destructive), ended)
        elif e.world is not None:
            status, why, ev, at = _world(e.world, played, now_s, ended)
        elif e.decision is not None:
            status, why, ev, at = _decision(e.decision, played, ended)
        else:
            status, why, ev, at = _manual(e, played)
        results.append(
            Result(
                expectation=e.id,
                objective=e.objective,
                kind=e.kind,
                title=e.title,
                status=status,
                why=why,
                evidence=tuple(ev),
                source="facilitator" if e.kind == "manual" else "engine",
                at_s=at,
            )
        )
    return results


Decided = tuple[Status, str, list[Evidence], float | None]


def matches(pattern: str, step: str, action: str | None) -> bool:
    """Whether a step is the one a check names: `step:ID` names a step id, anything else an action."""
    if pattern.startswith("step:"):
        return step == pattern.removeprefix("step:")
    return action == pattern


def succeeded(rec: Record) -> bool:
    """A `step.result` that succeeded for every target (no `failed` outputs)."""
    outputs = rec.data.get("outputs") or {}
    return (
        rec.type == Kind.STEP_RESULT
        and rec.data.get("status") == "succeeded"
        and not (isinstance(outputs, dict) and outputs.get("failed"))
    )


def _ev(case: SandboxCase, rec: Record, what: str = "") -> Evidence:
    return Evidence(file=case.file, seq=rec.seq, what=what or f"{rec.type} {rec.data.get('step', '')}".strip())


# -- step -----------------------------------------------------------------------------------------
def deadline(check: StepCheck, p: Played) -> tuple[float | None, str]:
    """(the check's deadline in exercise seconds, or None while there is none or it is not known yet;
    what it counts from)."""
    if check.within is None:
        return None, "no deadline"
    within = float(seconds(check.within))
    if check.after is None:
        return within, f"{check.within} after the start"
    delivered = p.delivered(check.after)
    if delivered is not None:
        return p.at(delivered) + within, f"{check.within} after {check.after} ({at_text(p.at(delivered))})"
    if p.skipped(check.after) is not None:
        return None, f"{check.after} was skipped, so no deadline"
    if p.ended is not None:
        return None, f"{check.after} was never delivered, so no deadline"
    return None, f"{check.within} after {check.after}, not delivered yet"


def _step(check: StepCheck, p: Played, now_s: float, ended: bool) -> Decided:
    due, counted = deadline(check, p)
    done: list[tuple[float, SandboxCase, Record]] = []
    for case in p.cases_of(check.agent):
        for rec in case.records:
            step = str(rec.data.get("step", ""))
            if succeeded(rec) and matches(check.action, step, case.action_of(step)):
                done.append((p.clock.exercise_seconds(rec.ts), case, rec))
    done.sort(key=lambda d: d[0])
    what = f"{check.action}" + (f" for {check.agent}" if check.agent else "")
    in_time = [d for d in done if due is None or d[0] <= due]
    if in_time:
        at, case, rec = in_time[0]
        return "passed", f"{what} succeeded at {at_text(at)} in {case.id} ({counted})", [_ev(case, rec)], at
    if done and due is not None:
        at, case, rec = done[0]
        late = f"{what} succeeded at {at_text(at)}, {duration(at - due)} after the deadline {at_text(due)}"
        late += f" ({counted})"
        return "failed", late, [_ev(case, rec)], at
    if ended:
        return "failed", f"no step running {what} succeeded ({counted})", [], None
    if due is not None and now_s > due:
        return "failed", f"no step running {what} succeeded by {at_text(due)} ({counted})", [], due
    return "pending", f"waiting for {what} ({counted})", [], None


# -- order ----------------------------------------------------------------------------------------
Moment = tuple[datetime, int, SandboxCase, Record]


def _before(a: Moment, b: Moment) -> bool:
    if a[2].dir == b[2].dir:
        return a[1] < b[1]
    return a[0] < b[0]


def _order(check: OrderCheck, p: Played, destructive: Destructive, ended: bool) -> Decided:
    named = [t for t in check.then if t != DESTRUCTIVE]
    firsts: list[Moment] = []
    thens: list[Moment] = []
    for case in p.cases_of(check.agent):
        for rec in case.records:
            step = str(rec.data.get("step", ""))
            action = case.action_of(step)
            if matches(check.first, step, action):
                if succeeded(rec):
                    firsts.append((wall(rec.ts), rec.seq, case, rec))
            elif rec.type == Kind.STEP_STARTED and (
                any(matches(t, step, action) for t in named)
                or (DESTRUCTIVE in check.then and destructive.counts(action, step in case.gated))
            ):
                thens.append((wall(rec.ts), rec.seq, case, rec))
    first = min(firsts, key=lambda m: m[0]) if firsts else None
    then_text = ", ".join(check.then)
    early = [t for t in thens if first is None or _before(t, first)]
    if early:
        _, _, case, rec = min(early, key=lambda m: m[0])
        step = str(rec.data.get("step"))
        ev = [_ev(case, rec, f"step.started {step} ({case.action_of(step)})")]
        override = next(
            (r for r in case.records if r.type == Kind.OVERRIDE and r.data.get("step") == step and r.seq < rec.seq),
            None,
        )
        why = f"{step} ({case.action_of(step)}) started at {at_text(p.clock.exercise_seconds(rec.ts))} in {case.id}"
        why += f" before {check.first} had succeeded" if first is None else f", before {check.first} succeeded"
        if override is not None:
            why += f" (evidence requirement overridden by {override.data.get('by')}: {override.data.get('reason')})"
            ev.append(_ev(case, override))
        if first is not None:
            ev.append(_ev(first[2], first[3]))
        return "failed", why, ev, p.clock.exercise_seconds(rec.ts)
    if first is not None:
        at = p.clock.exercise_seconds(first[3].ts)
        return (
            "passed",
            f"{check.first} succeeded at {at_text(at)} in {first[2].id} before any {then_text} step started",
            [_ev(first[2], first[3])],
            at,
        )
    if ended:
        return "failed", f"{check.first} never succeeded", [], None
    return "pending", f"waiting for {check.first} (nothing {then_text} has started)", [], None


# -- world ----------------------------------------------------------------------------------------
def _world(check: WorldCheck, p: Played, now_s: float, ended: bool) -> Decided:
    found = [(c, *holds(c, p)) for c in check.all]
    evidence = [e for _, _, finding in found for e in finding.evidence]
    missing = [f"{c}: {finding}" for c, ok, finding in found if not ok]
    if not missing:
        return "passed", "; ".join(f"{c}: {finding}" for c, _, finding in found), evidence, now_s
    if ended:
        return "failed", "; ".join(missing), evidence, now_s
    return "pending", "not yet: " + "; ".join(missing), evidence, None


# -- decision -------------------------------------------------------------------------------------
def _decision(check: DecisionCheck, p: Played, ended: bool) -> Decided:
    problems: list[tuple[str, list[Evidence]]] = []
    for case in p.cases:
        for rec in case.records:
            if rec.type != Kind.DECISION:
                continue
            about = rec.data.get("agent") or case.agent
            if about != check.agent:
                continue
            kind = rec.data.get("decision")
            ev = [_ev(case, rec, f"decision {kind} by {rec.data.get('by')}")]
            if check.decision is not None and kind != check.decision:
                problems.append((f"{case.id} seq {rec.seq} decided {kind}, not {check.decision}", ev))
                continue
            if check.signed:
                before = case.records[rec.seq - 2] if rec.seq > 1 else None
                _good, bad = decision_signers(case_id_of(case.records, case.dir), rec.data, before, p.trust)
                if bad:
                    problems.append((f"the decision in {case.id} (seq {rec.seq}) does not verify: {bad[0]}", ev))
                    continue
            at = p.clock.exercise_seconds(rec.ts)
            signed = ", signatures verify" if check.signed else ""
            return "passed", f"{kind} decided by {rec.data.get('by')} at {at_text(at)} in {case.id}{signed}", ev, at
    wanted = f"a {check.decision} decision" if check.decision else "a decision"
    if problems:
        why = f"no good {wanted.removeprefix('a ')} for {check.agent}: " + "; ".join(w for w, _ in problems)
        return ("failed" if ended else "pending"), why, [e for _, ev in problems for e in ev], None
    if ended:
        return "failed", f"{wanted} for {check.agent} was never recorded", [], None
    return "pending", f"waiting for {wanted} for {check.agent}", [], None


# -- manual ---------------------------------------------------------------------------------------
def _manual(e: Expectation, p: Played) -> Decided:
    marks = [r for r in p.of(K.EXPECTATION_MARKED) if r.data.get("expectation") == e.id]
    if not marks:
        return "pending", f"not marked yet: {e.manual}", [], None
    last = marks[-1]
    note = f": {last.data.get('note')}" if last.data.get("note") else ""
    passed = last.data.get("passed") is True
    why = f"marked {'passed' if passed else 'failed'} by {last.data.get('by')}{note}"
    ev = [Evidence(file=JOURNAL_FILE, seq=last.seq, what=f"{K.EXPECTATION_MARKED} {e.id}")]
    return ("passed" if passed else "failed"), why, ev, p.at(last)
