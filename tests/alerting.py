"""Workspaces and alert bodies for the `ir serve` tests that run cases: agents on the simulated world.

Each agent has a container and an IAM user, so `agent-compromise` under `auto_then_approve`
pauses the container, deactivates the keys and leaves its irreversible steps (`console`,
`secrets`, `minted-console`) waiting for a person: the case stays open, and a later alert about
the agent is journalled into it rather than starting a second case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import make_workspace

SERVE_TOKEN = "ir-serve-token-7c1f4e2a9d"
"""The bearer token `ir serve` takes from IR_SERVE_TOKEN in these workspaces."""


def fleet(count: int) -> tuple[str, str]:
    """`agents.yaml` and the simulated `world.yaml` for agents `bot-00` … (container + IAM user each)."""
    names = [f"bot-{i:02d}" for i in range(count)]
    agents = "agents:\n" + "".join(
        f"  {n}:\n    owner: secops@example.com\n    purpose: test agent {n}\n    backend: simulated\n"
        f"    container: {{name: {n}}}\n    credentials:\n      - {{type: aws.iam_user, user_name: agent-{n}}}\n"
        for n in names
    )
    world = "containers:\n" + "".join(
        f"  {n}:\n    image: registry.example.com/agents/{n}:1.0\n    status: running\n"
        f"    networks: {{agents-net: {{aliases: [{n}]}}}}\n"
        for n in names
    )
    world += "iam:\n  users:\n" + "".join(
        f"    agent-{n}:\n      access_keys: [{{id: AKIA{i:016d}, status: Active}}]\n" for i, n in enumerate(names)
    )
    return agents, world


def serve_workspace(root: Path, agents: int = 1, *, breaker: int = 10, extra: str = "") -> Path:
    """A workspace whose `alertmanager` source takes SERVE_TOKEN and routes to agent-compromise."""
    agents_yaml, world = fleet(agents)
    settings = (
        "alerts:\n"
        "  service: {principal: ir-service}\n"
        "  sources:\n"
        "    alertmanager: {format: alertmanager, auth: {bearer: [IR_SERVE_TOKEN]}}\n"
        "  routes:\n"
        "    - {name: agents, playbook: agent-compromise, policy: auto_then_approve}\n"
        f"  breaker: {{max_automatic: {breaker}, minutes: 10}}\n" + extra
    )
    return make_workspace(root, agents=agents_yaml, world=world, settings=settings)


def am_body(agent: str, fingerprint: str, status: str = "firing") -> bytes:
    """An Alertmanager webhook v4 delivery of one alert about `agent` (labels `agent_id`)."""
    alert = {
        "status": status,
        "labels": {"alertname": "AgentEgress", "agent_id": agent, "severity": "critical"},
        "annotations": {"summary": f"egress to 203.0.113.9 ({fingerprint})"},
        "startsAt": "2026-11-20T03:12:00Z",
        "endsAt": "2026-11-20T03:20:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }
    group = {
        "version": "4",
        "receiver": "agent-ir",
        "status": status,
        "groupKey": f'{{}}:{{agent_id="{agent}"}}',
        "truncatedAlerts": 0,
        "externalURL": "http://alertmanager:9093",
        "groupLabels": {"agent_id": agent},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "alerts": [alert],
    }
    return json.dumps(group).encode()


def bearer(token: str = SERVE_TOKEN) -> dict[str, str]:
    """Headers of a JSON POST with a bearer token."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def cases(ws: Path) -> list[Path]:
    """The workspace's case folders, oldest first."""
    return sorted(p for p in (ws / "cases").iterdir() if p.is_dir())


def journal(case: Path) -> list[dict[str, Any]]:
    """A case's journal records."""
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def world(ws: Path) -> dict[str, Any]:
    """The simulated world as the backends left it."""
    data: dict[str, Any] = json.loads((ws / ".ir" / "world.json").read_text())
    return data
