"""`ir run` on a real container carrying 200 MB: on a terminal, the bytes captured show while the
filesystem and the image stream in, and are gone once each is captured; with `--json` on the same
terminal, and in pipes, nothing but the usual output is written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import terminal
from tests.conftest import ir_cmd, make_workspace
from tests.terminal import Screen

pytestmark = pytest.mark.docker

CAPTURED = re.compile(r"^     captured [a-z.]+: sha256 [0-9a-f]{64} \(\d+ bytes\)$")


@pytest.fixture
def big_agent_ws(tmp_path: Path, docker_api: Any, agent_container: dict[str, Any]) -> Path:
    """A workspace whose agent's container holds 200 MB more than its image."""
    fill = ["dd", "if=/dev/zero", "of=/data.bin", "bs=1M", "count=200"]
    exec_id = docker_api.exec_create(agent_container["id"], fill)
    docker_api.exec_start(exec_id)
    assert docker_api.exec_inspect(exec_id)["ExitCode"] == 0
    agents = (
        "agents:\n  support-bot:\n    owner: secops@example.com\n    purpose: support triage\n"
        f"    backend: docker\n    container: {{name: {agent_container['name']}}}\n"
    )
    return make_workspace(tmp_path / "ws", agents=agents)


def ir_in_terminal(*args: str, cwd: Path, dockerd: str) -> tuple[int, str]:
    """`ir` on a pseudo-terminal, talking to the private dockerd."""
    return terminal.ir_in_terminal(*args, cwd=cwd, env={"DOCKER_HOST": dockerd})


def test_bytes_captured_show_on_a_terminal_and_are_gone_after(big_agent_ws: Path, dockerd: str) -> None:
    run = ("run", "agent-compromise", "--agent", "support-bot")
    code, written = ir_in_terminal(*run, cwd=big_agent_ws, dockerd=dockerd)
    assert code == 0, written
    shown = re.findall(r"capturing (filesystem\.tar|image\.tar)  ([\d.]+) MB  [\d.]+ MB/s", written)
    assert shown, written  # the two big streams; each shows once it has lasted 0.3 s
    assert all(float(mb) <= 212 for _, mb in shown)  # counted as it streams, never more than there is
    screen = Screen().feed(written).text
    usual = re.sub(r"\x1b\[Jcapturing [^\r\n]*\r", "", written).replace("\x1b[J", "").replace("\r\n", "\n")
    assert screen == usual.rstrip("\n")  # once done, the screen holds exactly the usual output
    captured = [line for line in screen.splitlines() if "captured " in line]
    assert len(captured) == 7 and all(CAPTURED.match(line) for line in captured), captured
    assert "\nrun succeeded  case " in screen


def test_json_on_a_terminal_writes_only_json(big_agent_ws: Path, dockerd: str) -> None:
    code, written = ir_in_terminal(
        "run", "agent-compromise", "--agent", "support-bot", "--json", cwd=big_agent_ws, dockerd=dockerd
    )
    assert code == 0, written
    assert "\x1b" not in written and "capturing" not in written
    lines = written.replace("\r\n", "\n").splitlines()
    events = [json.loads(line) for line in lines]
    added = {e["data"]["name"] for e in events if e.get("event") == "evidence.added"}
    assert {"filesystem.tar", "image.tar"} <= added, lines
    assert events[-1]["status"] == "succeeded"


def test_nothing_extra_in_pipes(big_agent_ws: Path, dockerd: str) -> None:
    env = {"DOCKER_HOST": dockerd, "TERM": "xterm"}
    result = ir_cmd("run", "agent-compromise", "--agent", "support-bot", cwd=big_agent_ws, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout and "\r" not in result.stdout and "capturing" not in result.stdout
    captured = [line for line in result.stdout.splitlines() if "captured " in line]
    assert len(captured) == 7 and all(CAPTURED.match(line) for line in captured)
