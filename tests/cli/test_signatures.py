"""Signed decisions and heads through the real `ir`: forgeries, rollbacks, tails, trust changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ir.core.journal import canonical, record_hash
from ir.core.signing_journal import checkpoint_bytes
from tests.cli.test_decisions import GOOD, contain, records, world
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import allow_signers, ir_cmd, make_key, ssh_keygen


def journal(ws: Path, case: str) -> Path:
    return ws / "cases" / case / "journal.jsonl"


def rewrite(path: Path, recs: list[dict[str, Any]]) -> None:
    """Write `recs` as a journal whose chain is whole: seq, prev and hash recomputed (what a forger does)."""
    prev, lines = "0" * 64, []
    for seq, rec in enumerate(recs, start=1):
        body = {"seq": seq, "ts": rec["ts"], "type": rec["type"], "data": rec["data"], "prev": prev}
        prev = record_hash(body)
        lines.append(canonical({**body, "hash": prev}).decode())
    path.write_text("\n".join(lines) + "\n")


def decided(ws: Path, *extra: str) -> tuple[str, dict[str, Any]]:
    """A contained incident with a signed, approved reenable decision by alice."""
    incident = contain(ws)
    done = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", *GOOD, *extra, "--json", cwd=ws)
    assert done.returncode == 0, done.stderr
    return incident, json.loads(done.stdout)


def release(ws: Path, incident: str) -> subprocess.CompletedProcess[str]:
    return ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={incident}", "--yes", "--json", cwd=ws
    )


def test_a_decision_copied_from_another_case_does_not_verify_or_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    approved, _ = decided(ws)
    victim = contain(ws)
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"
    stolen = next(r for r in records(ws, approved) if r["type"] == "decision")
    recs = records(ws, victim)
    rewrite(journal(ws, victim), [*recs, stolen])
    assert ir_cmd("verify", victim, cwd=ws).returncode == 1  # the copy as it was: signed for another place
    follows = {"seq": len(recs), "hash": records(ws, victim)[-2]["hash"]}
    rewrite(journal(ws, victim), [*recs, {**stolen, "data": {**stolen["data"], "follows": follows}}])

    verify = ir_cmd("verify", victim, cwd=ws)
    assert verify.returncode == 1
    assert f"decision reenable by alice: the signature of alice does not verify for case {victim}" in verify.stderr
    refused = release(ws, victim)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    summary = json.loads(refused.stdout.splitlines()[-1])
    assert summary["steps"]["thaw"] == "failed" and "does not verify" in summary["message"]
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"
    planned = ir_cmd(
        "run", "agent-reenable", "--agent", "support-bot", "--param", f"incident={victim}", "--dry-run", cwd=ws
    )
    assert f"case {victim} release refused: the reenable decision of case" in " ".join(planned.stdout.split())
    assert ir_cmd("verify", approved, cwd=ws).returncode == 0  # the real one still stands


def test_a_decision_moved_later_in_its_case_does_not_verify_or_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    incident, _ = decided(ws)
    ir_cmd(
        "decide", incident, "--decision", "keep-disabled", "--by", "alice", "--reason", "owner away", cwd=ws, check=True
    )
    recs = records(ws, incident)
    reenable = next(r for r in recs if r["type"] == "decision" and r["data"]["decision"] == "reenable")
    rewrite(journal(ws, incident), [*recs, reenable])  # replayed after the keep-disabled decision

    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 1 and "signed for another place" in verify.stderr
    assert release(ws, incident).returncode == 4
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"


def test_an_unsigned_legacy_decision_does_not_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice")
    incident, _ = decided(ws)
    recs = [r for r in records(ws, incident) if r["type"] != "checkpoint"]  # a case from before signing
    for rec in recs:
        if rec["type"] == "decision":
            rec["data"] = {k: v for k, v in rec["data"].items() if k not in ("signatures", "follows")}
    rewrite(journal(ws, incident), recs)

    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 0, verify.stderr  # old cases still verify...
    assert "signed head: none (unsigned: nothing proves" in verify.stdout and "is unsigned" in verify.stderr
    assert ir_cmd("verify", incident, "--strict", cwd=ws).returncode == 1  # ...but not strictly
    refused = release(ws, incident)
    assert refused.returncode == 4 and "is unsigned" in json.loads(refused.stdout.splitlines()[-1])["message"]
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"


def test_an_emptied_or_missing_journal_fails_verify(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    case = contain(ws)
    journal(ws, case).write_text("")
    emptied = ir_cmd("verify", str(ws / "cases" / case), cwd=ws)
    assert emptied.returncode == 1 and "journal is empty" in emptied.stderr
    journal(ws, case).unlink()
    gone = ir_cmd("verify", str(ws / "cases" / case), cwd=ws)
    assert gone.returncode == 1 and "journal missing" in gone.stderr


def test_a_signer_removed_from_ir_yaml_can_no_longer_release(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    incident, _ = decided(ws)
    settings = ws / "ir.yaml"
    settings.write_text(settings.read_text().replace("  alice: ssh-ed25519", "  former-alice: ssh-ed25519"))
    refused = release(ws, incident)
    assert refused.returncode == 4
    assert "alice (SHA256:" in json.loads(refused.stdout.splitlines()[-1])["message"]
    assert world(ws)["containers"]["support-bot"]["status"] == "paused"
    verify = ir_cmd("verify", incident, cwd=ws)
    assert verify.returncode == 1 and "not an allowed signer" in verify.stderr


def test_a_signed_decision_releases_and_the_run_summary_names_the_signer(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alice", "tester")
    incident, decision = decided(ws)
    assert [s["principal"] for s in decision["signatures"]] == ["alice"]
    done = release(ws, incident)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.splitlines()[-1])
    assert summary["signed"] is True and summary["signed_by"] == "tester"
    assert world(ws)["containers"]["support-bot"]["status"] == "running"
    human = ir_cmd("resume", Path(summary["case"]).name, cwd=ws)
    # resumed, finished, then signed: the checkpoint of the release run came before them
    assert f"journal head: seq {summary['journal_head']['seq'] + 3} " in human.stdout
    assert "signed by tester" in human.stdout


def test_a_service_key_checkpoints_but_never_decides(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "alertbot", role="service")
    run = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws, env={"IR_USER": "alertbot"}
    )
    summary = json.loads(run.stdout.splitlines()[-1])
    assert summary["signed_by"] == "alertbot"
    case = Path(summary["case"]).name
    refused = ir_cmd("decide", case, "--decision", "reenable", "--by", "alertbot", *GOOD, cwd=ws)
    assert refused.returncode == 4 and "a service key never decides" in refused.stderr
    assert "decision" not in [r["type"] for r in records(ws, case)]


def test_two_person_rule_needs_two_distinct_keys(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    settings = ws / "ir.yaml"
    settings.write_text(settings.read_text() + "decisions: {second_approver: true}\n")
    keys = signers(ws, "alice", "tester")
    shutil.copy(Path(os.environ["IR_KEYS_DIR"]) / "alice", Path(os.environ["IR_KEYS_DIR"]) / "mallory")
    allow_signers(ws, {"mallory": keys["alice"]})  # the same key under a second name
    incident = contain(ws)
    same = ir_cmd(
        "decide", incident, "--decision", "reenable", "--by", "alice", "--approve-as", "mallory", *GOOD, cwd=ws
    )
    assert same.returncode == 4 and "the two-person rule needs two distinct keys" in same.stderr
    assert "decision" not in [r["type"] for r in records(ws, incident)]

    signers(ws, "bob", kind="ecdsa")
    both = ir_cmd("decide", incident, "--decision", "reenable", "--by", "alice", "--approve-as", "bob", *GOOD, cwd=ws)
    assert both.returncode == 0, both.stderr
    assert "signed by alice (SHA256:" in both.stdout and ", bob (SHA256:" in both.stdout
    assert release(ws, incident).returncode == 0


def test_no_key_runs_unsigned_says_how_to_fix_and_refuses_to_decide(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
    assert run.returncode == 0
    assert "(not signed)" in run.stdout and "journal head not signed: no signing key for tester" in run.stdout
    assert "ir keys init --as tester" in run.stdout
    case = Path(next((ws / "cases").iterdir())).name
    refused = ir_cmd("decide", case, "--decision", "keep-disabled", "--by", "tester", "--reason", "x", cwd=ws)
    assert refused.returncode == 4 and "ir keys init --as tester" in refused.stderr
    stranger = tmp_path / "stranger"
    make_key(stranger)
    signers(ws, "alice")
    note = ir_cmd("note", case, "looked at it", "--key", str(stranger), cwd=ws)
    assert note.returncode == 0
    assert "is not an allowed signer for tester" in note.stdout
    assert records(ws, case)[-1]["type"] == "note"  # no checkpoint that would fail verification


def test_unsigned_tail_and_expect_head_against_rollback(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    signers(ws, "tester")
    case = contain(ws)
    verify = ir_cmd("verify", case, cwd=ws)
    head = verify.stdout.split("signed head: seq ")[1].split()
    seq, digest = int(head[0]), head[2]
    assert verify.returncode == 0 and head[3:5] == ["by", "tester"]
    assert ir_cmd("verify", case, "--strict", "--expect-head", f"{seq}:{digest[:12]}", cwd=ws).returncode == 0

    recs = records(ws, case)
    rewrite(journal(ws, case), [*recs, {"ts": recs[-1]["ts"], "type": "note", "data": {"by": "x", "text": "later"}}])
    tail = ir_cmd("verify", case, cwd=ws)
    assert tail.returncode == 0 and f"unsigned tail: seq {len(recs) + 1}..{len(recs) + 1}" in tail.stderr
    assert ir_cmd("verify", case, "--strict", cwd=ws).returncode == 1

    rewrite(journal(ws, case), recs[: seq - 3])  # rolled back to an earlier, still whole, chain
    rolled = ir_cmd("verify", case, "--expect-head", f"{seq}:{digest}", cwd=ws)
    assert rolled.returncode == 1 and f"expected head seq {seq}" in rolled.stderr and "rolled back" in rolled.stderr
    bad = ir_cmd("verify", case, "--expect-head", "12:abc", cwd=ws)
    assert bad.returncode == 2 and "at least 12" in bad.stderr


def test_a_copied_case_verifies_against_an_allowed_signers_file_and_ssh_keygen(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    keys = signers(ws, "tester")
    case = contain(ws)
    copy = tmp_path / "elsewhere" / case
    shutil.copytree(ws / "cases" / case, copy)
    alone = ir_cmd("verify", str(copy), cwd=tmp_path)
    assert alone.returncode == 1 and "pass --allowed-signers FILE" in alone.stderr
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(ir_cmd("keys", "show", "--allowed-signers", cwd=ws, check=True).stdout)
    assert f'tester namespaces="agent-ir" {keys["tester"]} role=responder' in allowed.read_text()
    assert ir_cmd("verify", str(copy), "--allowed-signers", str(allowed), cwd=tmp_path).returncode == 0

    recs = records(ws, case)
    checkpoint = recs[-1]
    assert checkpoint["type"] == "checkpoint" and checkpoint["data"]["signed"]["seq"] == len(recs) - 1
    (tmp_path / "head.sig").write_text(checkpoint["data"]["signature"])
    message = checkpoint_bytes(case, len(recs) - 1, recs[-2]["hash"])
    checked = subprocess.run(
        [
            ssh_keygen(),
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            "tester",
            "-n",
            "agent-ir",
            "-s",
            str(tmp_path / "head.sig"),
        ],
        input=message,
        capture_output=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_keys_init_and_show(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    made = ir_cmd("keys", "init", "--as", "alice", cwd=ws)
    assert made.returncode == 0, made.stderr
    path = Path(os.environ["IR_KEYS_DIR"]) / "alice"
    assert path.stat().st_mode & 0o777 == 0o600
    line = made.stdout.splitlines()[-1].strip()
    assert line.startswith('alice: "ssh-ed25519 AAAA')
    assert "PRIVATE KEY" not in made.stdout + made.stderr
    assert ir_cmd("keys", "init", "--as", "alice", cwd=ws).returncode == 2  # never overwritten silently
    shown = ir_cmd("keys", "show", "--as", "alice", cwd=ws)
    assert "fingerprint: SHA256:" in shown.stdout and "allowed: no;" in shown.stdout
    settings = ws / "ir.yaml"
    settings.write_text(settings.read_text().replace("signing:\n", f"signing:\n  allowed_signers:\n    {line}\n"))
    assert "allowed: yes, as alice, role responder" in ir_cmd("keys", "show", "--as", "alice", cwd=ws).stdout
    inside = ir_cmd("keys", "init", "--as", "bob", cwd=ws, env={"IR_KEYS_DIR": str(ws / "keys")})
    assert inside.returncode == 2 and "inside the workspace" in inside.stderr


def test_the_demo_key_signs_in_the_demo_workspace_only(tmp_path: Path, signers: Any) -> None:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--as", "demo-responder", cwd=ws)
    assert run.returncode == 0 and "signed by demo-responder" in run.stdout
    case = next((ws / "cases").iterdir()).name
    verify = ir_cmd("verify", case, cwd=ws)
    assert (
        verify.returncode == 0
        and "by demo-responder (a demo key, trusted only by this demo workspace)" in verify.stdout
    )

    (tmp_path / "other").mkdir()
    other = demo_workspace(tmp_path / "other")
    settings = other / "ir.yaml"
    settings.write_text(settings.read_text().replace("demo_key: true", "demo_key: false"))
    signers(other, "tester")
    contain(other)
    note = ir_cmd(
        "note", next((other / "cases").iterdir()).name, "x", "--key", str(ws / ".ir" / "demo-signing-key"), cwd=other
    )
    assert "a demo key signs only in a workspace that sets signing.demo_key" in note.stdout
