"""Agent traces with no times at all: tau-bench results (OpenAI-style messages), SWE-agent
trajectories, Anthropic-style content blocks. Untimed events, in the trace's own order."""

from __future__ import annotations

import json
from pathlib import Path

from ir.timeline.pipeline import build
from ir.timeline.sources import chat, detect, trajectory
from ir.timeline.sources.base import SourceStats
from ir.timeline.sources.sample import sample

FIXTURES = Path(__file__).parents[1] / "fixtures" / "timeline" / "traces"


def test_tau_bench_result_file() -> None:
    path = FIXTURES / "tau-bench-gpt-4o-airline-task48.json"
    assert detect(path) == "chat"
    stats = SourceStats(str(path), "chat")
    events = list(chat.parse(path, stats))
    assert [(e["kind"], e["action"]) for e in events] == [
        ("tool_call", "get_reservation_details"),
        ("tool_result", "get_reservation_details"),
        ("tool_call", "transfer_to_human_agents"),
        ("tool_result", "transfer_to_human_agents"),
    ]
    assert events[0]["tool"]["arguments"] == {"reservation_id": "EUJUY6"}
    assert events[0]["tool"]["call_id"] == events[1]["tool"]["call_id"] == "call_Mxn2CmKacuvxn7cEyJA5chIF"
    assert events[3]["tool"]["result"] == "Transfer successful"
    assert all(e["untimed"] and e["ts"] == 0 and e["ts_raw"] is None for e in events)
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert events[0]["actor"] == {"session": "task 48 trial 1"}
    assert stats.records == 10 and stats.bad == 0


def test_swe_agent_trajectory() -> None:
    path = FIXTURES / "swe-agent-6e44b9__sweagenttestrepo-1c2844.traj"
    assert detect(path) == "trajectory"
    assert trajectory.score(sample(path)).points >= 90
    events = list(build([path]).events())
    calls = [e for e in events if e["kind"] == "tool_call"]
    assert [c["action"] for c in calls] == ["find_file", "open", "edit", "python3", "submit"]
    assert calls[3]["tool"]["arguments"] == {"command": "python3 /SWE-agent__test-repo/tests/missing_colon.py"}
    results = [e for e in events if e["kind"] == "tool_result"]
    assert results[3]["tool"]["result"].strip() == "8.2"
    assert "diff --git a/tests/missing_colon.py" in results[4]["tool"]["result"]
    assert all(e.get("untimed") for e in events)


def test_anthropic_content_blocks_and_bad_messages(tmp_path: Path) -> None:
    # constructed in the Messages API shape (no public export with tool use and a licence was found)
    doc = {
        "messages": [
            {"role": "user", "content": "list the bucket"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Listing."},
                    {"type": "tool_use", "id": "toolu_01", "name": "s3_list", "input": {"bucket": "b"}},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.txt"}]},
            "not a message",
            {"role": "assistant", "tool_calls": {"not": "a list"}},
        ]
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc, indent=1))
    assert detect(path) == "chat"
    stats = SourceStats(str(path), "chat")
    events = list(chat.parse(path, stats))
    assert [(e["kind"], e["action"], e["tool"]["call_id"]) for e in events] == [
        ("tool_call", "s3_list", "toolu_01"),
        ("tool_result", "s3_list", "toolu_01"),
    ]
    assert events[1]["tool"]["result"] == "a.txt"
    assert stats.bad_refs == [
        f"{path}#messages[3]: not a chat message (no role)",
        f"{path}#messages[4]: tool_calls is not a list",
    ]
