"""An exercise is scored as it ended: `Exercise.end` keeps the sandbox's world and the case journals'
lengths, so resuming a case (or changing the world) after the end changes no score, and the report
says the sandbox changed after the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ir.cli.tabletop_run import runtime_for
from ir.core.journal import read
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.end_state import WORLD_AT_END
from ir.tabletop.exercise import Exercise
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

ECHOLEAK = REPO / "tabletop" / "echoleak-mail-exfil.yaml"  # its route waits for an approver


def ended_with_nothing_done(tmp_path: Path) -> tuple[Path, Path]:
    """The alert opened a case that waits for a person; the facilitator ends it there. (team ws, folder)"""
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    exercise = Exercise.begin(
        start=ws,
        scenario=load_scenario(ECHOLEAK),
        scenario_file=ECHOLEAK,
        runtime_for=runtime_for,
        clock=parse_clock("manual"),
        facilitator="fran",
    )
    try:
        exercise.tick()
        exercise.advance(150, "fran")  # I2, the alert, at 2m
        exercise.tick()
        exercise.end("facilitator", "fran")
    finally:
        exercise.close()
    return ws.root, exercise.sandbox.folder


def scored(ws: Path, folder: Path) -> tuple[str, dict[str, Any]]:
    done = ir_cmd("tabletop", "report", folder.name, cwd=ws)
    assert done.returncode == 0, done.stderr
    data = json.loads((folder / "report.json").read_text())
    return done.stdout, {e["expectation"]: e for o in data["objectives"] for e in o["expectations"]}


def test_resuming_a_case_after_the_end_does_not_change_the_score(tmp_path: Path) -> None:
    ws, folder = ended_with_nothing_done(tmp_path)
    out, before = scored(ws, folder)
    assert before["E2"]["status"] == "failed"  # frozen and revoked at the end: nothing was done
    assert "note:" not in out
    (case,) = (folder / "workspace" / "cases").iterdir()
    resumed = ir_cmd("-w", str(folder / "workspace"), "resume", case.name, "--yes", "--as", "bob")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr  # the world is frozen and revoked now
    out, after = scored(ws, folder)
    assert after["E2"]["status"] == "failed", after["E2"]["why"]
    assert after["E2"]["why"] == before["E2"]["why"]
    assert {e["file"] for e in after["E2"]["evidence"] if e["seq"] is None} == {WORLD_AT_END}
    assert after["E1"]["status"] == "failed"  # the freeze came after the end
    said = "the sandbox's simulated world changed after the exercise ended: world expectations read it as it was"
    assert f"note: {said}" in out
    assert f"case record(s) were written in the sandbox after the exercise ended and do not count: {case.name}" in out
    md = (folder / "report.md").read_text()
    assert f"> **Note:** {said}" in md


def test_the_end_records_the_world_and_an_edited_copy_is_refused(tmp_path: Path) -> None:
    ws, folder = ended_with_nothing_done(tmp_path)
    ended = [json.loads(line) for line in (folder / "exercise.jsonl").read_text().splitlines()][-2]
    assert ended["type"] == "exercise.ended"
    (case,) = (folder / "workspace" / "cases").iterdir()
    records = len(read(case / "journal.jsonl").records)  # the case waits: nothing was added since
    assert ended["data"]["world"]["file"] == WORLD_AT_END and ended["data"]["cases"] == {case.name: records}
    world = json.loads((folder / WORLD_AT_END).read_text())
    assert world["containers"]["mail-copilot"]["status"] == "running"
    world["containers"]["mail-copilot"]["status"] = "paused"  # someone makes the end look better
    (folder / WORLD_AT_END).write_text(json.dumps(world, indent=1, sort_keys=True) + "\n")
    done = ir_cmd("tabletop", "report", folder.name, cwd=ws)
    assert done.returncode == 1
    assert f"{WORLD_AT_END}: was altered after the exercise ended" in done.stderr
