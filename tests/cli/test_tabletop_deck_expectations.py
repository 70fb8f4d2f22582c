"""Shipped scenarios' expectations check what their titles promise: a team whose step an expectation
is about did not succeed fails it, even when another step running the same action succeeded (the
agent's own console step is not the minted user's; the minted users' keys step is not the agent's).

Each case plays the scenario on a manual clock to just after the alert, then a responder works the
agent's case in the sandbox — resuming the case the alert opened with `--skip STEP`, or (when the
route only observed) running the playbook while the simulated IAM refuses the first key change —
then the facilitator ends it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ir.backends.world_store import WorldStore
from ir.cli.tabletop_run import runtime_for
from ir.cli.tabletop_score import destructive_actions
from ir.core.journal import read
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.exercise import Exercise
from ir.tabletop.expectations import evaluate
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace


def play(tmp_path: Path, scenario: str, agent: str, skip: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Play `scenario` past its alert (I2 at 2m) and contain `agent`: resume the alert's case skipping
    `skip`, or run the playbook with the first key change (`set_key_status`) denied; end. (id → result,
    step → status in the agent's case)."""
    path = REPO / "tabletop" / f"{scenario}.yaml"
    exercise = Exercise.begin(
        start=find_workspace(make_workspace(tmp_path / "ws")),
        scenario=load_scenario(path),
        scenario_file=path,
        runtime_for=runtime_for,
        clock=parse_clock("manual"),
        facilitator="fran",
    )
    root = exercise.sandbox.workspace_root
    try:
        exercise.tick()
        exercise.advance(150, "fran")
        exercise.tick()
        waiting = [c.name for c in sorted((root / "cases").iterdir()) if f"-{agent}-" in c.name]
        if skip is not None:
            done = ir_cmd("-w", str(root), "resume", waiting[0], "--yes", "--skip", skip, "--reason", "not now")
        else:
            assert waiting == []  # the route only observed: the responder starts the case
            WorldStore(root / ".ir" / "world.json", root / "world.yaml").inject_fault("set_key_status", "denied")
            done = ir_cmd("-w", str(root), "run", "agent-compromise", "--agent", agent, "--yes")
        assert done.returncode in (0, 1), done.stdout + done.stderr
        exercise.advance(60, "fran")
        exercise.end("facilitator", "fran")
    finally:
        exercise.close()
    results = evaluate(exercise.scenario, exercise.sandbox.folder, destructive=destructive_actions())
    (case,) = [c for c in sorted((root / "cases").iterdir()) if f"-{agent}-" in c.name]
    records = read(case / "journal.jsonl").records
    ends = [r for r in records if r.type in ("step.result", "step.skipped")]
    steps = {r.data["step"]: r.data.get("status", "skipped") for r in ends}
    return {r.expectation: r for r in results}, steps


@pytest.mark.parametrize(
    ("scenario", "agent", "skip", "expectation", "step", "same_action"),
    [
        ("ops-agent-freeze-escalation", "ops-agent", "minted-console", "E3", "minted-console", "console"),
        ("leaked-key-llmjacking", "triage-bot", None, "E1", "keys", "minted-keys"),
        ("mcp-tool-poisoning", "dev-assistant", None, "E1", "keys", "minted-keys"),
    ],
)
def test_another_step_of_the_same_action_does_not_pass_the_expectation(
    tmp_path: Path, scenario: str, agent: str, skip: str | None, expectation: str, step: str, same_action: str
) -> None:
    results, steps = play(tmp_path, scenario, agent, skip)
    assert steps[step] in ("skipped", "failed") and steps[same_action] == "succeeded", steps
    found = results[expectation]
    assert found.status == "failed", found.why
    assert found.why.startswith(f"no step running step:{step} for {agent} succeeded"), found.why


def test_the_same_response_without_the_skip_passes(tmp_path: Path) -> None:
    results, _steps = play(tmp_path, "ops-agent-freeze-escalation", "ops-agent", "stop")
    assert results["E3"].status == "passed", results["E3"].why
    assert results["E3"].why.startswith("step:minted-console for ops-agent succeeded at T+2:30")
