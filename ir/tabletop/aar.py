"""The after-action report and improvement plan of an exercise (HSEEP order), as data.

`build_aar` reads an exercise folder and returns what `report.json` holds (`schema: ir/aar/v1`):
the overview (name, dates, scope, objectives, scenario, participants), the executive summary
(strengths, areas for improvement, times), each objective with its rating and the expectations
under it with their evidence, a timeline of injects against responder actions, the improvement
plan, and the participants. `write_aar` writes `report.md`, `report.json`, `timeline.svg` and
`improvement.yaml` into the exercise folder. Every string is redacted as the journal is; the
renderers neutralise and escape text from the agent's world.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.core.journal import Record
from ir.core.records import Kind
from ir.core.redaction import redact
from ir.report.times import duration
from ir.tabletop.aar_markdown import render_markdown
from ir.tabletop.aar_svg import timeline_svg
from ir.tabletop.clock import wall
from ir.tabletop.destructive import Destructive
from ir.tabletop.expectations import ENGINE_KINDS, Result, deadline, evaluate_played
from ir.tabletop.improvement import PLAN_FILE, PlanRow, apply_edits, load_edits, plan_rows, plan_text
from ir.tabletop.played import Played, SandboxCase, at_text, load_played
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.sandbox import JOURNAL_FILE
from ir.tabletop.scoring import (
    RATINGS,
    ExerciseTimes,
    ObjectiveScore,
    exercise_times,
    score_objectives,
    segment_actors,
)

SCHEMA = "ir/aar/v1"
FILES = ("report.md", "report.json", "timeline.svg")


def build_aar(played: Played, results: Sequence[Result]) -> dict[str, Any]:
    """The report's data (what `report.json` holds)."""
    scores = score_objectives(played.scenario, results)
    times = exercise_times(played)
    started, ended = played.first(K.STARTED), played.ended
    day = wall(ended.ts if ended else started.ts if started else datetime.now(UTC)).date()
    edits = load_edits(played.dir / PLAN_FILE)
    plan = apply_edits(plan_rows(played.scenario, results, day), edits)
    data = {
        "schema": SCHEMA,
        "exercise": _exercise(played, started, ended),
        "overview": _overview(played, started, ended),
        "summary": _summary(scores, results, times),
        "objectives": [_objective(s) for s in scores],
        "timeline": timeline(played),
        "times": times.as_dict(),
        "deadlines": _deadlines(played, results),
        "improvement_plan": [row.model_dump(mode="json") for row in plan],
        "participants": _participants(played),
        "notes": list(played.notes),
    }
    redacted: dict[str, Any] = redact(data)
    return redacted


def _exercise(p: Played, started: Record | None, ended: Record | None) -> dict[str, Any]:
    s = dict(started.data) if started else {}
    last = p.records[-1]
    return {
        "id": p.id,
        "status": "ended" if ended else "in progress",
        "ended_reason": ended.data.get("reason") if ended else None,
        "started": started.ts if started else None,
        "ended": ended.ts if ended else None,
        "length_s": p.now(),
        "clock": s.get("clock"),
        "auto": s.get("auto"),
        "live_fire": s.get("live_fire"),
        "facilitator": s.get("facilitator"),
        "journal": {"file": JOURNAL_FILE, "records": len(p.records), "head": {"seq": last.seq, "hash": last.hash}},
    }


def _overview(p: Played, started: Record | None, ended: Record | None) -> dict[str, Any]:
    sc = p.scenario
    pinned = dict((started.data.get("scenario") or {}) if started else {})
    return {
        "name": sc.title,
        "dates": {
            "start": wall(started.ts).date().isoformat() if started else None,
            "end": wall(ended.ts).date().isoformat() if ended else None,
        },
        "scope": {
            "summary": sc.summary,
            "agents": sorted(sc.world.agents),
            "injects": [{"id": i.id, "title": i.title} for i in sc.injects],
            "references": sc.references.model_dump(mode="json"),
        },
        "objectives": [o.model_dump(mode="json") for o in sc.objectives],
        "scenario": {
            "id": sc.id,
            "version": sc.version,
            "sha256": pinned.get("sha256"),
            "title": sc.title,
            "narrative": sc.narrative,
        },
        "participants": [
            f"{r.data.get('as')} ({_role_title(p, r.data.get('role'))})" for r in p.of(K.PARTICIPANT_JOINED)
        ],
        "point_of_contact": (started.data.get("facilitator") if started else None) or None,
    }


