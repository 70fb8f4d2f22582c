"""`ir tabletop run SCENARIO --auto`: a whole exercise end to end, as a user runs it.

The drill (tests/fixtures/tabletop/key-leak-drill.yaml) delivers a card with log lines, a world
change (the leaked key makes a helper user; the agent calls a paste site), an alert through the
alert path, a card after it, and an inject that comes only if the agent is still live. The
reference response approves, decides and marks. Everything is checked from the files it left.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ir.core.journal import read
from ir.core.verify import verify_case
from ir.core.workspace import find_workspace
from ir.tabletop.clock import ExerciseClock
from ir.tabletop.clock import wall as wall_time
from ir.tabletop.sandbox import open_sandbox
from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root` but exercises/, with its sha256."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "exercises" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def auto_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `--auto` run of the drill in a fresh workspace that has a world and a case of its own."""
    ws = make_workspace(tmp_path_factory.mktemp("tt") / "ws")
    ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)  # the team's own case and world
    before = _tree(ws)
    result = ir_cmd("tabletop", "run", str(DRILL), "--auto", "--as", "facil", cwd=ws)
    folders = sorted((ws / "exercises").iterdir())
    return {"ws": ws, "before": before, "result": result, "folder": folders[-1]}


def _records(folder: Path) -> list[Any]:
    checked = read(folder / "exercise.jsonl")
    assert checked.problems == []
    return checked.records


def test_auto_run_ends_on_its_end_condition_and_prints_what_happened(auto_run: dict[str, Any]) -> None:
    result = auto_run["result"]
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "EXERCISE EX-key-leak-drill-" in out
    assert "inject I3 delivered: Alertmanager fires on the agent's egress" in out
    assert "inject I5 skipped: unless contained(support-bot)" in out
    assert "move 1 decide support-bot by ic: decision keep-disabled" in out
    assert "exercise ended: end condition" in out
    assert "\\n" not in out  # multi-line deliveries print as lines, not escaped
    score = out.split("score of EX-key-leak-drill-", 1)[1]  # the score comes last
    assert "  O1 P  Contain the agent within minutes of the alert" in score
    assert "  time to acknowledge " in score and "(5 passed, 0 failed, 0 pending)" in score
    assert "after-action report: ir tabletop report EX-key-leak-drill-" in score


def test_the_exercise_folder_is_as_the_contract_says(auto_run: dict[str, Any]) -> None:
    folder: Path = auto_run["folder"]
    assert folder.name.startswith("EX-key-leak-drill-")
    assert (folder / "scenario.yaml").read_bytes() == DRILL.read_bytes()
    sandbox = find_workspace(folder / "workspace")
    assert sandbox.settings.exercise is not None and sandbox.settings.exercise.id == folder.name
    assert sandbox.settings.simulated.seed == "world.yaml"
    assert set(sandbox.inventory.agents) == {"support-bot"}
    assert (folder / "workspace" / "playbooks" / "agent-compromise.yaml").read_bytes() == (
        REPO / "playbooks" / "agent-compromise.yaml"
    ).read_bytes()
    assert set(sandbox.settings.alerts.sources) >= {"alertmanager", "eventbridge", "falco", "cloudevents"}
    assert sandbox.settings.alerts.service.principal == "exercise-service"
    started = _records(folder)[0]
    assert started.type == "exercise.started"
    assert started.data["scenario"]["sha256"] == hashlib.sha256(DRILL.read_bytes()).hexdigest()
    assert started.data["clock"] == "fast:10" and started.data["auto"] is True
    assert started.data["facilitator"] == "facil"


def test_the_starting_workspace_is_untouched(auto_run: dict[str, Any]) -> None:
    assert _tree(auto_run["ws"]) == auto_run["before"]


