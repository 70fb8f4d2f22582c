"""Responders sign from the command line in an exercise's sandbox with the exercise's own keys
(`workspace/.ir/keys/<role>`), found without `--key`; nowhere else are such keys looked for."""

from __future__ import annotations

import shutil
from pathlib import Path

from ir.core.journal import read
from ir.core.workspace import find_workspace
from ir.tabletop.sandbox import create_sandbox
from ir.tabletop.scenario import load_scenario
from tests.conftest import REPO, ir_cmd, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"


def test_ic_decides_and_signs_in_the_sandbox_without_naming_a_key(tmp_path: Path) -> None:
    start = find_workspace(make_workspace(tmp_path / "ws"))
    sandbox, _sha = create_sandbox(start, load_scenario(DRILL), DRILL, exercise_id="EX-key-leak-drill-20261120T031000")
    root = str(sandbox.workspace_root)
    env = {"IR_KEYS_DIR": str(tmp_path / "no-keys")}  # nobody's own keys: only the exercise's
    ran = ir_cmd("-w", root, "run", "agent-compromise", "--agent", "support-bot", "--yes", "--as", "ic", env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "by ic" in ran.stdout and "not signed" not in ran.stdout + ran.stderr  # the head is signed by ic
    (case,) = (sandbox.workspace_root / "cases").iterdir()
    why = "the agent leaked its key"
    decided = ir_cmd(
        "-w", root, "decide", case.name, "--decision", "keep-disabled", "--by", "ic", "--reason", why, env=env
    )
    assert decided.returncode == 0, decided.stdout + decided.stderr
    (decision,) = [r for r in read(case / "journal.jsonl").records if r.type == "decision"]
    assert decision.data["by"] == "ic" and decision.data["signatures"][0]["principal"] == "ic"
    verified = ir_cmd("-w", root, "verify", case.name, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_workspace_that_is_not_a_sandbox_does_not_look_in_its_ir_keys(tmp_path: Path) -> None:
    start = find_workspace(make_workspace(tmp_path / "ws"))
    sandbox, _sha = create_sandbox(start, load_scenario(DRILL), DRILL, exercise_id="EX-key-leak-drill-20261120T031000")
    team = make_workspace(tmp_path / "team")
    shutil.copytree(sandbox.workspace_root / ".ir" / "keys", team / ".ir" / "keys")
    env = {"IR_KEYS_DIR": str(tmp_path / "no-keys")}
    ir_cmd("-w", str(team), "run", "agent-compromise", "--agent", "support-bot", "--yes", env=env, check=True)
    (case,) = (team / "cases").iterdir()
    done = ir_cmd(
        "-w", str(team), "decide", case.name, "--decision", "keep-disabled", "--by", "ic", "--reason", "x", env=env
    )
    assert done.returncode == 4
    assert "no signing key for ic" in done.stderr
