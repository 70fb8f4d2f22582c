"""A real Prometheus Alertmanager delivers to a real `ir serve`, which contains a real agent.

Debian's `prometheus-alertmanager` runs with one webhook receiver pointing at `ir serve` (bearer
token, `send_resolved: true`, one-second group waits). An alert posted to Alertmanager's own API
(`POST /api/v2/alerts`) ends with the agent's container paused on the private dockerd and its
keys deactivated and old sessions denied on moto; the same alert resolved later is journalled in
the case and releases nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import urllib.request
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AWS_AGENT, ir_cmd, make_workspace, missing, seed_aws
from tests.services import Alertmanager, Served, alertmanager, ir_serve

pytestmark = pytest.mark.docker

TOKEN = "am-to-ir-bearer-5e1d9c3a7b"
SETTINGS = """\
alerts:
  service: {principal: ir-service}
  sources:
    alertmanager: {format: alertmanager, auth: {bearer: [IR_SERVE_TOKEN]}}
  routes:
    - {name: agents, playbook: agent-compromise, policy: auto_then_approve}
  breaker: {max_automatic: 5, minutes: 10}
"""
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_alerts(am: Alertmanager, alerts: list[dict[str, Any]]) -> None:
    """`POST /api/v2/alerts` on Alertmanager, as Prometheus or any other client would."""
    request = urllib.request.Request(
        f"{am.url}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with NO_PROXY.open(request, timeout=10) as answer:
        assert answer.status == 200


def wait_for(what: str, check: Callable[[], bool], am: Alertmanager, served: Served) -> None:
    """Poll a state until it holds (Alertmanager delivers on its own schedule), or fail saying what."""
    served.wait_until(what, check, more=f"--- alertmanager:\n{am.tail()}\n")


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def test_alertmanager_delivers_and_the_agent_is_contained_on_docker_and_aws(
    tmp_path: Path,
    dockerd: str,
    docker_api: Any,
    agent_container: dict[str, Any],
    aws: dict[str, str],
    signers: Any,
) -> None:
    if shutil.which("prometheus-alertmanager") is None:
        missing("prometheus-alertmanager", "not on PATH; scripts/install-system-deps installs it")
    iam = seed_aws(aws)["iam"]
    agents = AWS_AGENT.replace(
        "    backend: docker\n", f"    backend: docker\n    container: {{name: {agent_container['name']}}}\n"
    )
    ws = make_workspace(tmp_path / "ws", agents=agents, settings=SETTINGS)
    (ws / "logs" / "cloudtrail").mkdir(parents=True)
    (ws / "logs" / "cloudtrail" / "trail.json").write_text('{"Records": []}')
    signers(ws, "ir-service", role="service")
    env = {**aws, "DOCKER_HOST": dockerd, "IR_SERVE_TOKEN": TOKEN}

    started = datetime.now(UTC).replace(microsecond=0)
    alert = {
        "labels": {"alertname": "AgentEgressToUnknownHost", "agent_id": "support-bot", "severity": "critical"},
        "annotations": {"summary": "Egress to 203.0.113.9:443 not in allow-list"},
        "startsAt": started.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=agent_egress_unknown",
    }
    with ir_serve(ws, tmp_path / "serve", env) as served:
        with alertmanager(f"{served.url}/v1/alerts/alertmanager", TOKEN) as am:
            post_alerts(am, [alert])
            firing = [("1.0", "contained", "firing")]
            wait_for("the firing alert contained", lambda: served.alert_rows() == firing, am, served)

            (case,) = sorted(p for p in (ws / "cases").iterdir() if p.is_dir())
            records = journal(case)
            trigger = records[0]["data"]["trigger"]
            assert (trigger["inbox"], trigger["source"], trigger["resolution"]["rule"]) == (
                "1.0",
                "alertmanager",
                "explicit",
            )
            state = docker_api.inspect_container(agent_container["id"])["State"]
            assert state["Paused"] is True
            keys = iam.list_access_keys(UserName="agent-support-bot")["AccessKeyMetadata"]
            assert keys and {k["Status"] for k in keys} == {"Inactive"}
            assert "agent-ir-deny-all" in iam.list_user_policies(UserName="agent-support-bot")["PolicyNames"]
            role_policies = set(iam.list_role_policies(RoleName="support-bot-runtime")["PolicyNames"])
            assert {"agent-ir-deny-all", "agent-ir-revoke-older-sessions"} <= role_policies
            waiting = {r["data"]["step"] for r in records if r["type"] == "approval.waiting"}
            assert waiting == {"console", "secrets", "minted-console"}  # irreversible: they wait for a person

            with closing(sqlite3.connect(ws / ".ir" / "inbox.sqlite")) as db:
                (headers,) = db.execute("SELECT headers FROM deliveries WHERE id = 1").fetchone()
            assert json.loads(headers)["user-agent"].startswith("Alertmanager/")

            ended = datetime.now(UTC) - timedelta(seconds=1)
            post_alerts(am, [alert | {"endsAt": ended.isoformat().replace("+00:00", "Z")}])
            wait_for("the resolved notification recorded", lambda: len(served.alert_rows()) == 2, am, served)
            wait_for(
                "the resolved alert settled", lambda: served.alert_rows()[1][1:] == ("resolved", "resolved"), am, served
            )
        assert served.stop() == 0

    assert sorted(p for p in (ws / "cases").iterdir() if p.is_dir()) == [case]  # no second case
    notes = [r["data"] for r in journal(case) if r["type"] == "alert.correlated"]
    assert [(n["alert"]["inbox"], n["alert"]["status"]) for n in notes] == [("2.0", "resolved")]
    assert "releases nothing" in notes[0]["text"]
    later = [r["type"] for r in journal(case)[len(records) :]]
    assert later == ["alert.correlated", "checkpoint"]  # the note and the signed head: no step ran
    assert docker_api.inspect_container(agent_container["id"])["State"]["Paused"] is True
    keys = iam.list_access_keys(UserName="agent-support-bot")["AccessKeyMetadata"]
    assert {k["Status"] for k in keys} == {"Inactive"}

    verified = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert TOKEN not in served.output()