def _summary(scores: Sequence[ObjectiveScore], results: Sequence[Result], times: ExerciseTimes) -> dict[str, Any]:
    strengths = [
        f"{s.objective.id} {s.objective.title}: {s.rating} — "
        + "; ".join(r.title for r in s.results if r.status == "passed")
        for s in scores
        if s.rating in ("P", "S")
    ]
    improve = [f"{r.expectation} {r.title}: {r.status} — {r.why}" for r in results if r.status != "passed"]
    acknowledged, contained = who_acted(times)
    return {
        "ratings": {s.objective.id: s.rating for s in scores},
        "strengths": strengths,
        "areas_for_improvement": improve,
        "time_to_acknowledge": duration(times.mtta) if times.mtta is not None else "— (no person acted)",
        "time_to_contain": duration(times.mttc) if times.mttc is not None else "— (not contained)",
        "acknowledged_by": acknowledged,
        "contained_by": contained,
        "passed": sum(r.status == "passed" for r in results),
        "failed": sum(r.status == "failed" for r in results),
        "pending": sum(r.status == "pending" for r in results),
    }


def who_acted(times: ExerciseTimes) -> tuple[str, str | None]:
    """(who acknowledged and when — noting automation that acted first and does not count; who
    contained and when: the route's automation or a person, None while not contained)."""
    automation = f"the route's automation ({times.service})"
    first = times.first_action
    said = f"{first.first_action_by} at {at_text(first.first_action_s)}" if first else "no person acted"
    if times.automation_s is not None and (first is None or times.automation_s < (first.first_action_s or 0.0)):
        said += f"; {automation} acted first, at {at_text(times.automation_s)}, and does not count"
    last = times.contained_last
    if last is None:
        return said, None
    by = automation if last.contained_by_automation else (last.contained_by or "someone")
    return said, f"{by} at {at_text(last.contained_s)}"


def _deadlines(p: Played, results: Sequence[Result]) -> list[dict[str, Any]]:
    status = {r.expectation: r.status for r in results}
    found = []
    for e in p.scenario.expectations:
        if e.step is not None and (at := deadline(e.step, p)[0]) is not None:
            found.append({"expectation": e.id, "at_s": at, "status": status.get(e.id, "pending")})
    return found


def _objective(s: ObjectiveScore) -> dict[str, Any]:
    return {
        "id": s.objective.id,
        "title": s.objective.title,
        "capability": s.objective.capability,
        "rating": s.rating,
        "rating_meaning": RATINGS.get(s.rating or "", "not rated"),
        "why": s.why,
        "expectations": [r.model_dump(mode="json") for r in s.results],
    }


def _role_title(p: Played, role: object) -> str:
    return next((r.title for r in p.scenario.roles if r.id == role), str(role or "—"))


def _participants(p: Played) -> list[dict[str, Any]]:
    acted: dict[str, int] = {}
    for row in timeline(p):
        if row["who"]:
            acted[row["who"]] = acted.get(row["who"], 0) + 1
    return [
        {
            "as": r.data.get("as"),
            "role": r.data.get("role"),
            "role_title": _role_title(p, r.data.get("role")),
            "joined_at_s": p.at(r),
            "records": acted.get(str(r.data.get("as")), 0),
        }
        for r in p.of(K.PARTICIPANT_JOINED)
    ]


# -- the timeline: injects against responder actions ----------------------------------------------
def timeline(p: Played) -> list[dict[str, Any]]:
    """Every inject, facilitator act and responder action, in exercise-time order."""
    rows = [row for rec in p.records if (row := _exercise_row(p, rec))]
    service = p.workspace.settings.alerts.service.principal
    for case in p.cases:
        actors = segment_actors(case.records)
        rows += [
            row for rec, actor in zip(case.records, actors, strict=True) if (row := _case_row(p, case, rec, actor))
        ]
    for row in rows:  # what the alert route ran as the service principal is automation, not a responder
        if row["lane"] == "responder" and row["who"] == service:
            row["lane"] = "automation"
    rows.sort(key=lambda r: (r["at_s"], _rank(r), r["ts"]))
    return rows


def _rank(row: dict[str, Any]) -> int:
    """At one exercise time, what set things off (the start, an inject) comes before what answered it."""
    return 0 if row["lane"] == "inject" or row["what"].startswith("exercise started") else 1


def _row(
    p: Played,
    rec: Record,
    lane: str,
    what: str,
    *,
    who: object = None,
    file: str = JOURNAL_FILE,
    failed: bool = False,
) -> dict[str, Any]:
    at = p.at(rec) if file == JOURNAL_FILE else p.clock.exercise_seconds(rec.ts)
    return {
        "at_s": at,
        "at": at_text(at),
        "ts": rec.ts,
        "lane": lane,
        "what": what,
        "who": str(who) if who else "",
        "failed": failed,
        "file": file,
        "seq": rec.seq,
    }


