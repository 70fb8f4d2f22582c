"""`ir verify` and the allowed signers under attack: what a reviewer broke after issue 9, through the real `ir`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_agent_lock import paused_ir, paused_run
from tests.cli.test_signatures import rewrite
from tests.conftest import ir_cmd, make_workspace
from tests.unit.test_honest_status import AGENT, CLOUD

HOLDER = """\
import fcntl, json, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
if len(sys.argv) > 2:
    os.pwrite(fd, sys.argv[2].encode(), 0)
print(os.getpid(), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def ws(tmp_path: Path, signers: Any) -> Path:
    """A workspace whose tester is an allowed signer (the agent has a cloud identity and a secret)."""
    root = make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD)
    signers(root, "tester")
    return root


def records(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def waiting_case(ws: Path) -> Path:
    """A signed case whose run waits for an approval (the console step)."""
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert run.returncode == 4, run.stdout + run.stderr
    (case,) = (ws / "cases").iterdir()
    assert records(case)[-1]["type"] == "checkpoint"
    return case


def forge_tail(case: Path) -> int:
    """Append a note no signer wrote, the chain recomputed (what a forger does); its seq."""
    recs = records(case)
    rewrite(case / "journal.jsonl", [*recs, {"ts": recs[-1]["ts"], "type": "note", "data": {"by": "x", "text": "y"}}])
    return len(recs) + 1


@contextmanager
def holding(path: Path, meta: dict[str, str] | None = None) -> Iterator[int]:
    """Another process holds an exclusive flock on `path` (writing `meta` into it) for the block; its pid."""
    args = [sys.executable, "-c", HOLDER, str(path), *([json.dumps(meta)] if meta else [])]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())  # printed once the lock is held
    finally:
        proc.communicate("", timeout=30)


@contextmanager
def paused_resume(ws: Path, case: Path) -> Iterator[subprocess.Popen[str]]:
    """`ir resume CASE --yes` held, with every lock, right after its run.resumed record."""
    with paused_ir(ws, ["resume", case.name, "--yes"], "run.resumed:*", "tester") as proc:
        yield proc


def test_strict_never_prints_ok_and_an_unsigned_case_says_nothing_proves_who_wrote_it(ws: Path) -> None:
    case = waiting_case(ws)
    recs = records(case)
    rewrite(case / "journal.jsonl", [r for r in recs if r["type"] != "checkpoint"])  # signatures stripped
    for how in ("stripped", "cut"):
        if how == "cut":
            lines = (case / "journal.jsonl").read_text().splitlines(keepends=True)
            (case / "journal.jsonl").write_text("".join(lines[:5]))  # head -5 journal.jsonl
        lenient = ir_cmd("verify", case.name, cwd=ws)
        assert lenient.returncode == 0, lenient.stderr  # a case from before signing still verifies...
        assert "signed head: none (unsigned: nothing proves who wrote this case" in lenient.stdout
        assert "no signed head: nothing proves who wrote this case" in lenient.stderr
        assert "stripped or cut off" in lenient.stderr
        assert "--expect-head SEQ:HASH" in lenient.stderr and "--strict" in lenient.stderr
        strict = ir_cmd("verify", case.name, "--strict", cwd=ws)
        assert strict.returncode == 1
        assert strict.stdout == ""  # ...but a FAIL verdict says nothing that reads as ok
        assert "FAIL --strict: the case has no signed head" in strict.stderr


def test_a_process_holding_the_case_lock_does_not_hide_an_unsigned_tail(ws: Path) -> None:
    case = waiting_case(ws)
    seq = forge_tail(case)
    with holding(case / ".lock"):  # flock cases/C/.lock sleep 30
        held = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert held.returncode == 1 and held.stdout == ""
    assert f"unsigned tail: seq {seq}..{seq} come after the last checkpoint" in held.stderr

    # an agent lock that names the case, but its pid is not the one holding the case lock
    agent_lock = ws / ".ir" / "locks" / "support-bot.lock"
    with holding(case / ".lock") as pid, holding(agent_lock, {"pid": str(pid), "case": case.name}):
        forged = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert forged.returncode == 1 and f"unsigned tail: seq {seq}..{seq}" in forged.stderr


