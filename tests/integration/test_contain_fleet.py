"""One alert about an image four agents run, contained on a real Docker Engine and moto_server.

The four cases run side by side in one `ir contain` process and share its Docker connection
pool and AWS session: each agent must still end frozen, with its own keys inactive and its own
user and role denied, in a case of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import ir_cmd, make_workspace
from tests.services import AGENT_LOOP

pytestmark = pytest.mark.docker

IMAGE = "registry.example.com/agents/fleet-bot:3.1"
SETTINGS = """\
alerts:
  service: {principal: ir-service}
  routes:
    - {name: fleet, playbook: agent-compromise, policy: auto_then_approve}
  fleet: {parallel: 4}
"""
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def fleet(docker_api: Any, aws: dict[str, str]) -> Iterator[list[str]]:
    """Four running agents on one internal network, each with its own IAM user (one key) and role."""
    iam = boto3.client("iam", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1")
    names = [f"fleet-{os.getpid()}-{i}" for i in range(4)]
    net = docker_api.create_network(f"fleet-{os.getpid()}-net", driver="bridge", internal=True)["Id"]
    host_config = docker_api.create_host_config(network_mode=f"fleet-{os.getpid()}-net")
    try:
        for name in names:
            created = docker_api.create_container(
                "ir-test/agent:1", command=["sh", "-c", AGENT_LOOP], name=name, host_config=host_config
            )
            docker_api.start(created["Id"])
            iam.create_user(UserName=f"user-{name}")
            iam.create_access_key(UserName=f"user-{name}")
            iam.create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument=json.dumps(TRUST))
        time.sleep(0.5)  # a few log lines to capture
        yield names
    finally:
        for name in names:
            with contextlib.suppress(Exception):
                docker_api.remove_container(name, force=True)
        with contextlib.suppress(Exception):
            docker_api.remove_network(net)


def test_one_alert_about_an_image_contains_every_agent_running_it(
    tmp_path: Path, dockerd: str, docker_api: Any, aws: dict[str, str], fleet: list[str]
) -> None:
    agents = "agents:\n" + "".join(
        f"  {name}:\n    owner: o@example.com\n    purpose: p\n    backend: docker\n"
        f"    container: {{name: {name}, image: '{IMAGE}'}}\n"
        f"    credentials:\n      - {{type: aws.iam_user, user_name: user-{name}}}\n"
        f"      - {{type: aws.iam_role, role_name: role-{name}}}\n"
        for name in fleet
    )
    ws = make_workspace(tmp_path / "ws", agents=agents, settings=SETTINGS)
    alert = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "FleetImageBackdoored", "image": IMAGE, "severity": "critical"},
                "startsAt": "2026-11-21T09:00:00Z",
                "fingerprint": "f1ee7000000000a1",
            }
        ],
    }
    (ws / "alert.json").write_text(json.dumps(alert))

    result = ir_cmd("contain", "--alert", str(ws / "alert.json"), "--json", cwd=ws, env={"DOCKER_HOST": dockerd})

    assert result.returncode == 4, result.stdout + result.stderr  # console and secrets wait for a person
    (row,) = [json.loads(line) for line in result.stdout.splitlines() if '"summary": true' in line]
    assert row["resolution"]["state"] == "fleet" and row["resolution"]["rule"] == "image"
    assert sorted(c["agent"] for c in row["cases"]) == fleet
    assert len({c["case"] for c in row["cases"]}) == 4
    iam = boto3.client("iam", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1")
    for name in fleet:
        assert docker_api.inspect_container(name)["State"]["Paused"] is True
        keys = iam.list_access_keys(UserName=f"user-{name}")["AccessKeyMetadata"]
        assert [k["Status"] for k in keys] == ["Inactive"]
        denied = {"agent-ir-deny-all", "agent-ir-revoke-older-sessions"}
        assert set(iam.list_user_policies(UserName=f"user-{name}")["PolicyNames"]) == denied
        assert set(iam.list_role_policies(RoleName=f"role-{name}")["PolicyNames"]) == denied
    for case in row["cases"]:
        assert case["status"] == "awaiting_approval" and not case.get("still_live"), case
