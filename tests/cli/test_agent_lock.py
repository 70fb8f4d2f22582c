"""One active containment per agent: real `ir` processes on one simulated world.

A run is held inside a step with the test-only `IR_FAILPOINT=…:pause` (it waits for a file),
so "two runs at once" is a fixed order of events, not a race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ir.core.agent_lock import AgentLock, holder
from ir.core.errors import AgentBusy
from ir.core.journal import read
from tests.conftest import ir_cmd, make_workspace
from tests.unit.test_honest_status import AGENT, CLOUD

SECRET = "agent/support-bot/openai"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The agent with a cloud identity and a secret, on the simulated world."""
    return make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD)


def records(case: Path, kind: str) -> list[dict[str, Any]]:
    return [dict(r.data) for r in read(case / "journal.jsonl").records if r.type == kind]


def secret_versions(ws: Path) -> int:
    world = json.loads((ws / ".ir" / "world.json").read_text())
    return len(world["secrets"][SECRET]["versions"])


@contextmanager
def paused_ir(ws: Path, args: list[str], failpoint: str, user: str) -> Iterator[subprocess.Popen[str]]:
    """`ir ARGS` as USER, held with every lock it took right after the record `failpoint` (IR_FAILPOINT
    `KIND:STEP`) until the block ends."""
    release = ws.parent / "release"
    env = {**os.environ, "IR_USER": user, "IR_FAILPOINT": f"{failpoint}:1:pause", "IR_FAILPOINT_FILE": str(release)}
    env.pop("IR_WORKSPACE", None)
    exe = Path(sys.executable).parent / "ir"
    proc = subprocess.Popen(
        [str(exe), *args], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not Path(f"{release}.paused").exists():  # waiting for a state, not for time
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, f"ir {args[0]} never reached its failpoint {failpoint}"
            time.sleep(0.02)
        yield proc
    finally:
        release.touch()
        proc.communicate(timeout=120)


@contextmanager
def paused_run(ws: Path, where: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """`ir run agent-compromise --yes` held right after the record `where` until the block ends."""
    with paused_ir(ws, ["run", "agent-compromise", "--agent", "support-bot", "--yes"], where, "alice") as proc:
        (case,) = (ws / "cases").iterdir()
        yield proc, case


def test_a_second_run_on_a_busy_agent_is_refused_and_an_attach_is_handed_over(ws: Path) -> None:
    with paused_run(ws, "step.started:secrets") as (first, case):
        second = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
        assert second.returncode == 4
        assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
        assert second.stderr.startswith("ir: error: agent support-bot is busy: case " + case.name)
        assert f"by alice (pid {first.pid}" in second.stderr
        resumed = ir_cmd("resume", case.name, "--yes", cwd=ws)
        assert resumed.returncode == 4 and "is busy" in resumed.stderr

        attached = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--attach", "--as", "carol", cwd=ws)
        assert attached.returncode == 0, attached.stderr
        assert f"attached to case {case.name}, which a live run holds" in attached.stdout
        assert len(list((case / "attached").glob("*.json"))) == 1
    assert first.returncode == 0
    assert [p.name for p in (ws / "cases").iterdir()] == [case.name]
    assert secret_versions(ws) == 2  # the first value and exactly one rotation
    (note,) = records(case, "note")
    assert note["attached"]["actor"] == "carol" and note["attached"]["playbook"] == "agent-compromise"
    assert "requested by carol" in note["text"]
    assert list((case / "attached").glob("*.json")) == []
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 0


def test_an_attach_spooled_as_the_run_ends_is_journalled_once_the_run_frees_the_case(ws: Path) -> None:
    with paused_run(ws, "run.finished:*") as (first, case):  # past the run's last look at the spool
        attached = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--attach", "--as", "carol", cwd=ws)
        assert f"attached to case {case.name}, which a live run holds" in attached.stdout
        assert len(list((case / "attached").glob("*.json"))) == 1
    assert first.returncode == 0
    (note,) = records(case, "note")
    assert note["attached"]["actor"] == "carol"
    assert list((case / "attached").glob("*.json")) == []
    verified = ir_cmd("verify", case.name, cwd=ws)
    assert verified.returncode == 0 and "attached" not in verified.stderr, verified.stderr


def test_attach_to_a_case_waiting_for_approval_adds_a_note(ws: Path) -> None:
    waiting = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert waiting.returncode == 4  # the console step waits for an approval
    (case,) = (ws / "cases").iterdir()
    again = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=ws)
    assert again.returncode == 4
    assert f"already has an open agent-compromise case {case.name}" in again.stderr
    assert f"ir resume {case.name}" in again.stderr and "--attach" in again.stderr

    attached = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--attach", "--param", "stop_container=true", cwd=ws
    )
    assert attached.returncode == 0, attached.stderr
    assert attached.stdout.startswith(f"attached to open case {case.name}: note recorded")
    (note,) = records(case, "note")
    assert note["attached"] == {
        "playbook": "agent-compromise",
        "params": {"stop_container": "true"},
        "actor": "tester",
        "request": note["attached"]["request"],
    }
    assert [p.name for p in (ws / "cases").iterdir()] == [case.name]
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 0
    assert ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--dry-run", cwd=ws).returncode == 0


def test_a_killed_holder_leaves_a_stale_lock_that_resume_takes_over(ws: Path) -> None:
    killed = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws, env={"IR_FAILPOINT": "step.intent:keys"}
    )
    assert killed.returncode == -9
    (case,) = (ws / "cases").iterdir()
    lock = ws / ".ir" / "locks" / "support-bot.lock"
    assert json.loads(lock.read_text())["case"] == case.name  # the file stays; nobody holds it
    assert holder(ws, "support-bot") is None

    refused = ir_cmd("run", "agent-compromise", "--agent", "support-bot", "--yes", cwd=ws)
    assert refused.returncode == 4 and f"open agent-compromise case {case.name}" in refused.stderr

    resumed = ir_cmd("resume", case.name, "--yes", cwd=ws)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    (started,) = records(case, "run.started")
    (resume,) = records(case, "run.resumed")
    assert resume["stale_agent_lock"]["case"] == case.name and resume["stale_agent_lock"]["actor"] == "tester"
    assert resume["stale_agent_lock"]["pid"] == str(started["pid"])  # the killed run's, recorded once
    assert lock.read_text() == ""  # a holder that ends normally leaves nothing to mistake for it
    assert ir_cmd("verify", case.name, cwd=ws).returncode == 0


def test_the_lock_is_held_only_while_its_holder_has_it(tmp_path: Path) -> None:
    with AgentLock(tmp_path, "bot").acquire(case="c1", actor="alice"):
        assert (holder(tmp_path, "bot") or {}).get("case") == "c1"
        with pytest.raises(AgentBusy, match=r"^agent bot is busy: case c1 is being run by alice \(pid \d+"):
            AgentLock(tmp_path, "bot").acquire(case="c2", actor="bob")
    assert holder(tmp_path, "bot") is None
    (tmp_path / ".ir" / "locks" / "bot.lock").write_text('{"case": "forged", "pid": "1"}')  # never trusted alone
    assert holder(tmp_path, "bot") is None
    with AgentLock(tmp_path, "bot").acquire(case="c3", actor="bob") as lock:
        assert lock.stale == {"case": "forged", "pid": "1"}
        assert (holder(tmp_path, "bot") or {}).get("case") == "c3"
