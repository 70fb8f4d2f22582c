"""The release gate through the real `ir`: a decision releases only its own agent and incident,
only from a journal that verifies whole, and only when the people it names signed it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from ir.core.signing import load_private_key, public_info
from ir.core.signing_journal import sign_decision
from ir.core.signing_trust import RESPONDER, Signer
from tests.cli.test_decisions import GOOD, contain, records, world
from tests.cli.test_signatures import decided, journal, release, rewrite
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd


def summary_of(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return loaded


def paused(ws: Path, name: str = "support-bot") -> bool:
    return bool(world(ws)["containers"][name]["status"] == "paused")


def test_a_decision_on_an_earlier_incident_does_not_lift_a_later_containment(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    first, _ = decided(ws)
    second = contain(ws)  # the agent misbehaves again: contained in a new case, nobody decided on it

    refused = release(ws, first)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    summary = summary_of(refused)
    assert summary["steps"]["thaw"] == "failed"
    assert f"contained again after case {first}, in case {second}" in summary["message"]
    assert f"case {second} has no approved reenable decision" in summary["message"]
    assert paused(ws)
    users = world(ws)["iam"]["users"]
    assert "agent-ir-deny-all" in users["agent-support-bot"]["inline_policies"]
    planned = ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={first}", "--dry-run", cwd=ws
    )
    assert f"release refused: agent support-bot was contained again after case {first}, in case {second}" in (
        " ".join(planned.stdout.split())
    )

    ir_cmd("decide", second, "--decision", "reenable", "--by", "alice", *GOOD, cwd=ws, check=True)
    released = ir_cmd("resume", summary["case"], "--yes", "--json", cwd=ws)
    assert released.returncode == 0, released.stdout + released.stderr
    assert not paused(ws)


def test_an_earlier_containment_nobody_released_blocks_the_release_until_decided(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    earlier = contain(ws)  # contained, never decided, never released
    incident, _ = decided(ws)

    refused = release(ws, incident)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    message = summary_of(refused)["message"]
    assert f"contained before case {incident}, in case {earlier}" in message
    assert f"case {earlier} has no approved reenable decision" in message
    assert paused(ws)


def test_a_containment_a_release_already_undid_does_not_block_a_later_one(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    first, _ = decided(ws)
    assert release(ws, first).returncode == 0 and not paused(ws)
    ir_cmd("decide", first, "--decision", "keep-disabled", "--by", "alice", "--reason", "on hold", cwd=ws, check=True)
    second, _ = decided(ws)  # contained again, and decided on its own

    released = release(ws, second)
    assert released.returncode == 0, released.stdout + released.stderr
    assert not paused(ws)


def test_a_decision_about_one_agent_does_not_release_another(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    text = (ws / "demo" / "world.yaml").read_text()
    (ws / "demo" / "world.yaml").write_text(
        text.replace("containers:\n", "containers:\n  other-bot:\n    image: other:1\n    status: running\n", 1)
    )
    with (ws / "agents.yaml").open("a") as fh:
        fh.write(
            "  other-bot:\n    owner: ops@example.com\n    purpose: test\n"
            "    backend: simulated\n    container: {name: other-bot}\n"
        )
    (ws / "playbooks" / "pause-unpause.yaml").write_text(
        "schema: ir/playbook/v1\nid: pause-unpause\nversion: '1.0.0'\ntitle: Pause then unpause\n"
        "params:\n  incident: {type: string, required: true}\n"
        "steps:\n  - {id: pause, title: Pause, action: container.pause, guidance: pause}\n"
        "  - {id: unpause, title: Unpause, action: container.unpause, guidance: unpause}\n"
    )
    signers(ws, "alice", "tester")
    incident, _ = decided(ws)  # about support-bot

    run = ir_cmd(
        "run", "pause-unpause", "--agent", "other-bot", "--param", f"incident={incident}", "--yes", "--json", cwd=ws
    )
    assert run.returncode == 4, run.stdout + run.stderr
    summary = summary_of(run)
    assert summary["steps"] == {"pause": "succeeded", "unpause": "failed"}
    assert f"case {incident} is about agent support-bot" in summary["message"]
    assert "not other-bot" in summary["message"]
    assert paused(ws, "other-bot") and paused(ws)


def test_a_damaged_journal_after_the_decision_releases_nothing(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    incident, _ = decided(ws)
    ir_cmd(
        "decide", incident, "--decision", "keep-disabled", "--by", "alice", "--reason", "owner away", cwd=ws, check=True
    )
    path = journal(ws, incident)
    path.write_text(path.read_text().replace('"reason":"owner away"', '"reason":"owner back"'))
    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 1

    refused = release(ws, incident)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    message = summary_of(refused)["message"]
    assert f"case {incident}: journal damaged (ir verify {incident})" in message
    assert paused(ws)


def forge(ws: Path, incident: str, signer: str, **changes: Any) -> None:
    """Replace the incident's reenable decision by one with `changes`, signed by `signer`'s own key only;
    the records after it (its checkpoint) are dropped, the chain is recomputed (what a forger does)."""
    recs = records(ws, incident)
    at = next(i for i, r in enumerate(recs) if r["type"] == "decision")
    data = {k: v for k, v in recs[at]["data"].items() if k != "signatures"} | changes
    key = load_private_key(Path(ws.parent / "keys" / signer))
    signed = sign_decision(incident, data, [(Signer(signer, RESPONDER, public_info(key.public_key())), key)])
    rewrite(journal(ws, incident), [*recs[:at], {**recs[at], "data": signed}])


def test_a_decision_naming_bob_but_signed_by_alice_does_not_verify_or_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "bob", "tester")
    incident, _ = decided(ws)
    forge(ws, incident, "alice", by="bob")

    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 1
    assert "decision reenable by bob: it names bob in `by` but carries no allowed responder signature of bob" in (
        verify.stderr
    )
    refused = release(ws, incident)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "it names bob in `by`" in summary_of(refused)["message"]
    assert paused(ws)
    checked = [r for r in records(ws, Path(summary_of(refused)["case"]).name) if r["type"] == "decision.checked"]
    assert checked == []


def test_an_approver_named_but_not_signing_does_not_verify(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "bob", "tester")
    incident, _ = decided(ws)
    forge(ws, incident, "alice", approved_by="bob")

    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 1
    assert "it names bob in `approved_by` but carries no allowed responder signature of bob" in verify.stderr
    assert release(ws, incident).returncode == 4
    assert paused(ws)


def test_a_signed_decision_without_its_criteria_met_does_not_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    incident, _ = decided(ws)
    forge(ws, incident, "alice", criteria={})
    assert ir_cmd("verify", incident, cwd=ws).returncode == 0  # alice signed it as it is

    refused = release(ws, incident)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    message = summary_of(refused)["message"]
    assert "does not record every criterion met: credentials_rotated, root_cause_recorded" in message
    assert paused(ws)


def test_a_later_containment_whose_records_do_not_parse_still_blocks_the_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    first, _ = decided(ws)
    second = contain(ws)
    recs = records(ws, second)
    at = next(i for i, r in enumerate(recs) if r["type"] == "step.started")
    recs[at]["data"]["attempt"] = "many"  # chains (the forger recomputes hashes) but is no step.started
    rewrite(journal(ws, second), recs)

    refused = release(ws, first)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    message = summary_of(refused)["message"]
    assert f"in case {second}" in message and f"case {second}: journal unreadable" in message
    assert paused(ws)