def test_every_record_has_exercise_time_and_the_journal_verifies_signed(auto_run: dict[str, Any]) -> None:
    folder: Path = auto_run["folder"]
    records = _records(folder)
    assert all(isinstance(r.data.get("exercise_s"), float) for r in records)
    report = open_sandbox(folder).verify()
    assert report.problems == []
    assert report.signed_head is not None and report.signed_head[2] == "facil"
    assert report.signed_head[0] == records[-1].seq - 1  # the end is signed
    lines = (folder / "exercise.jsonl").read_text().splitlines()
    n = next(i for i, line in enumerate(lines) if '"inject":"I1"' in line)
    edited = lines[n].replace('"inject":"I1"', '"inject":"I9"')
    (folder / "exercise.jsonl").write_text("\n".join([*lines[:n], edited, *lines[n + 1 :]]) + "\n")
    try:
        assert "was altered" in open_sandbox(folder).verify().problems[0]
    finally:
        (folder / "exercise.jsonl").write_text("\n".join(lines) + "\n")


def test_injects_were_delivered_through_their_paths(auto_run: dict[str, Any]) -> None:
    folder: Path = auto_run["folder"]
    delivered = {r.data["inject"]: r.data for r in _records(folder) if r.type == "inject.delivered"}
    assert list(delivered) == ["I1", "I2", "I3", "I4"]
    assert delivered["I1"]["what"] == ["card", "logs"]
    tools = (folder / "workspace" / "logs" / "support-bot" / "tools.jsonl").read_text().splitlines()
    assert "cat ~/.aws/credentials" in tools[1]
    egress = json.loads(tools[2])
    assert egress["tool"] == "http.post" and egress["arguments"]["url"] == "https://paste.example.net/upload"
    world = delivered["I2"]["details"]["world"]
    assert [(c["op"], c["applied"]) for c in world] == [("create_user", True), ("egress", True)]
    alert = delivered["I3"]["details"]["alert"]
    assert alert["alerts"][0]["outcome"] == "contained" and len(alert["cases"]) == 1
    case = folder / "workspace" / "cases" / alert["cases"][0]
    started = read(case / "journal.jsonl").records[0]
    assert started.data["trigger"]["route"] == "contain-compromised-agent"
    assert started.data["actor"] == "exercise-service"


def test_the_alert_case_was_contained_approved_decided_and_stamped(auto_run: dict[str, Any]) -> None:
    folder: Path = auto_run["folder"]
    (case,) = sorted((folder / "workspace" / "cases").iterdir())
    records = read(case / "journal.jsonl").records
    assert {r.data.get("exercise") for r in records} == {folder.name}
    approved = {r.data["step"]: r.data["by"] for r in records if r.type == "approval.granted"}
    assert approved.get("console") == "approver" and approved.get("minted-console") == "approver"
    (decision,) = [r for r in records if r.type == "decision"]
    assert decision.data["decision"] == "keep-disabled" and decision.data["by"] == "ic"
    report = verify_case(case)
    assert report.ok, report.problems
    world = json.loads((folder / "workspace" / ".ir" / "world.json").read_text())
    helper = world["iam"]["users"]["support-bot-helper"]
    assert [k["status"] for k in helper["access_keys"]] == ["Inactive"]  # found by find_minted, revoked
    assert helper["login_profile"] is None
    assert world["containers"]["support-bot"]["status"] == "paused"


def test_moves_and_marks_are_recorded(auto_run: dict[str, Any]) -> None:
    records = _records(auto_run["folder"])
    moves = [r.data for r in records if r.type == "move.played"]
    assert [(m["what"], m["by"]) for m in moves] == [("approve", "approver"), ("decide", "ic"), ("mark", "ic")]
    assert all("error" not in m["result"] for m in moves)
    (marked,) = [r.data for r in records if r.type == "expectation.marked"]
    assert marked["expectation"] == "E5" and marked["passed"] is True
    (ended,) = [r.data for r in records if r.type == "exercise.ended"]
    assert ended["reason"] == "end condition"


def test_auto_jumps_idle_waits_instead_of_waiting(auto_run: dict[str, Any]) -> None:
    """At fast:10, five exercise minutes would take 30 s of waiting; the reference response jumps them."""
    records = _records(auto_run["folder"])
    clock = ExerciseClock.from_records(records)
    ended = records[-2]
    assert ended.type == "exercise.ended" and ended.data["exercise_s"] >= 300
    assert clock.exercise_seconds(ended.ts) == pytest.approx(ended.data["exercise_s"], abs=0.01)
    jumps = [r for r in records if r.type == "clock.advanced" and r.data["by"] == "auto"]
    assert jumps and sum(r.data["seconds"] for r in jumps) > 0.9 * ended.data["exercise_s"]
    wall = (wall_time(ended.ts) - clock.started).total_seconds()
    assert wall < ended.data["exercise_s"] / 10  # what waiting at fast:10 would have taken


