"""Every shipped scenario (tabletop/*.yaml) played by its reference response (`--auto`): a regression
test of the shipped playbooks against every scenario. Each must end by its end condition, with every
move played and every case in its sandbox verifying."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.cli.tabletop_run import AUTO_CLOCK, runtime_for
from ir.core.journal import Record
from ir.core.verify import verify_case
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.exercise import Exercise
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, make_workspace

SHIPPED = sorted((REPO / "tabletop").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_the_reference_response_ends_the_scenario(path: Path, tmp_path: Path) -> None:
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
