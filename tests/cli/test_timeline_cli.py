"""`ir timeline` as a real subprocess, on the demo incident captured by a real run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO, ir_cmd


def demo_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "demo"
    ws.mkdir()
    for name in ("ir.yaml", "agents.yaml"):
        shutil.copy(REPO / name, ws / name)
    shutil.copytree(REPO / "demo", ws / "demo")
    shutil.copytree(REPO / "playbooks", ws / "playbooks")
    return ws


def test_timeline_of_the_demo_case(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    assert (case / "timeline.jsonl").is_file()

    out, summary_file = tmp_path / "ts.jsonl", tmp_path / "summary.json"
    result = ir_cmd(
        "timeline",
        "--case",
        case.name,
        "--format",
        "timesketch",
        "--out",
        str(out),
        "--summary-json",
        str(summary_file),
        cwd=ws,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["tool_name"] for r in rows] == ["email.read", "email.read", "fs.read", "crm.export", "http.post"]
    assert all({"message", "datetime", "timestamp", "timestamp_desc"} <= r.keys() for r in rows)
    summary = json.loads(summary_file.read_text())
    assert summary["first_suspicious"]["message"].startswith("fs.read")
    assert summary["likely_injection"]["message"].startswith("email.read")
    assert [s["host"] for s in summary["sent_to"]] == ["paste.example.net"]
    assert "first suspicious event:" in result.stdout and "5 events written to" in result.stdout


def test_no_sources_is_bad_input(tmp_path: Path) -> None:
    result = ir_cmd("timeline", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "ir: error: no sources: name files or folders, or use --agent / --case"


def test_a_case_whose_run_started_names_no_valid_agent_is_one_line(tmp_path: Path) -> None:
    # The journal chains (anyone can write one), but run.started's agent is not an inventory entry.
    from ir.core.journal import Journal

    ws = demo_workspace(tmp_path)
    case = ws / "cases" / "20261121T000000Z-x"
    case.mkdir(parents=True)
    with Journal(case).open(create=True) as journal:
        journal.append(
            "run.started", {"case": case.name, "playbook": {"id": "p"}, "agent": {"id": ["not", "a", "name"]}}
        )
    out = ir_cmd("timeline", "--case", case.name, cwd=ws)
    assert out.returncode == 2, out.stdout + out.stderr
    (line,) = out.stderr.splitlines()
    assert line.startswith(f"ir: error: {case / 'journal.jsonl'}: run.started records an agent that is not valid")
    assert "Traceback" not in out.stderr


def test_a_timeline_step_that_reads_no_event_fails_and_says_why(tmp_path: Path) -> None:
    """The agent's container logs captured by the run are no log format: the timeline step must not
    report success with an empty timeline — it fails, naming the file and why, and keeps the
    (empty) timeline and its summary as evidence. The rest of the playbook still runs."""
    ws = demo_workspace(tmp_path)
    (ws / "demo" / "logs" / "support-bot.docker.log").write_text("hello\nthis is not a log\n")
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode != 0, run.stdout + run.stderr
    done = json.loads(run.stdout.splitlines()[-1])
    case = Path(done["case"])
    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    (ended,) = [r for r in records if r["type"] == "step.result" and r["data"]["step"] == "timeline"]
    assert ended["data"]["status"] == "failed", ended
    error = ended["data"]["error"]
    assert error.startswith("step timeline: no events in any source: skipped ") and "(first line: 'hello')" in error
    assert ended["data"]["outputs"]["events"] == 0
    assert (case / "timeline.jsonl").read_text() == ""  # kept, hashed: it is true that nothing was read
    finished = records[-1]["data"]
    assert finished["status"] == "failed" and finished["still_live"] == []
    assert finished["steps"]["keys"] == "succeeded"  # on_failure: continue — the revocation still ran
