"""hosts.ansible for real: ansible-runner running the shipped playbooks against localhost."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, ir_cmd, make_workspace, missing

CANARY = "canary-ansible-env-0a9b8c7d6e"


@pytest.fixture
def host_ws(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A workspace whose agent runs as a plain process on localhost, driven through Ansible."""
    if not (Path(sys.executable).parent / "ansible-playbook").exists():
        missing("Ansible", "ansible-playbook not installed in this environment (pip install ansible-core)")
    box = tmp_path / "host"
    (box / "logs").mkdir(parents=True)
    (box / "logs" / "agent.log").write_text("2026-11-20T03:12:06Z http.post https://paste.example.net/upload 201\n")
    agent = subprocess.Popen(["sleep", "300"])
    (box / "agent.pid").write_text(f"{agent.pid}\n")
    inventory = {
        "all": {
            "hosts": {
                "agent-host-1": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": sys.executable,
                    "agent_service_manager": "pidfile",
                    "agent_pidfile": str(box / "agent.pid"),
                    "agent_disabled_marker": str(box / "agent.disabled"),
                    "kill_switch_path": str(box / "run" / "kill-switch"),
                    "agent_log_paths": [str(box / "logs" / "agent.log")],
                },
                "ghost-host": {
                    "ansible_host": "127.0.0.1",
                    "ansible_port": 1,
                    "ansible_connection": "ssh",
                    "ansible_ssh_common_args": "-o ConnectTimeout=3 -o BatchMode=yes",
                },
            }
        }
    }
    agents = (
        "agents:\n  worker:\n    owner: ml-platform@example.com\n    purpose: batch summariser\n"
        "    backend: docker\n    hosts: [agent-host-1]\n"
    )
    ws = make_workspace(tmp_path / "ws", agents=agents, settings="ansible: {inventory: ansible/inventory.json}\n")
    (ws / "ansible").mkdir()
    (ws / "ansible" / "inventory.json").write_text(json.dumps(inventory))
    try:
        yield {"ws": ws, "box": box, "agent": agent}
    finally:
        agent.kill()
        agent.wait()


def test_kill_switch_logs_and_service_on_a_real_host(host_ws: dict[str, Any]) -> None:
    ws, box, agent = host_ws["ws"], host_ws["box"], host_ws["agent"]
    result = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "worker",
        "--yes",
        "--json",
        cwd=ws,
        env={"IR_TEST_API_TOKEN": CANARY},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[-1])
    assert [summary["steps"][s] for s in ("kill-switch", "host-logs", "stop-service")] == ["succeeded"] * 3
    case = Path(summary["case"])
    assert (box / "run" / "kill-switch").read_text() == f"disabled by agent-ir case {case.name} for agent worker\n"
    assert agent.wait(timeout=10) is not None  # the agent process was stopped
    assert (box / "agent.disabled").is_file()

    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    lines = [r["data"]["line"] for r in records if r["type"] == "step.output" and r["data"]["step"] == "kill-switch"]
    assert "agent-host-1: Write the kill-switch file: changed" in lines
    evidence = {r["data"]["name"]: r["data"] for r in records if r["type"] == "evidence.added"}
    name = f"host/agent-host-1{box}/logs/agent.log"
    assert name in evidence
    assert (case / evidence[name]["path"]).read_text().startswith("2026-11-20T03:12:06Z http.post")
    assert ir_cmd("verify", str(case)).returncode == 0

    runner_dirs = list((case / "ansible").iterdir())
    assert runner_dirs and not any((d / "env").exists() for d in runner_dirs)
    for path in (case / "ansible").rglob("*"):
        if path.is_file():
            assert CANARY not in path.read_text(errors="replace"), path

    again = ir_cmd("run", "agent-compromise", "--agent", "worker", "--yes", "--json", cwd=ws, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    outputs = [json.loads(line) for line in again.stdout.splitlines()]
    kill = next(o for o in outputs if o.get("event") == "step.result" and o["step"] == "kill-switch")
    assert kill["data"]["outputs"]["changed"] == {"agent-host-1": 1}  # a new case id is a new file content


def test_dry_run_is_ansible_check_mode(host_ws: dict[str, Any]) -> None:
    ws, box = host_ws["ws"], host_ws["box"]
    result = ir_cmd("run", "agent-compromise", "--agent", "worker", "--dry-run", cwd=ws, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "host agent-host-1 set-kill-switch.yml: as is → 2 task(s) change" in result.stdout
    assert not (box / "run").exists()
    assert host_ws["agent"].poll() is None


def test_an_unreachable_host_is_named_and_the_others_are_done(host_ws: dict[str, Any]) -> None:
    ws, box = host_ws["ws"], host_ws["box"]
    agents = (ws / "agents.yaml").read_text().replace("hosts: [agent-host-1]", "hosts: [agent-host-1, ghost-host]")
    (ws / "agents.yaml").write_text(agents)
    result = ir_cmd("run", "agent-compromise", "--agent", "worker", "--json", cwd=ws, timeout=300)
    assert result.returncode == 4  # stop-service waits for approval; the reversible host steps ran
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["steps"]["kill-switch"] == "failed"
    assert (box / "run" / "kill-switch").is_file()
    events = [json.loads(line) for line in result.stdout.splitlines()]
    error = next(e["data"]["error"] for e in events if e.get("event") == "step.result" and e["step"] == "kill-switch")
    assert "set-kill-switch.yml failed on 1 host(s): host ghost-host:" in error


@pytest.mark.parametrize("path", sorted((REPO / "playbooks" / "ansible").glob("*.yml")), ids=lambda p: p.name)
def test_every_shipped_ansible_playbook_passes_syntax_check(path: Path) -> None:
    exe = Path(sys.executable).parent / "ansible-playbook"
    if not exe.exists():
        missing("Ansible", "ansible-playbook not installed in this environment")
    result = subprocess.run(
        [str(exe), "--syntax-check", "-i", "localhost,", str(path)],
        capture_output=True,
        text=True,
        env={"PATH": f"{exe.parent}:/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
