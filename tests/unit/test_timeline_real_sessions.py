"""Session files written by the real tools in shapes the other fixtures do not cover.

What a person sees in each file (tool names, ids, which lines are a subagent's) is read from the
file itself; provenance and the lines kept are in tests/fixtures/timeline/README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ir.timeline.pipeline import build
from ir.timeline.sources import detect_file
from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "timeline"
RESUMED = FIXTURES / "claude" / "fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"
QUEUED = FIXTURES / "claude" / "06090cb1-3e64-433a-bc7e-a621c0f596d2.jsonl"


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def blocks_of(obj: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    content = (obj.get("message") or {}).get("content")
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind] if isinstance(content, list) else []


def test_a_claude_session_opening_with_a_summary_line_is_read_whole() -> None:
    lines = lines_of(RESUMED)
    assert lines[0]["type"] == "summary" and "leafUuid" in lines[0]  # a resumed session's first line
    found = detect_file(RESUMED)
    assert found.format == "claude" and "Claude Code session lines" in found.why
    timeline = build([RESUMED])
    events = list(timeline.events())
    wanted = [(b["name"], b["id"]) for obj in lines for b in blocks_of(obj, "tool_use")]
    calls = [(e["tool"]["name"], e["tool"]["call_id"]) for e in events if e["kind"] == "tool_call"]
    assert calls == wanted
    names = dict((call_id, name) for name, call_id in wanted)
    answered = [b["tool_use_id"] for obj in lines for b in blocks_of(obj, "tool_result")]
    results = [e for e in events if e["kind"] == "tool_result"]
    assert [e["tool"]["call_id"] for e in results] == answered
    assert all(e["tool"]["name"] == names[e["tool"]["call_id"]] for e in results)  # a Task's result says Task
    assert timeline.summary()["sources"][0]["bad"] == 0  # the summary line is bookkeeping, not a bad record


def test_a_subagents_lines_inside_the_main_file_are_marked_as_its_side_chain() -> None:
    # Claude Code 1.0.x wrote a Task subagent's lines into the parent's file, marked isSidechain.
    lines = lines_of(RESUMED)
    side = {b["id"] for obj in lines if obj.get("isSidechain") for b in blocks_of(obj, "tool_use")}
    assert side  # the file does hold a subagent's calls
    calls = [e for e in build([RESUMED]).events() if e["kind"] == "tool_call"]
    assert {e["tool"]["call_id"] for e in calls if e["actor"].get("sidechain")} == side
    assert {e["actor"]["session"] for e in calls} == {lines[1]["sessionId"]}


def test_a_claude_sdk_session_opening_with_queue_operations_is_claude_and_all_its_lines_are_known() -> None:
    lines = lines_of(QUEUED)
    assert [o["type"] for o in lines[:2]] == ["queue-operation", "queue-operation"]  # the prompt queued first
    found = detect_file(QUEUED)
    assert found.format == "claude"
    assert f"{len(lines)} of {len(lines)} sampled lines are Claude Code session lines" in found.why  # last-prompt too
    timeline = build([QUEUED])
    events = list(timeline.events())
    assert len(events) == sum(len(blocks_of(o, "tool_use")) + len(blocks_of(o, "tool_result")) for o in lines)
    source = timeline.summary()["sources"][0]
    assert (source["records"], source["bad"]) == (len(lines), 0)
