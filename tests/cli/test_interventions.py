"""What a responder does to a run besides approving it: skip a step with a reason, note, abort."""

from __future__ import annotations

import json
from pathlib import Path

from ir.core.journal import read
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd


def waiting_case(tmp_path: Path) -> tuple[Path, Path]:
    """The demo incident stopped at its first approval gate (`console`)."""
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--json", cwd=ws)
    assert run.returncode == 4, run.stderr
    return ws, Path(json.loads(run.stdout.splitlines()[-1])["case"])


def records(case: Path, kind: str) -> list[dict[str, object]]:
    return [r.data for r in read(case / "journal.jsonl").records if r.type == kind]


def test_skipping_a_gated_step_records_who_and_why_and_the_run_goes_on(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    resumed = ir_cmd(
        "resume", case.name, "--skip", "console", "--reason", "the agent has no console login", "--json", cwd=ws
    )
    assert resumed.returncode == 4, resumed.stderr  # the next gate (secrets) waits
    summary = json.loads(resumed.stdout.splitlines()[-1])
    assert summary["steps"]["console"] == "skipped"
    assert summary["steps"]["secrets"] == "awaiting_approval"
    assert {"step": "console", "reason": "the agent has no console login", "by": "tester"} in records(
        case, "step.skipped"
    )
    assert [r for r in records(case, "step.started") if r["step"] == "console"] == []  # nothing of it ran
    assert ir_cmd("verify", str(case)).returncode == 0


def test_skip_without_a_reason_or_of_an_unknown_step_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    before = (case / "journal.jsonl").read_bytes()
    no_reason = ir_cmd("resume", case.name, "--skip", "console", cwd=ws)
    assert no_reason.returncode == 2
    assert no_reason.stderr.strip() == "ir: error: skipping step console needs a reason (--reason)"
    unknown = ir_cmd("resume", case.name, "--skip", "nosuch", "--reason", "x", cwd=ws)
    assert unknown.returncode == 2
    assert "no step 'nosuch' to approve, override or skip" in unknown.stderr
    assert (case / "journal.jsonl").read_bytes() == before


def test_a_step_whose_call_may_have_happened_is_not_skipped(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    killed = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=ws, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    assert killed.returncode == -9
    (case,) = (ws / "cases").iterdir()
    refused = ir_cmd("resume", case.name, "--skip", "isolate", "--reason", "skip it", "--json", cwd=ws)
    assert refused.returncode == 4  # isolate goes on on failure; the run stops at the first gate
    assert json.loads(refused.stdout.splitlines()[-1])["steps"]["isolate"] == "errored"
    (result,) = [r for r in records(case, "step.result") if r["step"] == "isolate"]
    assert "not skipped: a call was made and its result is unknown" in str(result["error"])
    assert records(case, "step.skipped") == []
    resumed = ir_cmd("resume", case.name, "--yes", cwd=ws)  # without --skip, verify() decides and the run goes on
    assert resumed.returncode == 0, resumed.stderr


def test_a_note_goes_into_the_chain_with_its_author_and_without_secrets(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    secret = "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    noted = ir_cmd("note", case.name, f"pasted from the ticket: {secret}", "--step", "console", "--as", "alice", cwd=ws)
    assert noted.returncode == 0, noted.stderr
    assert noted.stdout.startswith(f"note recorded in {case.name} (journal seq ")
    (note,) = records(case, "note")
    assert note["by"] == "alice" and note["step"] == "console"
    assert str(note["text"]).startswith("pasted from the ticket: ")
    assert "wJalrXUtnFEMI" not in (case / "journal.jsonl").read_text()
    assert ir_cmd("verify", str(case)).returncode == 0
    bad_step = ir_cmd("note", case.name, "x", "--step", "nosuch", cwd=ws)
    assert bad_step.returncode == 2 and "no step 'nosuch'" in bad_step.stderr
    empty = ir_cmd("note", case.name, "   ", cwd=ws)
    assert empty.returncode == 2 and empty.stderr.strip() == "ir: error: a note needs text"


def test_an_aborted_run_cannot_be_resumed_and_lists_what_was_not_run(tmp_path: Path) -> None:
    ws, case = waiting_case(tmp_path)
    aborted = ir_cmd("abort", case.name, "--reason", "wrong agent: support-bot was not involved", cwd=ws)
    assert aborted.returncode == 0, aborted.stderr
    assert "not run: console, secrets," in aborted.stdout
    (record,) = records(case, "run.aborted")
    assert record["by"] == "tester" and record["previous_status"] == "awaiting_approval"
    assert "freeze" not in record["open_steps"]  # it ran
    resumed = ir_cmd("resume", case.name, "--yes", cwd=ws)
    assert resumed.returncode == 2
    assert "the run was aborted (by tester: wrong agent" in resumed.stderr
    again = ir_cmd("abort", case.name, "--reason", "again", cwd=ws)
    assert again.returncode == 2 and "already ended (aborted)" in again.stderr
    assert "aborted" in ir_cmd("cases", cwd=ws).stdout
    assert ir_cmd("verify", str(case)).returncode == 0
