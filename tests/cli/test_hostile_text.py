"""Secrets in tool arguments and hostile log lines, through `ir timeline` and a whole demo run."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ir.core.evidence import blob_path
from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import SHARED_DATA, ir_cmd

FORMATS = ("table", "jsonl", "timesketch", "timesketch-csv")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What must never reach a terminal or a file raw (tab and newline are plain text)."""


def secret_arguments(tag: str) -> dict[str, object]:
    return {
        "query": "orders",
        "password": f"canary-{tag}-password-1",
        "nested": {"API-Key": f"canary-{tag}-apikey-2", "items": [{"Authorization": f"Basic canary-{tag}-auth-3"}]},
        "max_tokens": 4096,
    }


def canaries(tag: str) -> list[str]:
    return [f"canary-{tag}-password-1", f"canary-{tag}-apikey-2", f"canary-{tag}-auth-3"]


def tool_log_lines(tag: str) -> list[str]:
    """Two tool calls: arguments as an object, and the same arguments as a JSON string."""
    common = {"agent": "support-bot", "session": "s-1", "tool": "db.query", "success": True}
    return [
        json.dumps({"ts": "2026-11-20T03:12:05.100Z", **common, "call_id": "k1", "arguments": secret_arguments(tag)}),
        json.dumps(
            {
                "ts": "2026-11-20T03:12:05.200Z",
                **common,
                "call_id": "k2",
                "arguments": json.dumps(secret_arguments(tag + "s")),
                "result": json.dumps({"session_token": f"canary-{tag}-result-4", "rows": 3}),
            }
        ),
    ]


def otel_trace_with_secrets(path: Path) -> None:
    """The real OpenAI Agents SDK trace of the shared samples, with secrets planted in a tool span's
    arguments (a JSON string there, as the SDK writes them)."""
    doc = json.loads((SHARED_DATA / "otel-any-agent" / "OPENAI_trace.json").read_text())
    span = next(s for s in doc["spans"] if s["attributes"].get("gen_ai.operation.name") == "execute_tool")
    span["attributes"]["gen_ai.tool.args"] = json.dumps(secret_arguments("otel"))
    path.write_text(json.dumps(doc))


def assert_clean(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret} leaked into {where}"


