"""`agent-compromise` against a real Docker Engine (a private dockerd) through the `ir` command."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import container_steps, ir_cmd, make_workspace

pytestmark = pytest.mark.docker


@pytest.fixture
def docker_ws(tmp_path: Path, agent_container: dict[str, Any]) -> Path:
    agents = (
        "agents:\n  support-bot:\n    owner: secops@example.com\n    purpose: support triage\n"
        f"    backend: docker\n    container: {{name: {agent_container['name']}}}\n"
    )
    return make_workspace(tmp_path / "ws", agents=agents)


def summary_of(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def blob(case: Path, name: str) -> bytes:
    for line in (case / "journal.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec["type"] == "evidence.added" and rec["data"]["name"] == name:
            return (case / rec["data"]["path"]).read_bytes()
    raise AssertionError(f"no evidence {name}")


def test_contain_a_real_container(
    docker_ws: Path, dockerd: str, docker_api: Any, agent_container: dict[str, Any]
) -> None:
    result = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--json", cwd=docker_ws, env={"DOCKER_HOST": dockerd}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = summary_of(result.stdout)
    assert summary["steps"] == container_steps()
    state = docker_api.inspect_container(agent_container["id"])
    assert state["State"]["Paused"] is True and state["State"]["Running"] is True
    assert set(state["NetworkSettings"]["Networks"]) <= {"none"}

    case = Path(summary["case"])
    assert ir_cmd("verify", str(case)).returncode == 0
    logs = blob(case, "logs.txt").decode()
    assert '"tool":"http.get"' in logs
    assert logs.splitlines()[0][:4].isdigit() and "Z {" in logs.splitlines()[0]
    with tarfile.open(fileobj=io.BytesIO(blob(case, "filesystem.tar"))) as tar:
        assert "bin/busybox" in tar.getnames()
    with tarfile.open(fileobj=io.BytesIO(blob(case, "image.tar"))) as tar:
        assert "manifest.json" in tar.getnames()
    inspect = json.loads(blob(case, "inspect.json"))
    assert "AGENT_TOKEN=[REDACTED]" in inspect["Config"]["Env"]
    records = [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]
    unavailable = [r["data"] for r in records if r["type"] == "evidence.unavailable"]
    assert [u["name"] for u in unavailable] == ["checkpoint.tar"]
    assert "experimental" in unavailable[0]["reason"]
    isolate = next(r["data"] for r in records if r["type"] == "step.result" and r["data"]["step"] == "isolate")
    assert sorted(n["name"] for n in isolate["outputs"]["networks"]) == agent_container["networks"]
    written = (case / "journal.jsonl").read_text() + result.stdout + result.stderr
    assert "canary-env-9f8e7d6c5b4a" not in written


def test_dry_run_on_docker_changes_nothing(
    docker_ws: Path, dockerd: str, docker_api: Any, agent_container: dict[str, Any]
) -> None:
    images_before = sorted(image["Id"] for image in docker_api.images())
    result = ir_cmd(
        "run", "agent-compromise", "--agent", "support-bot", "--dry-run", cwd=docker_ws, env={"DOCKER_HOST": dockerd}
    )
    assert result.returncode == 0, result.stderr
    assert "status: running → paused" in result.stdout
    assert f"network {agent_container['networks'][0]}: connected → disconnected" in result.stdout
    assert "experimental" in result.stdout
    state = docker_api.inspect_container(agent_container["id"])
    assert state["State"]["Paused"] is False
    assert set(agent_container["networks"]) <= set(state["NetworkSettings"]["Networks"])
    assert sorted(image["Id"] for image in docker_api.images()) == images_before  # the daemon's order varies
    assert list((docker_ws / "cases").iterdir()) == []


def test_stop_after_approval_and_restore_networks(
    docker_ws: Path, dockerd: str, docker_api: Any, agent_container: dict[str, Any], signers: Any
) -> None:
    signers(docker_ws, "alice")
    release = docker_ws / "playbooks" / "release-network.yaml"
    release.write_text(
        'schema: ir/playbook/v1\nid: isolate-and-restore\nversion: "0.1.0"\ntitle: Cut then restore\nsteps:\n'
        "  - {id: isolate, title: Cut, action: container.isolate_network, guidance: cut}\n"
        "  - id: restore\n    title: Restore\n    action: container.restore_network\n"
        "    with: {networks: '${{ steps.isolate.outputs.networks }}'}\n    guidance: restore\n"
    )
    env = {"DOCKER_HOST": dockerd}
    result = ir_cmd("run", "isolate-and-restore", "--agent", "support-bot", "--json", cwd=docker_ws, env=env)
    assert result.returncode == 4, result.stdout + result.stderr  # restoring needs an approved reenable decision
    case = Path(json.loads(result.stdout.splitlines()[-1])["case"]).name
    assert set(docker_api.inspect_container(agent_container["id"])["NetworkSettings"]["Networks"]) <= {"none"}
    decided = ir_cmd(
        "decide",
        case,
        "--decision",
        "reenable",
        "--by",
        "alice",
        "--reason",
        "test",
        "--root-cause",
        "drill",
        cwd=docker_ws,
    )
    assert decided.returncode == 0, decided.stderr
    result = ir_cmd("resume", case, cwd=docker_ws, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    networks = docker_api.inspect_container(agent_container["id"])["NetworkSettings"]["Networks"]
    assert set(agent_container["networks"]) <= set(networks)
    assert "agent-b" in (networks[agent_container["networks"][1]]["Aliases"] or [])

    result = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "support-bot",
        "--param",
        "stop_container=true",
        "--param",
        "stop_timeout=1",
        "--yes",
        cwd=docker_ws,
        env={"DOCKER_HOST": dockerd},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert docker_api.inspect_container(agent_container["id"])["State"]["Status"] == "exited"


def test_kill_after_pause_then_resume_does_not_pause_twice(
    docker_ws: Path, dockerd: str, docker_api: Any, agent_container: dict[str, Any]
) -> None:
    env = {"DOCKER_HOST": dockerd}
    killed = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "support-bot",
        cwd=docker_ws,
        env={**env, "IR_FAILPOINT": "step.output:freeze"},
    )
    assert killed.returncode == -9
    assert docker_api.inspect_container(agent_container["id"])["State"]["Paused"] is True
    (case,) = list((docker_ws / "cases").iterdir())
    resumed = ir_cmd("resume", case.name, "--json", cwd=docker_ws, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "already paused" not in resumed.stdout
    assert summary_of(resumed.stdout)["steps"]["isolate"] == "succeeded"
    assert ir_cmd("verify", str(case)).returncode == 0


def test_missing_container_and_daemon_down(tmp_path: Path, dockerd: str) -> None:
    agents = (
        "agents:\n  ghost:\n    owner: o\n    purpose: p\n    backend: docker\n    container: {name: no-such-box}\n"
    )
    ws = make_workspace(tmp_path / "ws", agents=agents)
    gone = ir_cmd("run", "agent-compromise", "--agent", "ghost", cwd=ws, env={"DOCKER_HOST": dockerd})
    assert gone.returncode == 1
    assert "ir: step freeze: container no-such-box: not found" in gone.stderr
    (case,) = list((ws / "cases").iterdir())
    assert ir_cmd("verify", str(case)).returncode == 0

    down = ir_cmd(
        "run",
        "agent-compromise",
        "--agent",
        "ghost",
        cwd=ws,
        env={"DOCKER_HOST": f"unix://{tmp_path}/nothing-listens.sock"},
    )
    assert down.returncode == 3
    assert f"unix://{tmp_path}/nothing-listens.sock: Docker Engine unreachable (no socket there)" in down.stderr
    assert len([line for line in down.stderr.splitlines() if line.startswith("ir:")]) == 1
