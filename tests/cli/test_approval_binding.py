"""Approvals are bound to a key: the checkpoint covering a run's approvals is signed by who approved."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.cli.test_decisions import records
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd


def test_approvals_are_not_signed_for_by_a_service_key_and_verify_flags_it(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alertbot", role="service")
    service = {"IR_SIGNING_KEY": str(Path(os.environ["IR_KEYS_DIR"]) / "alertbot")}  # tester holds no key
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws, env=service)
    assert run.returncode == 0, run.stdout + run.stderr
    case = next((ws / "cases").iterdir()).name
    assert "(not signed)" in run.stdout
    assert "tester approved steps, and the key found" in run.stdout
    assert "is alertbot's, not tester's" in " ".join(run.stdout.split())
    assert "checkpoint" not in [r["type"] for r in records(ws, case)]

    ir_cmd("note", case, "handed over", cwd=ws, env=service, check=True)  # a later head the service key signs
    verify = ir_cmd("verify", case, cwd=ws)
    assert verify.returncode == 0, verify.stderr
    assert "by tester is covered by a checkpoint signed by alertbot" in verify.stderr
    assert "nothing proves tester approved it" in verify.stderr
    assert ir_cmd("verify", case, "--strict", cwd=ws).returncode == 1