def test_json_prints_every_record(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    result = ir_cmd("tabletop", "run", str(DRILL), "--auto", "--json", cwd=ws)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "exercise.started"
    assert [x["type"] for x in lines].count("inject.delivered") == 4
    assert lines[-2]["type"] == "checkpoint" and lines[-3]["type"] == "exercise.ended"
    assert lines[-1] == {
        "type": "score",
        "data": {
            "exercise": lines[0]["data"]["exercise"],
            "ratings": {"O1": "P", "O2": "P", "O3": "P"},
            "mtta_s": lines[-1]["data"]["mtta_s"],
            "mttc_s": lines[-1]["data"]["mttc_s"],
            "passed": 5,
            "failed": 0,
            "pending": 0,
            "failed_expectations": [],
        },
    }


def test_auto_exits_1_naming_the_engine_expectation_its_reference_response_fails(tmp_path: Path) -> None:
    """A scenario whose reference response decides keep-disabled but expects decommission is not solvable."""
    ws = make_workspace(tmp_path / "ws")
    wrong = tmp_path / "wrong-decision.yaml"
    expected = "decision: {agent: support-bot, decision: keep-disabled}"
    wrong.write_text(DRILL.read_text().replace(expected, "decision: {agent: support-bot, decision: decommission}"))
    result = ir_cmd("tabletop", "run", str(wrong), "--auto", cwd=ws)
    assert result.returncode == 1, result.stdout + result.stderr
    score = result.stdout.split("score of EX-key-leak-drill-", 1)[1]
    assert "  O3 M  Record a signed decision and tell the owner" in score
    assert "(4 passed, 1 failed, 0 pending)" in score
    assert "failed: E4 A signed decision is recorded (decision): no good decommission decision" in score
    assert "1 engine expectation(s) failed" in score


def test_ctrl_c_ends_the_exercise_as_interrupted(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    exe = Path(sys.executable).parent / "ir"
    env = {**os.environ, "IR_USER": "tester"}
    with subprocess.Popen(
        [str(exe), "tabletop", "run", str(DRILL)], cwd=ws, env=env, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("EXERCISE ")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "exercise ended: interrupted (by tester)" in out
    (folder,) = (ws / "exercises").iterdir()
    assert read(folder / "exercise.jsonl").records[-2].data["reason"] == "interrupted"


def test_a_scenario_with_a_docker_agent_is_refused_in_one_line(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    text = DRILL.read_text().replace("backend: simulated", "backend: docker")
    scenario = tmp_path / "docker.yaml"
    scenario.write_text(text)
    result = ir_cmd("tabletop", "run", str(scenario), "--auto", cwd=ws)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "world.agents.support-bot: backend docker: an exercise runs on the simulated backends only" in result.stderr
    assert not (ws / "exercises").exists()


def test_live_fire_refuses_a_real_aws_endpoint_before_anything_starts(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    text = DRILL.read_text().replace("backend: simulated", "backend: docker")
    text = text.replace("      container: {name: support-bot}\n", "", 1)  # AWS credentials only
    scenario = tmp_path / "live.yaml"
    scenario.write_text(text)
    env = {"AWS_ENDPOINT_URL": "https://iam.us-east-1.amazonaws.com", "AWS_ACCESS_KEY_ID": "testing"}
    result = ir_cmd("tabletop", "run", str(scenario), "--live-fire", "--auto", cwd=ws, env=env)
    assert result.returncode == 2
    assert result.stderr == (
        f"ir: error: {scenario}: world.agents.support-bot: live fire: "
        "AWS_ENDPOINT_URL=https://iam.us-east-1.amazonaws.com is not on loopback (127.0.0.1, ::1, localhost)\n"
    )
    assert not (ws / "exercises").exists()
