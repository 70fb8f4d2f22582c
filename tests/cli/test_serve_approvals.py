"""Approvals over HTTP on a real `ir serve`: a case an alert started waits for a person; the
person's own token approves its step, and the journal names them.

`alerts.approvals.tokens` maps each approver to the environment variable holding their token;
who approved is the token's principal, never something the body says. The workspace's
`agent-compromise` lets only the `oncall` group (alice) approve `console`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.alerting import SERVE_TOKEN, am_body, bearer, cases, journal, serve_workspace
from tests.conftest import ir_cmd
from tests.services import Served, ir_serve

ALICE = "alice-approval-token-2b8e6f"
BOB = "bob-approval-token-9d3c1a"
ENV = {"IR_SERVE_TOKEN": SERVE_TOKEN, "IR_APPROVAL_TOKEN_ALICE": ALICE, "IR_APPROVAL_TOKEN_BOB": BOB}
APPROVALS = """\
  approvals: {tokens: {alice: IR_APPROVAL_TOKEN_ALICE, bob: IR_APPROVAL_TOKEN_BOB}}
approvers:
  oncall: [alice]
"""


@pytest.fixture
def waiting(tmp_path: Path, signers: Any) -> Any:
    """`ir serve` with a case an alert started, its irreversible steps waiting for a person."""
    ws = serve_workspace(tmp_path / "ws", extra=APPROVALS)
    playbook = ws / "playbooks" / "agent-compromise.yaml"
    text = playbook.read_text()
    console = "  - id: console\n    title: Remove console access\n    action: credentials.remove_console_access\n"
    assert text.count(console + "    when: ${{ agent.credentials }}\n    approval: required\n") == 1
    playbook.write_text(
        text.replace(
            console + "    when: ${{ agent.credentials }}\n    approval: required\n",
            console + "    when: ${{ agent.credentials }}\n    approval: {required: true, approvers: [group:oncall]}\n",
        )
    )
    signers(ws, "ir-service", role="service")
    with ir_serve(ws, tmp_path / "serve", ENV) as served:
        assert served.call("POST", "/v1/alerts/alertmanager", am_body("bot-00", "cafe000000000001"), bearer())[0] == 202
        served.wait_until("the alert contained", lambda: served.alert_rows() == [("1.0", "contained", "firing")])
        (case,) = cases(ws)
        yield served, case
        assert served.stop() == 0
    output = served.output()
    assert "Traceback" not in output
    for secret in (ALICE, BOB, SERVE_TOKEN):
        assert secret not in output


def approve(served: Served, case: Path, token: str, body: bytes) -> tuple[int, object]:
    return served.call("POST", f"/v1/cases/{case.name}/approvals", body, bearer(token))


def test_alice_approves_a_waiting_step_with_her_token_and_it_runs(waiting: Any) -> None:
    served, case = waiting
    status = served.call("GET", f"/v1/cases/{case.name}", headers=bearer(ALICE))
    assert status[0] == 200 and sorted(status[1]["waiting_for"]) == ["console", "minted-console", "secrets"]

    answer = approve(served, case, ALICE, b'{"steps": ["console"], "reason": "agent confirmed compromised"}')
    assert answer == (202, {"case": case.name, "status": "accepted", "approve": ["console"], "by": "alice"})

    def ran() -> bool:
        return any(r["type"] == "step.result" and r["data"]["step"] == "console" for r in journal(case))

    served.wait_until("the console step ran", ran)
    records = journal(case)
    grants = [r["data"] for r in records if r["type"] == "approval.granted"]
    assert [(g["step"], g["by"]) for g in grants] == [("console", "alice")]
    result = next(r["data"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "console")
    assert result["status"] == "succeeded"
    after = served.call("GET", f"/v1/cases/{case.name}", headers=bearer(ALICE))[1]
    assert sorted(after["waiting_for"]) == ["minted-console", "secrets"]
    verified = ir_cmd("verify", case.name, cwd=served.ws)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_wrong_token_is_401_and_nothing_is_approved(waiting: Any) -> None:
    served, case = waiting
    before = journal(case)
    assert approve(served, case, "alice-approval-token-2b8e6g", b'{"steps": ["console"]}') == (
        401,
        {"error": "wrong token"},
    )
    assert approve(served, case, SERVE_TOKEN, b'{"steps": ["console"]}') == (401, {"error": "wrong token"})
    assert journal(case) == before


def test_bob_is_refused_a_step_only_oncall_may_approve(waiting: Any) -> None:
    served, case = waiting
    answer = approve(served, case, BOB, b'{"steps": ["console"]}')
    assert answer == (403, {"error": "step console: bob may not approve it (approvers: alice)"})
    assert f"case {case.name}: 403 step console: bob may not approve it" in served.output()
    waiting_for = served.call("GET", f"/v1/cases/{case.name}", headers=bearer(BOB))[1]["waiting_for"]
    assert "console" in waiting_for
    assert approve(served, case, BOB, b'{"all": true}')[0] == 403  # all includes console
    assert not any(r["type"] in ("approval.granted", "approval.refused") for r in journal(case))

    # a step anyone may approve, bob may
    assert approve(served, case, BOB, b'{"steps": ["secrets"]}')[0] == 202

    def ran() -> bool:
        return any(r["type"] == "step.result" and r["data"]["step"] == "secrets" for r in journal(case))

    served.wait_until("the secrets step ran", ran)
    served.wait_until("the resume logged", lambda: "resumed on approval by bob" in served.output())
    assert f"ir serve: case {case.name} resumed on approval by bob: awaiting_approval" in served.output().splitlines()
    grants = [(r["data"]["step"], r["data"]["by"]) for r in journal(case) if r["type"] == "approval.granted"]
    assert grants == [("secrets", "bob")]


def test_approving_a_step_that_does_not_wait_or_an_unknown_case_says_so(waiting: Any) -> None:
    served, case = waiting
    answer = approve(served, case, ALICE, b'{"steps": ["freeze"]}')
    assert answer == (
        400,
        {"error": f"case {case.name}: freeze not waiting for approval (waiting: console, secrets, minted-console)"},
    )
    unknown = "20261121T115153Z-bot-00-agent-compromise-a1b2"
    assert served.call("POST", f"/v1/cases/{unknown}/approvals", b'{"all": true}', bearer(ALICE)) == (
        404,
        {"error": f"no such case {unknown}"},
    )
    assert served.call("GET", f"/v1/cases/{unknown}", headers=bearer(ALICE)) == (
        404,
        {"error": f"no such case {unknown}"},
    )
