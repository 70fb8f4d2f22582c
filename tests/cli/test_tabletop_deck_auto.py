"""Every shipped scenario (tabletop/*.yaml) played by its reference response (`--auto`): a regression
test of the shipped playbooks against every scenario. Each must end by its end condition, with every
move played and every case in its sandbox verifying; scored, every engine and world expectation
passes (and every manual one the reference marks), and `ir tabletop report` writes its report."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.cli.tabletop_run import AUTO_CLOCK, runtime_for
from ir.cli.tabletop_score import destructive_actions
from ir.core.journal import Record
from ir.core.verify import verify_case
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.exercise import Exercise
from ir.tabletop.expectations import ENGINE_KINDS, evaluate
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

SHIPPED = sorted((REPO / "tabletop").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_the_reference_response_ends_the_scenario_and_passes_every_expectation(path: Path, tmp_path: Path) -> None:
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    seen: list[Record] = []
    exercise = Exercise.begin(
        start=ws,
        scenario=load_scenario(path),
        scenario_file=path,
        runtime_for=runtime_for,
        clock=parse_clock(AUTO_CLOCK),
        auto=True,
        facilitator="facilitator",
        on_record=seen.append,
    )
    try:
        assert exercise.run_auto() == "end condition"
    finally:
        exercise.close()
    errors = [r.data for r in seen if r.type == "move.played" and "error" in r.data["result"]]
    assert errors == []
    for case in sorted((exercise.sandbox.workspace_root / "cases").iterdir()):
        assert verify_case(case).ok, case.name
    scenario, folder = exercise.scenario, exercise.sandbox.folder
    marked = {move.mark for move in scenario.reference if move.mark}
    results = evaluate(scenario, folder, destructive=destructive_actions())
    scored = {r.expectation: r.status for r in results if r.kind in ENGINE_KINDS or r.expectation in marked}
    assert scored == dict.fromkeys(scored, "passed"), [r.why for r in results if r.status != "passed"]
    assert {r.status for r in results if r.expectation not in scored} <= {"pending"}  # unmarked manual ones
    done = ir_cmd("tabletop", "report", str(folder), cwd=ws.root)
    assert done.returncode == 0, done.stderr
    for name in ("report.md", "report.json", "timeline.svg"):
        assert (folder / name).stat().st_size > 0, name
    assert "\\n" not in (folder / "report.md").read_text()  # no literal newline escape in any cell