def test_a_live_resume_tail_is_reported_as_its_own_and_signed_when_it_ends(ws: Path) -> None:
    case = waiting_case(ws)
    with paused_resume(ws, case) as proc:
        spooled = case / "attached" / "0123456789abcdef.json"  # an --attach handed over to the live resume
        spooled.parent.mkdir()
        spooled.write_text(json.dumps({"by": "carol", "text": "again", "attached": {"request": "0123456789abcdef"}}))
        live = ir_cmd("verify", case.name, "--strict", cwd=ws)
        assert live.returncode == 0, live.stderr
        seq = len(records(case))
        assert f"seq {seq}..{seq} come after the last checkpoint, being written by the live run pid {proc.pid}" in (
            live.stderr
        )
        assert f"{spooled}: an attached request not yet in the journal (the live run pid {proc.pid}" in live.stderr
    assert proc.returncode == 0, proc.stderr
    assert any(r["type"] == "note" and r["data"]["by"] == "carol" for r in records(case))
    assert ir_cmd("verify", case.name, "--strict", cwd=ws).returncode == 0  # its end-of-run checkpoint signed it


def test_hostile_records_that_chain_are_verify_problems_not_tracebacks(ws: Path) -> None:
    case = waiting_case(ws)
    good = shutil.copytree(case, ws / "cases" / (case.name[:-4] + "good"))
    recs = records(case)
    for signatures in ([{"principal": "alice"}], "abc", ["abc"]):  # the last one breaks the case reader too
        forged = {"decision": "reenable", "by": "alice", "signatures": signatures}
        rewrite(case / "journal.jsonl", [*recs, {"ts": recs[-1]["ts"], "type": "decision", "data": forged}])
        verify = ir_cmd("verify", case.name, cwd=ws)
        assert verify.returncode == 1 and "Traceback" not in verify.stderr, verify.stderr
        assert f"journal.jsonl:{len(recs) + 1}: decision reenable by alice: " in verify.stderr
        assert "signature 1 is malformed" in verify.stderr or "its signatures are not a list" in verify.stderr

    listed = ir_cmd("cases", cwd=ws)
    assert good.name in listed.stdout and case.name not in listed.stdout  # the others are still listed
    assert listed.returncode == 1 and listed.stderr.count("\n") == 1 and "Traceback" not in listed.stderr
    assert listed.stderr.startswith(f"ir: error: {case.name}: cannot be read")

    rewrite(case / "journal.jsonl", [*recs, {"ts": recs[-1]["ts"], "type": "note", "data": "not an object"}])
    verify = ir_cmd("verify", case.name, cwd=ws)
    assert verify.returncode == 1 and "Traceback" not in verify.stderr
    assert f"journal.jsonl:{len(recs) + 1}: not a journal record" in verify.stderr
    started = recs[0] | {"data": {**recs[0]["data"], "playbook": "x", "agent": "y"}}
    rewrite(case / "journal.jsonl", [started, *recs[1:]])
    verify = ir_cmd("verify", case.name, cwd=ws)
    assert verify.returncode == 1 and "Traceback" not in verify.stderr and "pinned playbook" in verify.stderr


def test_a_removed_signer_is_named_as_such_and_never_as_no_signed_head(ws: Path, signers: Any) -> None:
    signers(ws, "alice")
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--as", "alice", cwd=ws)
    assert run.returncode == 4 and "signed by alice" in run.stdout
    (case,) = (ws / "cases").iterdir()
    settings = ws / "ir.yaml"
    settings.write_text("\n".join(ln for ln in settings.read_text().splitlines() if "alice:" not in ln) + "\n")

    verify = ir_cmd("verify", case.name, cwd=ws)
    assert verify.returncode == 1 and verify.stdout == ""
    assert "checkpoint signed by alice with SHA256:" in verify.stderr
    assert "a key this workspace does not allow (removed or never added)" in verify.stderr
    assert "no signed head" not in verify.stderr and "unsigned" not in verify.stderr

    outside = shutil.copytree(case, ws.parent / "elsewhere" / case.name)
    alone = ir_cmd("verify", str(outside), cwd=ws.parent)
    assert alone.returncode == 1 and "checkpoint signed by alice with SHA256:" in alone.stderr
    assert "pass --allowed-signers FILE" in alone.stderr and "no signed head" not in alone.stderr


