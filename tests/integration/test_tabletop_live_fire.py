"""Live fire on a private Docker Engine: a container labelled for the exercise is contained for
real; one without the label is refused before the start, and at the call."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ir.backends.docker_engine import DockerEngine
from ir.backends.exercise_guard import LabelledRuntime
from ir.core.errors import PermissionDenied
from tests.conftest import ir_cmd, make_workspace
from tests.services import AGENT_LOOP

pytestmark = pytest.mark.docker

EX = "EX-live-drill-20261120T031000"
SCENARIO = """\
schema: ir/scenario/v1
id: live-drill
version: 1.0.0
title: A labelled container, contained for real
summary: An alert about a live-fire agent opens a case that freezes and captures its container.
narrative: The agent misbehaves.
references: {incident: live-fire drill}
objectives: [{id: O1, title: Contain it}]
roles: [{id: ic, title: Incident commander}]
world:
  agents:
    live-bot:
      owner: secops@example.com
      purpose: a live-fire target
      backend: docker
      container: {name: CONTAINER, host: "HOST"}
injects:
  - id: I1
    title: The agent is reported
    at: 30s
    alert:
      source: alertmanager
      body:
        status: firing
        alerts:
          - status: firing
            labels: {alertname: AgentPolicyViolation, agent_id: live-bot, severity: critical}
            annotations: {summary: live-bot broke policy}
            startsAt: "2026-11-20T03:10:00Z"
            fingerprint: live0001
        version: "4"
expectations:
  - {id: E1, objective: O1, title: Frozen, step: {action: container.pause, agent: live-bot}}
end: {when: [contained(live-bot)], after: 5m}
"""


@pytest.fixture
def labelled(docker_api: Any, dockerd: str) -> Iterator[str]:
    """A running agent container labelled for exercise EX."""
    name = "live-bot-labelled"
    created = docker_api.create_container(
        "ir-test/agent:1", command=["sh", "-c", AGENT_LOOP], name=name, labels={"dev.agent-ir.exercise": EX}
    )
    docker_api.start(created["Id"])
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            docker_api.remove_container(created["Id"], force=True)


def _scenario(tmp_path: Path, container: str, host: str) -> Path:
    path = tmp_path / "live-drill.yaml"
    path.write_text(SCENARIO.replace("CONTAINER", container).replace("HOST", host))
    return path


def test_an_unlabelled_container_is_refused_before_the_start(
    tmp_path: Path, dockerd: str, agent_container: dict[str, Any]
) -> None:
    ws = make_workspace(tmp_path / "ws")
    scenario = _scenario(tmp_path, agent_container["name"], dockerd)
    result = ir_cmd("tabletop", "run", str(scenario), "--live-fire", "--auto", "--exercise-id", EX, cwd=ws)
    assert result.returncode == 2
    assert f"does not carry the label dev.agent-ir.exercise={EX}" in result.stderr
    assert not (ws / "exercises").exists()


def test_the_runtime_refuses_an_unlabelled_container_at_the_call(dockerd: str, agent_container: dict[str, Any]) -> None:
    engine = DockerEngine(dockerd)
    try:
        with pytest.raises(PermissionDenied, match="exercise interlock"):
            LabelledRuntime(engine, EX).pause(agent_container["name"])
        assert engine.inspect(agent_container["name"]).status == "running"
    finally:
        engine.close()


def test_a_labelled_container_is_contained_for_real(tmp_path: Path, dockerd: str, labelled: str) -> None:
    ws = make_workspace(tmp_path / "ws")
    scenario = _scenario(tmp_path, labelled, dockerd)
    result = ir_cmd(
        "tabletop", "run", str(scenario), "--live-fire", "--auto", "--exercise-id", EX, "--json", cwd=ws, timeout=300
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["data"]["live_fire"] is True
    ended = next(r for r in records if r["type"] == "exercise.ended")
    assert ended["data"]["reason"] == "end condition"
    engine = DockerEngine(dockerd)
    try:
        assert engine.inspect(labelled).status == "paused"
    finally:
        engine.close()
