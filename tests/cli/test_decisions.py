"""Re-enable decisions through `ir decide`, and the engine refusing release steps without one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd

GOOD = [
    "--reason",
    "mail filter blocks the injection; prompt hardened",
    "--root-cause",
    "prompt injection in customer email m-9913",
    "--accept-follow-ups",
]


def contain(ws: Path) -> str:
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    return Path(json.loads(run.stdout.splitlines()[-1])["case"]).name


def world(ws: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ws / ".ir" / "world.json").read_text())
    return loaded


def records(ws: Path, case: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (ws / "cases" / case / "journal.jsonl").read_text().splitlines()]


def test_release_is_refused_until_an_approved_reenable_decision_exists(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice")
    incident = contain(ws)
    assert "contained" in ir_cmd("agents", "list", cwd=ws, check=True).stdout

    refused = ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={incident}", "--yes", "--json", cwd=ws
    )
    assert refused.returncode == 4
    summary = json.loads(refused.stdout.splitlines()[-1])
    assert summary["steps"]["thaw"] == "failed"
    assert f"case {incident} has no approved reenable decision" in summary["message"]
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"

    unmet = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", "--reason", "looks fine", cwd=ws)
    assert unmet.returncode == 4
    assert unmet.stderr.startswith("ir: error: re-enable refused: criteria not met: root_cause_recorded")
    assert [r["type"] for r in records(ws, incident)][-2:] == ["decision.refused", "checkpoint"]

    decided = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", *GOOD, "--json", cwd=ws)
    assert decided.returncode == 0, decided.stderr
    record = json.loads(decided.stdout)
    assert record["approved"] is True and record["by"] == "alice"
    assert all(c["met"] for c in record["criteria"].values())
    assert {e["name"] for e in record["evidence"]} >= {"logs.txt", "filesystem.tar", "timeline.jsonl"}
    assert ir_cmd("verify", str(ws / "cases" / incident)).returncode == 0

    release = ir_cmd("resume", summary["case"], "--yes", "--json", cwd=ws)
    assert release.returncode == 0, release.stdout + release.stderr
    container = world(ws)["containers"]["support-bot"]
    assert container["status"] == "running"
    assert [n["name"] for n in container["networks"]] == ["agents-net", "egress-proxy"]
    users = world(ws)["iam"]["users"]
    assert list(users["agent-support-bot"]["inline_policies"]) == ["agent-ir-revoke-older-sessions"]
    assert "agent-ir-deny-all" in users["support-bot-helper"]["inline_policies"]
    assert {k["status"] for u in users.values() for k in u["access_keys"]} == {"Inactive"}
    checked = [r["data"] for r in records(ws, Path(summary["case"]).name) if r["type"] == "decision.checked"]
    assert {c["case"] for c in checked} == {incident} and checked[0]["decision_seq"] == record["seq"]
    listing = ir_cmd("agents", "list", cwd=ws, check=True).stdout
    assert "support-bot          active" in listing


def test_two_person_rule_and_other_decisions(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    settings = ws / "ir.yaml"
    settings.write_text(settings.read_text() + "decisions: {second_approver: true}\n")
    signers(ws, "alice", "bob", "carol")
    incident = contain(ws)
    alone = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", *GOOD, cwd=ws)
    assert alone.returncode == 4 and "second approver who is not alice" in alone.stderr
    same = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", "--approve-as", "alice", *GOOD, cwd=ws)
    assert same.returncode == 4
    both = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", "--approve-as", "bob", *GOOD, cwd=ws)
    assert both.returncode == 0 and "approved by bob" in both.stdout

    keep = ir_cmd(
        "decide", incident, "--decision", "keep-disabled", "--by", "carol", "--reason", "owner unreachable", cwd=ws
    )
    assert keep.returncode == 0
    assert "support-bot          disabled" in ir_cmd("agents", "list", cwd=ws, check=True).stdout
    refused = ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={incident}", "--yes", cwd=ws
    )
    assert refused.returncode == 4  # the latest decision is keep-disabled: the reenable no longer stands
    no_reason = ir_cmd("decide", incident, "--decision", "decommission", "--by", "carol", "--reason", " ", cwd=ws)
    assert no_reason.returncode == 2 and "needs a reason" in no_reason.stderr
