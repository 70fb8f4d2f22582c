"""SIGKILL `ir run` at each dangerous point, then `ir resume`: the run finishes, nothing twice.

The kill comes from the IR_FAILPOINT hook: the process SIGKILLs itself right after a chosen
journal record is fsynced, which is exactly "between steps", "after the intent record",
"after the backend call but before its result", or "half way through a capture". Two points
tear what is being written: half of a journal record (`KIND:STEP:N:torn`) and part of an
evidence file (`evidence.part:STEP:N`).
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import container_steps, ir_cmd


def journal(case: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def only_case(ws: Path) -> Path:
    (case,) = list((ws / "cases").iterdir())
    return case


POINTS = {
    "between steps (freeze recorded, snapshot not started)": "step.result:freeze",
    "after the freeze intent, before the pause call": "step.intent:freeze",
    "after the pause call, before its result": "step.output:freeze",
    "after two of seven evidence files": "evidence.added:snapshot:2",
    "after the isolate intent": "step.intent:isolate",
    "after one of two network disconnects": "step.output:isolate:1",
    "after both disconnects, before the result": "step.output:isolate:2",
    "half of the freeze result written (a torn journal line)": "step.result:freeze:1:torn",
    "half way through the third evidence file": "evidence.part:snapshot:3",
}
TORN = {
    # failpoint: (what `ir verify` says before the resume, the record the resume writes about it)
    "step.result:freeze:1:torn": ("torn last line", "journal.torn_tail"),
    "evidence.part:snapshot:3": ("partial evidence file", "evidence.parts_removed"),
}


@pytest.mark.parametrize("failpoint", list(POINTS.values()), ids=list(POINTS))
def test_kill_then_resume_finishes_with_nothing_applied_twice(workspace: Path, failpoint: str, signers: Any) -> None:
    signers(workspace, "tester")  # signatures on: the resumed run ends with a signed head
    killed = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=workspace, env={"IR_FAILPOINT": failpoint})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    case = only_case(workspace)
    before = ir_cmd("verify", str(case))
    assert before.returncode == 0, before.stderr
    if failpoint in TORN:
        assert TORN[failpoint][0] in before.stderr

    resumed = ir_cmd("resume", case.name, "--json", cwd=workspace)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    summary = json.loads(resumed.stdout.splitlines()[-1])
    assert summary["steps"] == container_steps()

    records = journal(case)
    results = Counter((r["data"]["step"], r["data"]["status"]) for r in records if r["type"] == "step.result")
    assert all(count == 1 for count in results.values()), results
    evidence = Counter(r["data"]["name"] for r in records if r["type"] == "evidence.added")
    assert set(evidence.values()) == {1}, evidence
    assert len(evidence) == 9  # seven container artifacts, the timeline and its summary
    # A repeated pause or disconnect would have failed in the world ("container is paused",
    # "not connected"); the world's final state is the contained one.
    world = json.loads((workspace / ".ir" / "world.json").read_text())["containers"]["support-bot"]
    assert world["status"] == "paused" and world["networks"] == []
    disconnects = [r for r in records if r["type"] == "step.output" and "disconnected" in str(r["data"]["line"])]
    assert sorted(str(r["data"]["line"]).rsplit(" ", 1)[1] for r in disconnects) == ["agents-net", "egress-proxy"]
    verified = ir_cmd("verify", "--strict", str(case))
    assert verified.returncode == 0, verified.stderr
    assert "warning" not in verified.stderr  # no torn line, no part, no stray blob, no unsigned tail
    assert records[-1]["type"] == "checkpoint" and records[-1]["data"]["principal"] == "tester"
    assert f"signed head: seq {records[-2]['seq']}" in verified.stdout, verified.stdout
    assert not list((case / "evidence" / ".tmp").iterdir())
    if failpoint in TORN:
        (notice,) = [r["data"] for r in records if r["type"] == TORN[failpoint][1]]
        if failpoint.endswith(":torn"):  # the half record is kept aside, byte for byte
            assert (case / notice["saved_as"]).read_bytes().startswith(b'{"data":{"outputs"')
        else:
            (part,) = notice["files"]
            assert part["name"].startswith("part-") and part["size"] > 0


def test_resume_after_the_verify_says_done_records_a_recovery(workspace: Path) -> None:
    ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=workspace, env={"IR_FAILPOINT": "step.output:freeze"}
    )
    case = only_case(workspace)
    ir_cmd("resume", case.name, cwd=workspace, check=True)
    records = journal(case)
    verified = [r["data"] for r in records if r["type"] == "step.verified"]
    assert [(v["step"], v["done"]) for v in verified] == [("freeze", True)]
    freeze = [r["data"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "freeze"]
    assert freeze[0].get("recovered") is True


def test_a_torn_line_from_the_crash_is_set_aside_and_the_case_continues(workspace: Path) -> None:
    ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=workspace, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    case = only_case(workspace)
    with (case / "journal.jsonl").open("ab") as fh:
        fh.write(b'{"seq": 99, "type": "step.res')
    warned = ir_cmd("verify", str(case))
    assert warned.returncode == 0 and "torn last line (29 bytes) ignored" in warned.stderr
    ir_cmd("resume", case.name, cwd=workspace, check=True)
    assert ir_cmd("verify", str(case)).returncode == 0
    assert any(r["type"] == "journal.torn_tail" for r in journal(case))


def test_a_second_responder_cannot_write_to_a_running_case(workspace: Path) -> None:
    import fcntl
    import os

    waiting = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--param", "stop_container=true", cwd=workspace
    )
    assert waiting.returncode == 4
    case = only_case(workspace)
    fd = os.open(case / ".lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running `ir` process holds it
    try:
        refused = ir_cmd("resume", case.name, "--yes", cwd=workspace)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert refused.returncode == 2
    assert "case is open in pid" in refused.stderr
    assert ir_cmd("verify", str(case)).returncode == 0
    assert ir_cmd("resume", case.name, "--yes", cwd=workspace).returncode == 0


def test_ir_cases_shows_a_killed_run_as_interrupted(workspace: Path) -> None:
    ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", cwd=workspace, env={"IR_FAILPOINT": "step.intent:isolate"}
    )
    listing = ir_cmd("cases", cwd=workspace, check=True).stdout
    assert only_case(workspace).name in listing and listing.rstrip().endswith("interrupted")
    ir_cmd("resume", only_case(workspace).name, cwd=workspace, check=True)
    assert ir_cmd("cases", cwd=workspace, check=True).stdout.rstrip().endswith("succeeded")