def test_secret_named_arguments_never_leave_ir_timeline(tmp_path: Path) -> None:
    log = tmp_path / "tools.jsonl"
    log.write_text("\n".join(tool_log_lines("log")) + "\n")
    trace = tmp_path / "trace.json"
    otel_trace_with_secrets(trace)
    secrets = canaries("log") + canaries("logs") + ["canary-log-result-4"] + canaries("otel")
    for fmt in FORMATS:
        shown = ir_cmd("timeline", str(log), str(trace), "--format", fmt, cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "db.query" in shown.stdout and "get_current_time" in shown.stdout
        assert_clean(shown.stdout + shown.stderr, secrets, f"ir timeline --format {fmt}")
        out, summary = tmp_path / f"out.{fmt}", tmp_path / f"summary.{fmt}.json"
        written = ir_cmd(
            "timeline", str(log), str(trace), "--format", fmt, "--out", str(out), "--summary-json", str(summary)
        )
        assert written.returncode == 0, written.stderr
        text = out.read_text() + summary.read_text() + written.stdout + written.stderr
        assert_clean(text, secrets, f"ir timeline --format {fmt} --out")
        assert "[redacted: secret-named field]" in out.read_text()
    events = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    call = next(e for e in events if e["tool"] and e["tool"]["call_id"] == "k1")
    assert call["tool"]["arguments"]["max_tokens"] == 4096 and call["tool"]["arguments"]["query"] == "orders"


def test_a_demo_run_keeps_planted_secrets_out_of_every_case_file_and_output(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    docker_log = ws / "demo" / "logs" / "support-bot.docker.log"
    planted = [f"2026-11-20T03:12:05.{i}00000Z {line}" for i, line in enumerate(tool_log_lines("run"), start=1)]
    docker_log.write_text(docker_log.read_text() + "\n".join(planted) + "\n")
    secrets = canaries("run") + canaries("runs") + ["canary-run-result-4"]

    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    assert_clean(run.stdout + run.stderr, secrets, "ir run output")
    human = ir_cmd("timeline", "--case", case.name, cwd=ws)
    assert "db.query" in human.stdout
    assert_clean(human.stdout + human.stderr, secrets, "ir timeline --case")

    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    raw_captures = {  # the container's own logs and filesystem, kept byte-exact as evidence
        blob_path(r["data"]["sha256"]) for r in records if r["type"] == "evidence.added" and r["data"]["sensitive"]
    }
    scanned = 0
    for path in sorted(p for p in case.rglob("*") if p.is_file()):
        rel = path.relative_to(case).as_posix()
        if rel in raw_captures:
            continue
        assert_clean(path.read_bytes().decode("utf-8", "replace"), secrets, rel)
        scanned += 1
    assert scanned >= 10
    logs = next(r["data"] for r in records if r["type"] == "evidence.added" and r["data"]["name"] == "logs.txt")
    assert "canary-run-password-1" in (case / blob_path(logs["sha256"])).read_text()  # the plant did happen
    timeline = (case / "timeline.jsonl").read_text()
    assert timeline.count("[redacted: secret-named field]") >= 6

    verified = ir_cmd("verify", str(case), cwd=ws)
    assert verified.returncode == 0, verified.stderr
    assert "not recorded in the journal" not in verified.stderr and "derived file" not in verified.stderr


HOSTILE_TEXT = "see \x1b]52;c;ZXZpbA==\x07\x1b[2J\x07 \x9b31m \u202etxt.exe \x7f done"


def strings(value: object) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def hostile_log(path: Path) -> None:
    records = [
        {"tool": '=HYPERLINK("http://x","y")', "call_id": "h1", "arguments": {"text": HOSTILE_TEXT}},
        {"tool": "notes.write", "call_id": "@SUM(1)", "arguments": {"path": "-1+1", "text": HOSTILE_TEXT}},
        {"tool": "+cmd", "call_id": "h3", "result": "\tstarts with a tab " + HOSTILE_TEXT},
    ]
    lines = [json.dumps({"ts": f"2026-11-20T03:12:0{i}Z", "agent": "a", **r}) for i, r in enumerate(records, 1)]
    path.write_text("\n".join(lines) + "\n")


def test_hostile_log_lines_come_out_inert_in_every_format(tmp_path: Path) -> None:
    log = tmp_path / "hostile.jsonl"
    hostile_log(log)
    table = ir_cmd("timeline", str(log), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    for stream in (table.stdout, table.stderr):
        assert not RAW_CONTROL.search(stream), repr(stream)
    assert "\\x1b]52;c;" in table.stdout and "\\x9b" in table.stdout and "\\u202e" in table.stdout

    for fmt in ("jsonl", "timesketch"):
        out = tmp_path / f"out.{fmt}"
        assert ir_cmd("timeline", str(log), "--format", fmt, "--out", str(out)).returncode == 0
        text = out.read_text(encoding="utf-8")
        assert not RAW_CONTROL.search(text), repr(text)
        rows = [json.loads(line) for line in text.splitlines()]
        assert any(HOSTILE_TEXT in value for r in rows for value in strings(r))  # kept, only escaped

    out = tmp_path / "out.csv"
    assert ir_cmd("timeline", str(log), "--format", "timesketch-csv", "--out", str(out)).returncode == 0
    raw = out.read_bytes().decode("utf-8")
    assert not RAW_CONTROL.search(raw.replace("\r\n", "")), repr(raw)
    rows = list(csv.reader(io.StringIO(raw)))
    cells = [cell for row in rows[1:] for cell in row]
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not c.lstrip("-").isdigit()]
    assert live == []
    assert '\'=HYPERLINK("http://x","y")' in cells and "'@SUM(1)" in cells and "'-1+1" in cells


def test_ir_cases_shows_a_copied_case_with_hostile_names_as_text(tmp_path: Path) -> None:
    from ir.core.journal import Journal

    ws = demo_workspace(tmp_path)
    case = ws / "cases" / "20261120T031200Z-x-agent-compromise-0001"
    case.mkdir(parents=True)
    journal = Journal(case).open(create=True)
    book = {"id": "agent-compromise\x1b]52;c;ZXZpbA==\x07", "version": "1.0.0"}
    journal.append("run.started", {"case": case.name, "playbook": book, "agent": {"id": "x\x9b2J\u202e"}})
    journal.close()
    listed = ir_cmd("cases", cwd=ws)
    assert listed.returncode == 0, listed.stderr
    assert not RAW_CONTROL.search(listed.stdout), repr(listed.stdout)
    assert "agent-compromise\\x1b]52;c;ZXZpbA==\\x07" in listed.stdout
