"""The re-enable criteria tell the truth: a skipped or never-run revocation step is not done, and
"no follow-ups" is not known until every step that can raise one has run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ir.core.case import CaseState, StepState, StepStatus
from ir.core.decision import journal_criteria
from ir.core.records import StepSkipped
from tests.cli.test_decisions import GOOD, records
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd


def test_a_responder_skipping_the_rotation_is_named_and_refuses_reenable(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    waiting = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=ws)
    assert waiting.returncode == 4
    case = Path(json.loads(waiting.stdout.splitlines()[-1])["case"]).name
    skip = ("--skip", "secrets", "--skip", "provider-keys", "--reason", "no time tonight")
    assert ir_cmd("resume", case, "--yes", *skip, cwd=ws).returncode in (0, 1)

    refused = ir_cmd("decide", case, "--decision", "reenable", "--by", "tester", *GOOD, cwd=ws)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "credentials_rotated (not done: secrets (skipped by tester: no time tonight)" in refused.stderr
    assert "provider-keys (skipped by tester: no time tonight)" in refused.stderr
    assert "follow_ups_closed (not known: the steps that raise follow-ups have not all run" in refused.stderr
    criteria = [r for r in records(ws, case) if r["type"] == "decision.refused"][-1]["data"]["criteria"]
    assert not criteria["credentials_rotated"]["met"] and not criteria["follow_ups_closed"]["met"]


def test_never_run_steps_are_not_done_and_a_when_skip_on_the_agent_is_not_applicable() -> None:
    actions = {
        "keys": "credentials.deactivate_keys",
        "secrets": "credentials.rotate_secrets",
        "minted": "credentials.find_minted",
        "minted-keys": "credentials.deactivate_keys",
        "provider-keys": "credentials.revoke_http",
    }
    state = CaseState()
    state.steps["keys"] = StepState(status=StepStatus.SUCCEEDED)
    state.steps["minted"] = StepState(status=StepStatus.FAILED, attempts=1)
    state.steps["minted-keys"] = StepState(
        status=StepStatus.SKIPPED,
        skipped=StepSkipped(step="minted-keys", reason="when: steps.minted.status == succeeded is false"),
    )
    state.steps["provider-keys"] = StepState(
        status=StepStatus.SKIPPED,
        skipped=StepSkipped(step="provider-keys", reason="when: ${{ agent.credentials }} is false"),
    )
    found = journal_criteria(state, actions, root_cause=None, accept_follow_ups=True)
    rotated = found["credentials_rotated"]
    assert not rotated["met"]
    assert rotated["detail"] == (
        "not done: secrets (never ran), "
        "minted-keys (skipped by its condition: when: steps.minted.status == succeeded is false)"
    )
    assert found["follow_ups_closed"] == {
        "met": False,
        "detail": "not known: the steps that raise follow-ups have not all run: secrets (never ran)",
    }

    no_credentials = StepSkipped(step="minted", reason="when: ${{ agent.credentials }} is false")
    state.steps["minted"] = StepState(status=StepStatus.SKIPPED, skipped=no_credentials)
    found = journal_criteria(state, actions, root_cause=None, accept_follow_ups=True)
    assert found["credentials_rotated"]["detail"] == "not done: secrets (never ran)"  # minted-keys: n/a now

    state.steps["secrets"] = StepState(status=StepStatus.SUCCEEDED, attempts=1)
    state.steps["minted-keys"] = StepState(status=StepStatus.SUCCEEDED, attempts=1)
    found = journal_criteria(state, actions, root_cause=None, accept_follow_ups=False)
    assert found["credentials_rotated"]["met"] and found["follow_ups_closed"]["met"]