def _exercise_row(p: Played, rec: Record) -> dict[str, Any] | None:
    d = rec.data
    if rec.type == K.INJECT_DELIVERED:
        kinds = ", ".join(str(k) for k in d.get("what") or [])
        return _row(p, rec, "inject", f"{d.get('inject')} {d.get('title')} ({kinds})")
    if rec.type == K.INJECT_SKIPPED:
        return _row(p, rec, "inject", f"{d.get('inject')} skipped: {d.get('why')}")
    if rec.type == K.STARTED:
        return _row(p, rec, "facilitator", f"exercise started (clock {d.get('clock')})", who=d.get("facilitator"))
    if rec.type == K.ENDED:
        return _row(p, rec, "facilitator", f"exercise ended: {d.get('reason')}", who=d.get("by"))
    if rec.type in (K.CLOCK_PAUSED, K.CLOCK_RESUMED):
        return _row(p, rec, "facilitator", rec.type.replace("clock.", "clock "), who=d.get("by"))
    if rec.type == K.EXPECTATION_MARKED:
        verdict = "passed" if d.get("passed") is True else "failed"
        note = f": {d.get('note')}" if d.get("note") else ""
        return _row(p, rec, "facilitator", f"{d.get('expectation')} marked {verdict}{note}", who=d.get("by"))
    if rec.type == K.NOTE:
        return _row(p, rec, "facilitator", f"note: {d.get('text')}", who=d.get("by"))
    return None


def _case_row(p: Played, case: SandboxCase, rec: Record, actor: str) -> dict[str, Any] | None:
    """A case record a person (or the alert route's automation: `actor`, who drove the run) did."""
    d, f = rec.data, case.file
    step = str(d.get("step", ""))
    if rec.type == Kind.RUN_STARTED:
        trigger = d.get("trigger") or {}
        by = d.get("actor") or trigger.get("route")
        pin = (d.get("playbook") or {}).get("id")
        return _row(p, rec, "responder", f"case {case.id} opened: {pin} for {case.agent}", who=by, file=f)
    if rec.type == Kind.STEP_RESULT:
        status = str(d.get("status"))
        what = f"{step} ({case.action_of(step)}) {status}" + (f": {d.get('error')}" if d.get("error") else "")
        approved = case.state.approvals.get(step)
        who = approved or actor
        return _row(p, rec, "responder", what, who=who, file=f, failed=status in ("failed", "errored"))
    if rec.type == Kind.STEP_SKIPPED and d.get("by"):
        return _row(p, rec, "responder", f"{step} skipped: {d.get('reason')}", who=d.get("by"), file=f)
    if rec.type == Kind.OVERRIDE:
        what = f"{step}: evidence requirement overridden: {d.get('reason')}"
        return _row(p, rec, "responder", what, who=d.get("by"), file=f, failed=True)
    if rec.type in (Kind.DECISION, Kind.DECISION_REFUSED):
        refused = rec.type == Kind.DECISION_REFUSED
        what = f"decision {d.get('decision')}" + (f" refused: {d.get('why')}" if refused else f": {d.get('reason')}")
        return _row(p, rec, "responder", what, who=d.get("by"), file=f, failed=refused)
    if rec.type == Kind.NOTE:
        return _row(p, rec, "responder", f"note: {d.get('text')}", who=d.get("by"), file=f)
    if rec.type == Kind.RUN_ABORTED:
        return _row(p, rec, "responder", f"run aborted: {d.get('reason')}", who=d.get("by"), file=f, failed=True)
    if rec.type == Kind.RUN_FINISHED and d.get("still_live"):
        live = "; ".join(str(item.get("what")) for item in d.get("still_live") or [])
        what = f"run ended {d.get('status')}, still live: {live}"
        return _row(p, rec, "responder", what, who=actor, file=f, failed=True)
    return None


# -- writing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrittenAar:
    """What `write_aar` wrote, and the report's data."""

    paths: tuple[Path, ...]
    data: dict[str, Any]


def score_exercise(
    exercise_dir: Path, *, destructive: Destructive | Collection[str], now: str | datetime | None = None
) -> tuple[Played, dict[str, Any]]:
    """Read and score an exercise folder: (the exercise, the report's data), nothing written."""
    played = load_played(exercise_dir)
    return played, build_aar(played, evaluate_played(played, destructive=destructive, now=now))


def engine_failures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine expectations (step, order, world, decision) a report's data says failed."""
    return [
        e
        for o in data["objectives"]
        for e in o["expectations"]
        if e["kind"] in ENGINE_KINDS and e["status"] == "failed"
    ]


def write_aar(
    exercise_dir: Path, *, destructive: Destructive | Collection[str], now: str | datetime | None = None
) -> WrittenAar:
    """Score the exercise and write `report.md`, `report.json`, `timeline.svg` and `improvement.yaml`."""
    played, data = score_exercise(exercise_dir, destructive=destructive, now=now)
    plan = [PlanRow.model_validate(row) for row in data["improvement_plan"]]
    texts = {
        "report.md": render_markdown(data),
        "report.json": json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True) + "\n",
        "timeline.svg": timeline_svg(data),
        PLAN_FILE: plan_text(played.id, plan, load_edits(played.dir / PLAN_FILE)),
    }
    paths = []
    for name, text in texts.items():
        write_atomically(played.dir / name, text)
        paths.append(played.dir / name)
    return WrittenAar(tuple(paths), data)


def write_atomically(target: Path, text: str) -> None:
    """Whole or absent: a reader never sees half a file (a symlink there is replaced, never followed)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".aar-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
