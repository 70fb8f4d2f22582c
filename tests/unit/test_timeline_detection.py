"""Detection on real session files, the reasons a file is skipped, and untimed events' placement."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ir.timeline.export import table_line, timesketch_row
from ir.timeline.model import iso, parse_time
from ir.timeline.pipeline import build
from ir.timeline.sources import detect, detect_file
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "timeline"
CLAUDE_MAIN = FIXTURES / "claude" / "tool_heavy.jsonl"
CLAUDE_AGENT = FIXTURES / "claude" / "agent-aa84377.jsonl"
CODEX = FIXTURES / "codex" / "rollout-2026-05-11T13-28-45-019e1695-0522-7c83-8b39-0dd379793f80.jsonl"


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def claude_tool_uses(path: Path) -> list[tuple[str, str]]:
    """(name, id) of every tool_use block, read straight from the file."""
    return [
        (block["name"], block["id"])
        for obj in lines_of(path)
        for block in (obj.get("message") or {}).get("content") or []
        if isinstance(block, dict) and block.get("type") == "tool_use"
    ]


def test_a_claude_session_opening_with_bookkeeping_is_detected_and_read() -> None:
    first = lines_of(CLAUDE_MAIN)[0]
    assert first["type"] == "file-history-snapshot"  # the first line is not a message
    found = detect_file(CLAUDE_MAIN)
    assert found.format == "claude" and "Claude Code session lines" in found.why
    timeline = build([CLAUDE_MAIN])
    events = list(timeline.events())
    calls = [(e["tool"]["name"], e["tool"]["call_id"]) for e in events if e["kind"] == "tool_call"]
    assert sorted(calls) == sorted(claude_tool_uses(CLAUDE_MAIN))
    results = {e["tool"]["call_id"] for e in events if e["kind"] == "tool_result"}
    assert results == {call_id for _, call_id in calls}  # every call's result is in this file
    assert timeline.summary()["sources"][0]["bad"] == 0  # snapshots, progress, queue ops are not bad records


def test_a_claude_session_whose_first_50_lines_are_bookkeeping_is_still_claude(tmp_path: Path) -> None:
    # Hook progress and snapshots can fill the start of a session; the file is small enough to
    # sample whole by bytes, but the sample stops at 50 lines, before the first message.
    text = CLAUDE_MAIN.read_text().splitlines()
    bookkeeping = [line for line in text if json.loads(line)["type"] not in ("user", "assistant")]
    path = tmp_path / "session.jsonl"
    path.write_text("\n".join(bookkeeping * 4 + text) + "\n")
    assert len(bookkeeping) * 4 > 50 and path.stat().st_size < 256 * 1024
    found = detect_file(path)
    assert found.format == "claude", found.why
    calls = [e["tool"]["call_id"] for e in build([path]).events() if e["kind"] == "tool_call"]
    assert sorted(calls) == sorted(call_id for _, call_id in claude_tool_uses(CLAUDE_MAIN))


def test_a_subagent_file_names_the_agent_and_its_parallel_calls() -> None:
    lines = lines_of(CLAUDE_AGENT)
    assert all(obj["isSidechain"] for obj in lines)
    assert detect(CLAUDE_AGENT) == "claude"
    events = list(build([CLAUDE_AGENT]).events())
    calls = [e for e in events if e["kind"] == "tool_call"]
    assert [(e["tool"]["name"], e["tool"]["call_id"]) for e in calls] == claude_tool_uses(CLAUDE_AGENT)
    assert {e["actor"]["agent"] for e in events} == {lines[0]["agentId"]}
    assert all(e["actor"]["sidechain"] is True for e in events)


def test_a_current_codex_rollout_gives_its_calls_with_their_outputs() -> None:
    lines = lines_of(CODEX)
    wanted = [
        (obj["payload"]["name"], obj["payload"]["call_id"])
        for obj in lines
        if obj["payload"].get("type") == "function_call"
    ]
    assert detect(CODEX) == "codex"
    events = list(build([CODEX]).events())
    calls = [(e["tool"]["name"], e["tool"]["call_id"]) for e in events if e["kind"] == "tool_call"]
    assert calls == wanted
    outputs = {obj["payload"]["call_id"]: obj["payload"]["output"] for obj in lines if "output" in obj["payload"]}
    for e in events:
        if e["kind"] == "tool_result":
            assert e["tool"]["result"] == outputs[e["tool"]["call_id"]]
    assert {e["actor"]["session"] for e in events} == {lines[0]["payload"]["id"]}


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_skipped_file_says_what_it_looks_like_and_what_was_missing(tmp_path: Path) -> None:
    queue = write(
        tmp_path / "x.jsonl",
        [{"type": "enqueue", "operation": "run", "timestamp": "2026-02-10T22:57:58.381Z"}] * 3,
    )
    found = detect_file(queue)
    assert found.format is None
    assert found.why.startswith("JSON lines, but no line has a tool call, a span, a CloudTrail record")
    assert found.why.endswith("(first keys: type, operation, timestamp)")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    assert detect_file(tmp_path / "blob.bin").why == "binary data, not a log"
    (tmp_path / "empty.log").write_text("")
    assert detect_file(tmp_path / "empty.log").why == "empty"
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"items": [1, 2], "version": 3}, indent=2))
    assert "one JSON document, but no spans" in detect_file(doc).why and "first keys: items, version" in (
        detect_file(doc).why
    )


def test_a_format_named_for_one_file_is_used_for_that_file_only(tmp_path: Path) -> None:
    odd = write(tmp_path / "odd.jsonl", [{"time": "2026-11-20T03:00:00Z", "tool": "fs.read", "arguments": {}}])
    write(tmp_path / "other.jsonl", [{"ts": "2026-11-20T03:00:01Z", "tool": "http.get", "arguments": {}}])
    timeline = build([tmp_path], file_formats={odd: "docker"})
    list(timeline.events())
    formats = {Path(s["path"]).name: s["format"] for s in timeline.summary()["sources"]}
    assert formats == {"odd.jsonl": "docker", "other.jsonl": "jsonl"}
    detected = {Path(d["path"]).name: d for d in timeline.summary()["detected"]}
    assert detected["odd.jsonl"]["forced"] is True and detected["other.jsonl"]["forced"] is False


# An older Codex rollout, built from the shape the tools that read them document (no real one
# was found published; see tests/fixtures/timeline/README.md): a bare header, then items with
# no time, interleaved state records.
OLDER_ROLLOUT = [
    {
        "id": "0094c5f9-8c02-4bf9-a22d-340f144ee5ee",
        "timestamp": "2025-07-03T18:50:18.595Z",
        "instructions": None,
        "git": {"commit_hash": "abc123", "branch": "main"},
    },
    {"record_type": "state"},
    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "what is this repo"}]},
    {
        "type": "local_shell_call",
        "id": "lsh_1",
        "call_id": "call_1",
        "status": "completed",
        "action": {"type": "exec", "command": ["bash", "-lc", "ls -1"]},
    },
    {"type": "function_call_output", "call_id": "call_1", "output": '{"output":"Dockerfile\\napp\\n"}'},
    {"record_type": "state"},
    {"type": "function_call", "name": "shell", "arguments": '{"command":["cat","Dockerfile"]}', "call_id": "call_2"},
    {"type": "function_call_output", "call_id": "call_2", "output": "FROM python:3.11"},
]


def test_untimed_events_keep_their_order_and_come_after_the_timed_ones(tmp_path: Path) -> None:
    older = write(tmp_path / "rollout-2025-07-03T18-50-18-0094c5f9.jsonl", OLDER_ROLLOUT)
    timed = write(
        tmp_path / "tools.jsonl",
        [
            {"ts": "2026-11-20T03:00:05Z", "tool": "b", "arguments": {}},
            {"ts": "2026-11-20T03:00:01Z", "tool": "a", "arguments": {}},
        ],
    )
    assert detect_file(older).format == "codex"
    timeline = build([older, timed])
    events = list(timeline.events())
    assert [e["action"] for e in events] == ["a", "b", "local_shell", "local_shell", "shell", "shell"]
    untimed = events[2:]
    assert all(e["untimed"] is True and e["ts_raw"] is None for e in untimed)
    assert {e["ts"] for e in untimed} == {events[1]["ts"]}  # at the last timed event's time
    assert [e["seq"] for e in untimed] == sorted(e["seq"] for e in untimed)  # the file's own order
    assert untimed[0]["tool"]["arguments"] == {"type": "exec", "command": ["bash", "-lc", "ls -1"]}
    assert untimed[0]["actor"]["session"] == OLDER_ROLLOUT[0]["id"]
    placed = timeline.summary()["untimed"][f"codex:{older.name}"]
    assert placed == {"events": 4, "placed_at": iso(events[1]["ts"]), "basis": "after the last timed event"}
    assert timesketch_row(untimed[0])["timestamp_desc"] == "untimed, placed after the last timed event (Tool call)"
    assert table_line(untimed[0]).startswith("untimed ") and "no time in the source" in table_line(untimed[0])


def test_untimed_events_go_where_the_user_anchors_them_else_at_the_file_time(tmp_path: Path) -> None:
    older = write(tmp_path / "rollout.jsonl", OLDER_ROLLOUT)
    anchor = parse_time("2026-11-20T02:00:00Z")
    assert anchor is not None
    events = list(build([older], untimed_at=anchor[0]).events())
    assert {e["ts"] for e in events} == {anchor[0]}
    os.utime(older, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    timeline = build([older])
    events = list(timeline.events())
    assert {e["ts"] for e in events} == {1_700_000_000_000_000_000}
    assert "modification time" in timeline.summary()["untimed"]["codex:rollout.jsonl"]["basis"]


def test_a_first_line_longer_than_any_sample_is_still_a_line(tmp_path: Path) -> None:
    # A CloudTrail record or a chat conversation can be one line of hundreds of kilobytes: the
    # file is still JSON lines (not one document lost whole), and a tool log still a tool log.
    record = {
        "eventTime": "2026-11-20T03:00:00Z",
        "eventSource": "ssm.amazonaws.com",
        "eventName": "PutParameter",
        "userIdentity": {"type": "IAMUser", "userName": "bot"},
        "requestParameters": {"name": "big", "description": "x" * 100_000},
    }
    trail = tmp_path / "trail.jsonl"
    trail.write_text(json.dumps(record) + "\n" + json.dumps({**record, "eventName": "GetParameter"}) + "\n")
    talk = [{"role": "assistant", "tool_calls": [{"id": "t1", "function": {"name": "grep", "arguments": "{}"}}]}]
    chat = tmp_path / "chats.jsonl"
    chat.write_text(
        "".join(
            json.dumps({"id": n, "messages": [{"role": "user", "content": "y" * 100_000}, *talk]}) + "\n" for n in "ab"
        )
    )
    tools = tmp_path / "tools.jsonl"
    tools.write_text(
        json.dumps({"ts": "2026-11-20T03:00:01Z", "tool": "fs.write", "arguments": {"body": "z" * 300_000}})
        + "\n"
        + json.dumps({"ts": "2026-11-20T03:00:02Z", "tool": "http.post", "arguments": {}})
        + "\n"
    )
    assert [detect(p) for p in (trail, chat, tools)] == ["cloudtrail", "chat", "jsonl"]
    timeline = build([trail, chat, tools])
    actions = sorted(e["action"] for e in timeline.events())
    assert actions == ["fs.write", "grep", "grep", "http.post", "ssm:GetParameter", "ssm:PutParameter"]
    assert [s["bad"] for s in timeline.summary()["sources"]] == [0, 0, 0]
