"""Time to acknowledge is a person's: what the alert route's automation runs as the service principal
never counts as the team's first action, and the report labels it automation. Time to contain counts
whoever contained, and says who."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ir.cli.tabletop_run import runtime_for
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.exercise import Exercise
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"  # auto_then_approve: the route contains


def play(tmp_path: Path, *, approver_after: float | None) -> tuple[str, dict[str, Any], Path]:
    """The alert at T+2:00 (the route freezes and revokes at once); optionally an approver approves the
    console step `approver_after` seconds later; the facilitator ends. (`ir tabletop report` output, data, folder)"""
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    exercise = Exercise.begin(
        start=ws,
        scenario=load_scenario(DRILL),
        scenario_file=DRILL,
        runtime_for=runtime_for,
        clock=parse_clock("manual"),
        facilitator="fran",
    )
    try:
        for step in (60, 30, 30):  # I1 at 1m, I2 at 1m30s, I3 (the alert) at 2m
            exercise.advance(step, "fran")
            exercise.tick()
        if approver_after is not None:
            exercise.advance(approver_after, "fran")
            (case,) = (exercise.sandbox.workspace_root / "cases").iterdir()
            done = ir_cmd(
                "-w", str(exercise.sandbox.workspace_root), "resume", case.name, "--approve", "console", "--as", "alice"
            )
            assert done.returncode in (0, 4), done.stdout + done.stderr
        exercise.advance(30, "fran")
        exercise.end("facilitator", "fran")
    finally:
        exercise.close()
    folder = exercise.sandbox.folder
    result = ir_cmd("tabletop", "report", folder.name, cwd=ws.root)
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads((folder / "report.json").read_text()), folder


def test_a_team_that_did_nothing_has_not_acknowledged_however_fast_the_route_contained(tmp_path: Path) -> None:
    out, data, folder = play(tmp_path, approver_after=None)
    times = data["times"]
    assert times["mtta_s"] is None and times["first_action_s"] is None  # not 0.000s
    assert times["automation_s"] == times["start_s"] == 120.0
    assert times["mttc_s"] == 0.0 and times["contained_by_automation"] is True
    assert "time to acknowledge — (no person acted)  time to contain 0.000s" in out
    automation = "the route's automation (exercise-service)"
    assert f"acknowledged: no person acted; {automation} acted first, at T+2:00, and does not count" in out
    assert f"contained by: {automation} at T+2:00" in out
    rows = [r for r in data["timeline"] if r["file"].startswith("workspace/cases/")]
    assert rows and {r["lane"] for r in rows} == {"automation"}  # nothing of it is labelled a responder's
    assert {r["who"] for r in rows} == {"exercise-service"}
    md = (folder / "report.md").read_text()
    assert f"contained by: {automation} at T+2:00" in md
    assert "| T+2:00 | automation | exercise-service | freeze (container.pause) succeeded |" in md
    svg = (folder / "timeline.svg").read_text()
    assert "automation, not a responder: freeze (container.pause) succeeded" in svg and "route automation" in svg
    assert "time to acknowledge: not reached" in svg


def test_the_first_person_who_acts_starts_the_clock(tmp_path: Path) -> None:
    out, data, _folder = play(tmp_path, approver_after=45)
    times = data["times"]
    assert (times["mtta_s"], times["first_action_by"]) == (45.0, "alice")
    assert times["mttc_s"] == 0.0 and times["contained_by"] == "exercise-service"  # the route had contained
    assert "time to acknowledge 45.0s  time to contain 0.000s" in out
    assert "acknowledged: alice at T+2:45; the route's automation (exercise-service) acted first, at T+2:00" in out
    alice = [r for r in data["timeline"] if r["who"] == "alice"]
    assert alice and {r["lane"] for r in alice} == {"responder"}
