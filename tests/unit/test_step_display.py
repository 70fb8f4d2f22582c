"""The reader tells a success apart: one that left follow-ups, one that had nothing to act on;
and a declined approval is on record while the step keeps waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ir.cli.console import human_line
from ir.core.case import CaseState, StepStatus
from ir.core.journal import Journal
from ir.core.records import ApprovalDeclined, Kind


def state_of(tmp_path: Path, *records: tuple[Kind, dict[str, Any]]) -> CaseState:
    with Journal(tmp_path).open(create=True) as journal:
        for kind, data in records:
            journal.append(kind, data)
        return CaseState.replay(journal.records)


def result(step: str, outputs: dict[str, Any]) -> tuple[Kind, dict[str, Any]]:
    return Kind.STEP_RESULT, {"step": step, "status": "succeeded", "outputs": outputs}


def test_a_success_with_follow_ups_or_nothing_to_do_reads_so(tmp_path: Path) -> None:
    state = state_of(
        tmp_path,
        (Kind.STEP_STARTED, {"step": "provider", "action": "credentials.revoke_http", "attempt": 1}),
        (Kind.FOLLOWUP, {"step": "provider", "what": "revoke key at its provider", "owner": "platform"}),
        result("provider", {"revoked": [], "follow_ups": ["key"], "failed": {}}),
        result("console", {"removed": [], "failed": {}, "restore": "not possible"}),
        result("keys", {"deactivated": {"agent": ["AKIA1"]}, "failed": {}}),
        result("freeze", {"status": "paused"}),
    )
    assert state.step("provider").display == "succeeded, follow-ups"
    assert state.step("console").display == "succeeded, nothing to do"
    assert state.step("keys").display == "succeeded"
    assert state.step("freeze").display == "succeeded"  # no list of targets: nothing says it did nothing


def test_a_decline_is_on_record_and_the_step_keeps_waiting(tmp_path: Path) -> None:
    state = state_of(
        tmp_path,
        (Kind.APPROVAL_WAITING, {"step": "console", "action": "credentials.remove_console_access"}),
        (Kind.APPROVAL_DECLINED, {"step": "console", "by": "bob", "reason": "not yet"}),
    )
    st = state.step("console")
    assert st.status == StepStatus.AWAITING_APPROVAL
    assert st.declined == ApprovalDeclined(step="console", by="bob", reason="not yet")
    line = human_line(ApprovalDeclined(step="console", by="bob", reason="not \x1b[31myet"))
    assert line == "   console: approval declined by bob: not \\x1b[31myet"
