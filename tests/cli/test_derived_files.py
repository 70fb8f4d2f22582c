"""Derived case files (timeline.jsonl, Ansible artifacts) are hashed into the journal; verify checks them."""

from __future__ import annotations

import json
from pathlib import Path

from ir.core.journal import GENESIS, record_hash
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd

ARTIFACT = "ansible/host-logs-run/collected/agent-host-1/var/log/support-bot/agent.log"


def demo_case(tmp_path: Path) -> tuple[Path, Path, list[dict[str, object]]]:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    return ws, case, records


def about_case_files(stderr: str) -> list[str]:
    """The lines of `ir verify` about derived files (signing has warnings of its own)."""
    marks = ("derived file", "not recorded in the journal", "differs from evidence")
    return [line for line in stderr.splitlines() if any(mark in line for mark in marks)]


def seq_of(records: list[dict[str, object]], path: str) -> int:
    return next(
        int(str(r["seq"]))
        for r in records
        if r["type"] == "derived.added" and r["data"]["path"] == path  # type: ignore[index]
    )


def test_a_changed_or_removed_derived_file_fails_verify_naming_file_and_seq(tmp_path: Path) -> None:
    ws, case, records = demo_case(tmp_path)
    derived = {r["data"]["path"]: r["data"] for r in records if r["type"] == "derived.added"}  # type: ignore[index]
    assert {"timeline.jsonl", ARTIFACT} <= set(derived)
    assert derived["timeline.jsonl"]["step"] == "timeline"
    clean = ir_cmd("verify", str(case), cwd=ws)
    assert clean.returncode == 0 and about_case_files(clean.stderr) == [], clean.stderr

    timeline = case / "timeline.jsonl"
    lines = timeline.read_text().splitlines()
    timeline.write_text("\n".join(lines[:2] + lines[3:]) + "\n")  # an event quietly dropped
    (case / ARTIFACT).unlink()
    (case / "notes.txt").write_text("added by hand\n")
    result = ir_cmd("verify", str(case), cwd=ws)
    assert result.returncode == 1
    errors = about_case_files(result.stderr)
    assert (
        f"FAIL {case}/timeline.jsonl: derived file changed after it was recorded "
        f"(journal seq {seq_of(records, 'timeline.jsonl')})" in errors
    )
    assert (
        f"FAIL {case}/{ARTIFACT}: derived file removed after it was recorded (journal seq {seq_of(records, ARTIFACT)})"
        in errors
    )
    assert f"warning: {case}/notes.txt: in the case but not recorded in the journal" in errors
    assert len(errors) == 3


def test_a_case_made_before_derived_records_still_verifies_with_a_warning(tmp_path: Path) -> None:
    ws, case, records = demo_case(tmp_path)
    prev, rewritten = GENESIS, []
    old = (r for r in records if r["type"] not in ("derived.added", "checkpoint"))  # what older versions wrote
    for rec in old:
        body = {"seq": len(rewritten) + 1, "ts": rec["ts"], "type": rec["type"], "data": rec["data"], "prev": prev}
        prev = record_hash(body)
        rewritten.append(json.dumps({**body, "hash": prev}))
    (case / "journal.jsonl").write_text("\n".join(rewritten) + "\n")
    result = ir_cmd("verify", str(case), cwd=ws)
    assert result.returncode == 0, result.stderr
    assert about_case_files(result.stderr) == [
        f"warning: {case}/{ARTIFACT}: in the case but not recorded in the journal"
    ]

    (case / "timeline.jsonl").write_text("{}\n")  # it no longer matches the evidence copy
    result = ir_cmd("verify", str(case), cwd=ws)
    assert result.returncode == 0
    assert any(
        "timeline.jsonl: differs from evidence 'timeline.jsonl'" in line for line in about_case_files(result.stderr)
    )
