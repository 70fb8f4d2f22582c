"""`ir timeline` when files are skipped, forced to a format, or yield nothing (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, ir_cmd

CLAUDE = REPO / "tests" / "fixtures" / "timeline" / "claude" / "tool_heavy.jsonl"


def write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_nothing_readable_exits_2_with_each_files_reason(tmp_path: Path) -> None:
    write(tmp_path / "queue.jsonl", [{"type": "enqueue", "operation": "run", "timestamp": "2026-02-10T22:57:58Z"}])
    (tmp_path / "notes.txt").write_text("just prose\n")
    out = tmp_path / "events.jsonl"
    result = ir_cmd("timeline", str(tmp_path), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"ir: skipped {tmp_path}/notes.txt: text, not JSON")
    assert lines[1].startswith(f"ir: skipped {tmp_path}/queue.jsonl: JSON lines, but no line has a tool call")
    assert lines[1].endswith("(first keys: type, operation, timestamp)")
    assert lines[2] == "ir: error: no events: nothing in the sources could be read (reasons above)"
    assert not out.exists() and "events written" not in result.stdout


def test_files_read_but_yielding_nothing_exit_2_too(tmp_path: Path) -> None:
    path = write(tmp_path / "tools.jsonl", [{"ts": "yesterday", "tool": "a", "arguments": {}}])
    result = ir_cmd("timeline", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"ir: {path}: read as jsonl, 1 records, 1 bad, no events; first: {path}:1: no usable time" in result.stderr


def test_a_partly_skipped_run_says_so_in_text_and_json(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("just prose\n")
    write(tmp_path / "tools.jsonl", [{"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "arguments": {}}])
    text = ir_cmd("timeline", str(tmp_path), "--format", "jsonl", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stderr.splitlines()[0] == "1 events from 1 sources; 1 file skipped (not read, see below)"
    assert f"  skipped {tmp_path}/notes.txt: text, not JSON" in text.stderr
    as_json = ir_cmd("timeline", str(tmp_path), "--out", str(tmp_path / "e.jsonl"), "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    (line,) = as_json.stdout.splitlines()  # one JSON object where the text summary would go
    summary = json.loads(line)
    assert summary["events"] == 1 and summary["files_skipped"] == 1
    assert summary["skipped_files"][0].startswith(f"{tmp_path}/notes.txt: text, not JSON")
    assert [(Path(d["path"]).name, d["format"]) for d in summary["detected"]] == [("tools.jsonl", "jsonl")]


def test_source_format_file_equals_format_forces_one_file(tmp_path: Path) -> None:
    # Only the bookkeeping lines of a real Claude session (snapshots, hook progress, queue
    # operations): detection will not call that a session, naming its format reads it anyway.
    kept = [line for line in CLAUDE.read_text().splitlines() if json.loads(line)["type"] not in ("user", "assistant")]
    odd = tmp_path / "odd.log"
    odd.write_text("\n".join(kept) + "\n")
    tools = write(tmp_path / "tools.jsonl", [{"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "arguments": {}}])
    detected = ir_cmd("timeline", str(odd), str(tools), "--json", cwd=tmp_path)
    assert detected.returncode == 0, detected.stderr
    skipped = json.loads(detected.stderr.splitlines()[-1])["skipped_files"]
    assert skipped == [f"{odd}: " + skipped[0].split(": ", 1)[1]] and "closest: claude" in skipped[0]
    forced = ir_cmd("timeline", str(odd), str(tools), "--source-format", f"{odd}=claude", "--json", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    summary = json.loads(forced.stderr.splitlines()[-1])
    read = {Path(s["path"]).name: (s["format"], s["records"], s["bad"]) for s in summary["sources"]}
    assert read == {"odd.log": ("claude", len(kept), 0), "tools.jsonl": ("jsonl", 1, 0)}
    assert summary["skipped_files"] == []
    bad = ir_cmd("timeline", str(tools), "--source-format", f"{odd}=nope", cwd=tmp_path)
    assert bad.returncode == 2 and "'nope' is not a format" in bad.stderr
    absent = ir_cmd("timeline", str(tools), "--source-format", f"{odd}=claude", cwd=tmp_path)
    assert absent.returncode == 2 and f"{odd} is not among the sources" in absent.stderr


def test_untimed_at_must_be_a_time(tmp_path: Path) -> None:
    tools = write(tmp_path / "tools.jsonl", [{"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "arguments": {}}])
    result = ir_cmd("timeline", str(tools), "--untimed-at", "soon", cwd=tmp_path)
    assert result.returncode == 2 and "--untimed-at 'soon': not a time" in result.stderr
    ok = ir_cmd("timeline", str(tools), "--untimed-at", "2026-11-20T04:00:00Z", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_every_timeline_option_is_documented() -> None:
    from ir.cli import cli

    section = (REPO / "docs" / "cli.md").read_text().split("## `ir timeline", 1)[1].split("\n## ", 1)[0]
    command = cli.commands["timeline"]
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert f"`{opt}" in section, f"{opt} is not documented"


def test_a_reason_never_prints_a_secret_the_file_holds(tmp_path: Path) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    (tmp_path / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={secret}\nAWS_REGION=eu-west-1\n")
    (tmp_path / "auth.sh").write_text(f"export AUTH={token}\n")  # cut at 60 characters, the token's shape is gone
    write(tmp_path / "tools.jsonl", [{"ts": token, "tool": "deploy"}])
    result = ir_cmd("timeline", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"ir: skipped {tmp_path}/.env: text, not JSON and not `docker logs --timestamps` lines "
        "(first line: 'AWS_SECRET_ACCESS_KEY=[REDACTED]')"
    )
    assert lines[1] == (
        f"ir: skipped {tmp_path}/auth.sh: text, not JSON and not `docker logs --timestamps` lines "
        "(first line: 'export AUTH=[REDACTED]')"
    )
    assert lines[2] == (
        f"ir: {tmp_path}/tools.jsonl: read as jsonl, 1 records, 1 bad, no events; "
        f"first: {tmp_path}/tools.jsonl:1: no usable time ('[REDACTED]')"
    )
    for part in (secret[:12], token[:24]):
        assert part not in result.stderr


def test_a_file_named_twice_is_read_once(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    path = write(logs / "tool.jsonl", [{"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "call_id": "c1"}])
    result = ir_cmd("timeline", "logs", str(path), "./logs/tool.jsonl", "--format", "jsonl", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["tool"]["call_id"] == "c1" and "evidence" not in event
    summary = json.loads(result.stderr.splitlines()[-1])
    assert [s["path"] for s in summary["sources"]] == ["logs/tool.jsonl"] and summary["clock_offsets"] == {}
