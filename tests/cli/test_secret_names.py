"""A secret-named field in a container's log never reaches the case's timeline or `ir timeline`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_timeline_cli import demo_workspace
from tests.conftest import ir_cmd

LEAKS = ("LEAKME-pc-123456", "LEAKME-cred-123456", "LEAKME-sk-123456")


def test_a_demo_run_masks_every_secret_named_argument_in_the_timeline(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path)
    docker_log = ws / "demo" / "logs" / "support-bot.docker.log"
    arguments = (
        '{"user":"bob","password_confirmation":"LEAKME-pc-123456","credential":"LEAKME-cred-123456",'
        '"sessionKey":"LEAKME-sk-123456","max_tokens":512}'
    )
    line = (
        '2026-11-20T03:12:05.500000Z {"ts":"2026-11-20T03:12:05.500Z","agent":"support-bot","session":"s-4821",'
        f'"tool":"account.update","call_id":"c9","arguments":{arguments},"success":true}}'
    )
    docker_log.write_text(docker_log.read_text() + line + "\n")

    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    shown = {
        "timeline.jsonl": (case / "timeline.jsonl").read_text(),
        "journal.jsonl": (case / "journal.jsonl").read_text(),
        "ir run": run.stdout + run.stderr,
    }
    for fmt in ("table", "timesketch-csv"):
        out = ir_cmd("timeline", "--case", case.name, "--format", fmt, cwd=ws)
        assert out.returncode == 0 and "account.update" in out.stdout, out.stderr
        shown[f"ir timeline --format {fmt}"] = out.stdout + out.stderr
    for where, text in shown.items():
        for leak in LEAKS:
            assert leak not in text, f"{leak} leaked into {where}"
    (event,) = [json.loads(e) for e in shown["timeline.jsonl"].splitlines() if "account.update" in e]
    assert event["tool"]["arguments"] == {
        "user": "bob",
        "password_confirmation": "[redacted: secret-named field]",
        "credential": "[redacted: secret-named field]",
        "sessionKey": "[redacted: secret-named field]",
        "max_tokens": 512,
    }


def test_step_ids_named_like_secrets_keep_their_status_in_the_journal(tmp_path: Path) -> None:
    # agent-compromise has steps called `credentials` and `secrets`: ids a playbook author chose,
    # not field names. Their statuses in `run.finished` are what `ir verify` readers and reports see.
    ws = demo_workspace(tmp_path)
    run = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", "--json", cwd=ws)
    assert run.returncode == 0, run.stdout + run.stderr
    case = Path(json.loads(run.stdout.splitlines()[-1])["case"])
    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    (finished,) = [r["data"] for r in records if r["type"] == "run.finished"]
    assert finished["steps"]["credentials"] == "succeeded"
    assert finished["steps"]["secrets"] == "succeeded"