def test_a_bad_allowed_signer_line_is_skipped_with_one_warning_and_runs_go_on(ws: Path) -> None:
    settings = ws / "ir.yaml"
    settings.write_text(settings.read_text() + '    mallory: "ssh-rsa AAAAB3NzaC1yc2E"\n')
    line = settings.read_text().splitlines().index('    mallory: "ssh-rsa AAAAB3NzaC1yc2E"') + 1

    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert run.returncode == 4, run.stderr  # waits for approval, as without the bad line
    assert [ln for ln in run.stderr.splitlines() if ln.startswith("warning:")] == [
        f"warning: {settings}:{line}:5: allowed signer mallory ignored: "
        "not an ssh-ed25519 or ecdsa-sha2-nistp256/384/521 public key line (TYPE BASE64)"
    ]
    assert "signed by tester" in run.stdout  # the others still sign
    (case,) = (ws / "cases").iterdir()
    shown = ir_cmd("keys", "show", "--allowed-signers", cwd=ws)
    assert shown.returncode == 0 and f"# {settings}:{line}:5: allowed signer mallory ignored" in shown.stdout
    verify = ir_cmd("verify", case.name, cwd=ws)
    assert verify.returncode == 0 and verify.stderr.count(f"warning: {settings}:{line}:5: allowed signer mallory") == 1

    note = ir_cmd("note", case.name, "mallory was here", "--as", "mallory", cwd=ws)
    assert note.returncode == 0  # unsigned, and says why
    assert "journal head not signed" in note.stdout and "allowed signer mallory ignored" in note.stdout


def test_an_attach_note_is_signed_and_a_leftover_spool_file_is_named(ws: Path) -> None:
    case = waiting_case(ws)
    attached = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--attach", cwd=ws)
    assert attached.returncode == 0 and "note recorded" in attached.stdout, attached.stderr
    assert [r["type"] for r in records(case)[-2:]] == ["note", "checkpoint"]
    assert ir_cmd("verify", case.name, "--strict", cwd=ws).returncode == 0

    spooled = case / "attached" / "0123456789abcdef.json"  # spooled as the holder ended, after its last collect
    spooled.parent.mkdir(exist_ok=True)
    spooled.write_text(json.dumps({"by": "carol", "text": "again", "attached": {"request": "0123456789abcdef"}}))
    verify = ir_cmd("verify", case.name, cwd=ws)
    assert verify.returncode == 0
    assert f"warning: {spooled}: an attached request not yet in the journal" in verify.stderr
    assert "in the case but not recorded" not in verify.stderr  # said once, plainly


def test_verify_with_an_allowed_signers_file_honours_valid_before(ws: Path, tmp_path: Path) -> None:
    case = waiting_case(ws)
    key = (Path(os.environ["IR_KEYS_DIR"]) / "tester.pub").read_text().split()[:2]
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"# team\nsk-user sk-ssh-ed25519@openssh.com AAAA\ntester {' '.join(key)}\n")
    ok = ir_cmd("verify", case.name, "--allowed-signers", str(allowed), cwd=ws)
    assert ok.returncode == 0 and "by tester" in ok.stdout  # the FIDO line is skipped, not fatal
    assert f"warning: {allowed}:2: allowed signer sk-user ignored" in ok.stderr
    allowed.write_text(f'tester valid-before="20200101" {" ".join(key)}\n')
    expired = ir_cmd("verify", case.name, "--allowed-signers", str(allowed), cwd=ws)
    assert expired.returncode == 1 and expired.stdout == ""
    assert "checkpoint signed by tester with SHA256:" in expired.stderr
    assert "allows only valid before 2020-01-01" in expired.stderr


def test_a_note_spooled_to_a_live_run_is_signed_by_its_end_of_run_checkpoint(ws: Path, signers: Any) -> None:
    signers(ws, "alice")  # the paused run is alice's
    with paused_run(ws, "step.started:secrets") as (_first, case):
        attached = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--attach", "--as", "carol", cwd=ws)
        assert "which a live run holds" in attached.stdout, attached.stderr
    kinds = [r["type"] for r in records(case)]
    assert "note" in kinds and kinds[-1] == "checkpoint" and kinds.index("note") < len(kinds) - 1
    strict = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert strict.returncode == 0, strict.stderr
    assert "by alice" in strict.stdout
