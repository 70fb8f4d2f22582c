"""Skips and declines written outside a run (the console's `s` and the approval modal's `n`):
journalled with who and why, refused where they would be false, honoured by every later resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ir.core.errors import CaseError, InputError
from ir.core.interventions import decline_approval, skip_step
from tests.cli.test_interventions import records, waiting_case
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd


def test_a_skip_journalled_between_runs_holds_through_every_later_resume(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    skip_step(case, by="bob", step="kill-switch", reason="the host team runs it")
    done = ir_cmd("resume", case.name, "--yes", "--json", cwd=ws)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["steps"]["kill-switch"] == "skipped"
    assert [r for r in records(case, "step.started") if r["step"] == "kill-switch"] == []
    assert ir_cmd("verify", str(case)).returncode == 0


def test_a_step_whose_call_may_have_happened_is_not_skipped(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    killed = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=ws, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    assert killed.returncode == -9
    (case,) = (ws / "cases").iterdir()
    with pytest.raises(InputError, match="isolate: not skipped: a call was made and its result is unknown"):
        skip_step(case, by="bob", step="isolate", reason="done by hand")
    with pytest.raises(InputError, match="freeze: not skipped: it is succeeded"):
        skip_step(case, by="bob", step="freeze", reason="x")
    assert records(case, "step.skipped") == []


def test_only_a_waiting_step_can_be_declined_and_never_in_an_ended_run(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    with pytest.raises(InputError, match="step secrets: nothing to decline: it is pending"):
        decline_approval(case, by="bob", step="secrets", reason="no")
    decline_approval(case, by="bob", step="console", reason="not before the cloud team")
    assert records(case, "approval.declined") == [
        {"step": "console", "by": "bob", "reason": "not before the cloud team"}
    ]
    assert ir_cmd("abort", case.name, "--reason", "handed over", cwd=ws).returncode == 0
    with pytest.raises(CaseError, match="the run already ended"):
        decline_approval(case, by="bob", step="console", reason="no")
