"""`ir contain --alert`: an alert goes through the inbox, is resolved to agents and routed to a
case on the simulated world — contained once, folded into the open case, never contained twice."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ir_cmd, make_workspace

WORLD = """\
containers:
  support-bot:
    image: registry.example.com/agents/support-bot:1.4.2
    status: running
    networks: {agents-net: {aliases: [support-bot]}}
  billing-bot:
    image: registry.example.com/agents/billing-bot:2.0.0
    status: running
    networks: {agents-net: {aliases: [billing-bot]}}
  report-bot:
    image: registry.example.com/agents/report-bot:0.9.0
    status: running
    networks: {agents-net: {aliases: [report-bot]}}
iam:
  users:
    agent-support-bot:
      access_keys: [{id: AKIASUPPORT000000001, status: Active}]
    agent-shared:
      access_keys: [{id: AKIASHARED0000000001, status: Active}]
hosts:
  agent-host-1:
    services: {support-bot: running, billing-bot: running}
"""

AGENTS = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: simulated
    container: {name: support-bot, image: "registry.example.com/agents/support-bot:1.4.2"}
    credentials:
      - {type: aws.iam_user, user_name: agent-support-bot}
    hosts: [agent-host-1]
  billing-bot:
    owner: finops@example.com
    purpose: reconciles invoices
    backend: simulated
    container: {name: billing-bot}
    credentials:
      - {type: aws.iam_user, user_name: agent-shared}
    hosts: [agent-host-1]
  report-bot:
    owner: finops@example.com
    purpose: writes monthly reports
    backend: simulated
    container: {name: report-bot}
    credentials:
      - {type: aws.iam_user, user_name: agent-shared}
"""


def settings(policy: str = "auto_then_approve", breaker: int = 10) -> str:
    return f"""\
alerts:
  service: {{principal: ir-service}}
  routes:
    - {{name: agents, playbook: agent-compromise, policy: {policy}}}
  breaker: {{max_automatic: {breaker}, minutes: 10}}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings())


def am_group(*alerts: dict[str, Any]) -> dict[str, Any]:
    """An Alertmanager webhook v4 group of `alerts`."""
    return {
        "version": "4",
        "receiver": "agent-ir",
        "status": "firing" if any(a.get("status", "firing") == "firing" for a in alerts) else "resolved",
        "groupKey": '{}:{alertname="AgentEgress"}',
        "truncatedAlerts": 0,
        "externalURL": "http://alertmanager:9093",
        "groupLabels": {"alertname": "AgentEgress"},
        "commonLabels": {"alertname": "AgentEgress"},
        "commonAnnotations": {},
        "alerts": list(alerts),
    }


def am_alert(fingerprint: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "AgentEgress", "severity": "critical", **labels},
        "annotations": {"summary": f"egress to 203.0.113.9 ({fingerprint})"},
        "startsAt": "2026-11-20T03:12:00Z",
        "endsAt": "2026-11-20T03:20:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }


def contain(ws: Path, body: dict[str, Any], *extra: str) -> Any:
    path = ws / f"alert-{abs(hash(json.dumps(body, sort_keys=True)))}.json"
    path.write_text(json.dumps(body))
    return ir_cmd("contain", "--alert", str(path), *extra, cwd=ws)


def cases(ws: Path) -> list[Path]:
    return sorted(p for p in (ws / "cases").iterdir() if p.is_dir())


def records(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def key_status(ws: Path, user: str) -> list[str]:
    world = json.loads((ws / ".ir" / "world.json").read_text())
    return [k["status"] for k in world["iam"]["users"][user]["access_keys"]]


def container_status(ws: Path, name: str) -> str:
    path = ws / ".ir" / "world.json"
    if not path.is_file():
        return "running"
    return str(json.loads(path.read_text())["containers"][name]["status"])


def test_a_group_contains_the_firing_agent_and_records_the_resolved_one(ws: Path) -> None:
    body = am_group(
        am_alert("aaaa000000000001", agent_id="support-bot"), am_alert("bbbb", "resolved", agent_id="billing-bot")
    )
    result = contain(ws, body)
    assert result.returncode == 4, result.stdout + result.stderr  # irreversible steps wait for a person
    assert "alert 1.0 contained" in result.stdout
    assert "alert 1.1 resolved" in result.stdout
    (case,) = cases(ws)
    assert "-support-bot-agent-compromise-" in case.name
    started = records(case)[0]["data"]
    assert started["actor"] == "ir-service"
    assert started["trigger"]["inbox"] == "1.0"
    assert started["trigger"]["resolution"]["rule"] == "explicit"
    assert key_status(ws, "agent-support-bot") == ["Inactive"]
    assert container_status(ws, "support-bot") == "paused"
    steps = {r["data"]["step"]: r["data"]["status"] for r in records(case) if r["type"] == "step.result"}
    # auto_then_approve: steps after the first waiting one still ran
    assert steps["timeline"] == "succeeded"
    assert "minted" in steps
    waiting = {r["data"]["step"] for r in records(case) if r["type"] == "approval.waiting"}
    assert {"console", "secrets"} <= waiting
    assert container_status(ws, "billing-bot") == "running"  # resolved releases nothing, starts nothing


def test_the_same_delivery_twice_is_one_containment(ws: Path) -> None:
    body = am_group(am_alert("aaaa000000000001", agent_id="support-bot"))
    contain(ws, body)
    again = contain(ws, body)
    assert "already in the inbox" in again.stdout
    assert len(cases(ws)) == 1


def test_a_later_alert_for_the_agent_joins_its_open_case(ws: Path) -> None:
    contain(ws, am_group(am_alert("aaaa000000000001", agent_id="support-bot")))
    second = contain(ws, am_group(am_alert("cccc000000000003", container="support-bot")))
    assert "alert 2.0 folded" in second.stdout, second.stdout
    (case,) = cases(ws)
    folded = [r for r in records(case) if r["type"] == "alert.correlated"]
    assert len(folded) == 1 and folded[0]["data"]["alert"]["inbox"] == "2.0"
    # the clock runs from the alert that opened the case, not from the one folded in later
    report = json.loads(ir_cmd("report", case.name, "--format", "json", "--out", "-", cwd=ws).stdout)
    times = report["times"]
    assert times["first_alert"] == records(case)[0]["data"]["trigger"]["received"]
    assert 0 <= times["time_to_acknowledge_s"] < 60


def test_a_resolved_notification_after_containment_is_journalled_and_releases_nothing(ws: Path) -> None:
    contain(ws, am_group(am_alert("aaaa000000000001", agent_id="support-bot")))
    resolved = contain(ws, am_group(am_alert("aaaa000000000001", "resolved", agent_id="support-bot")))
    assert "resolved" in resolved.stdout
    (case,) = cases(ws)
    notes = [r["data"] for r in records(case) if r["type"] == "alert.correlated"]
    assert notes and notes[-1]["alert"]["status"] == "resolved"
    assert "releases nothing" in notes[-1]["text"]
    assert key_status(ws, "agent-support-bot") == ["Inactive"]
    assert container_status(ws, "support-bot") == "paused"


def test_agent_ids_that_disagree_wait_for_a_person(ws: Path) -> None:
    result = contain(ws, am_group(am_alert("dddd000000000004", agent_id="support-bot", agent="billing-bot")))
    assert result.returncode == 4
    assert "waiting" in result.stdout and "disagree" in result.stdout
    assert cases(ws) == []
    listed = ir_cmd("alerts", "list", cwd=ws)
    assert "waiting" in listed.stdout


def test_an_unknown_agent_waits_and_a_person_assigns_it(ws: Path) -> None:
    result = contain(ws, am_group(am_alert("eeee000000000005", agent_id="ghost-bot")))
    assert result.returncode == 4 and "no agent 'ghost-bot'" in result.stdout
    assert cases(ws) == []
    assigned = ir_cmd("alerts", "assign", "1.0", "--agent", "support-bot", "--as", "alice", cwd=ws)
    assert "contained" in assigned.stdout, assigned.stdout + assigned.stderr
    assert len(cases(ws)) == 1


def test_a_shared_key_contains_every_agent_holding_it(ws: Path) -> None:
    result = contain(ws, am_group(am_alert("ffff000000000006", iam_user="agent-shared")), "--json")
    summary = [json.loads(line) for line in result.stdout.splitlines() if '"summary": true' in line]
    (row,) = summary
    assert row["resolution"]["state"] == "fleet" and row["outcome"] == "contained", row
    assert sorted(c["agent"] for c in row["cases"]) == ["billing-bot", "report-bot"]
    assert len(cases(ws)) == 2
    assert key_status(ws, "agent-shared") == ["Inactive"]
    assert container_status(ws, "billing-bot") == "paused" and container_status(ws, "report-bot") == "paused"
    assert container_status(ws, "support-bot") == "running"


def test_the_breaker_stops_automation_and_leaves_the_rest_waiting(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings(breaker=1))
    contain(ws, am_group(am_alert("1111000000000001", agent_id="support-bot")))
    second = contain(ws, am_group(am_alert("2222000000000002", agent_id="billing-bot")))
    assert second.returncode == 4
    assert "breaker" in second.stdout
    assert len(cases(ws)) == 1
    shown = ir_cmd("alerts", "breaker", cwd=ws)
    assert "OPEN" in shown.stdout
    refused = ir_cmd("alerts", "breaker", "reset", cwd=ws)
    assert refused.returncode == 2
    reset = ir_cmd("alerts", "breaker", "reset", "--as", "alice", "--reason", "cascade understood", cwd=ws)
    assert "closed" in reset.stdout


@pytest.mark.parametrize("policy", ["observe", "shadow"])
def test_observe_and_shadow_change_nothing(tmp_path: Path, policy: str) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings(policy))
    result = contain(ws, am_group(am_alert("3333000000000003", agent_id="support-bot")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert ("observed" if policy == "observe" else "shadowed") in result.stdout
    assert cases(ws) == []
    assert container_status(ws, "support-bot") == "running"
    if policy == "shadow":
        assert "freeze: container.pause" in result.stdout


def test_policy_approve_opens_the_case_and_waits_before_the_first_change(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings("approve"))
    result = contain(ws, am_group(am_alert("4444000000000004", agent_id="support-bot")))
    assert result.returncode == 4
    (case,) = cases(ws)
    waiting = [r["data"]["step"] for r in records(case) if r["type"] == "approval.waiting"]
    assert waiting == ["freeze"]
    assert container_status(ws, "support-bot") == "running"


def test_policy_auto_runs_everything_and_says_the_route_approved(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings("auto"))
    result = contain(ws, am_group(am_alert("5555000000000005", agent_id="support-bot")))
    (case,) = cases(ws)
    grants = [r["data"] for r in records(case) if r["type"] == "approval.granted"]
    assert grants and all(g["policy"] == "route agents: policy auto" and g["by"] == "ir-service" for g in grants)
    assert result.returncode in (0, 1), result.stdout


def test_dry_run_writes_nothing(ws: Path) -> None:
    result = contain(ws, am_group(am_alert("6666000000000006", agent_id="support-bot")), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "route: agents" in result.stdout and "support-bot" in result.stdout
    assert cases(ws) == []
    inbox = ws / ".ir" / "inbox.sqlite"
    if inbox.exists():
        assert sqlite3.connect(inbox).execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 0


def test_bad_alerts_are_one_line_and_exit_2(ws: Path) -> None:
    (ws / "bad.json").write_bytes(b"{not json")
    bad = ir_cmd("contain", "--alert", str(ws / "bad.json"), cwd=ws)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "bad.json" in bad.stderr
    (ws / "odd.json").write_text('{"hello": "world"}')
    odd = ir_cmd("contain", "--alert", str(ws / "odd.json"), cwd=ws)
    assert odd.returncode == 2 and "odd.json" in odd.stderr


def test_agents_affected_by_a_shared_credential_image_or_host(ws: Path) -> None:
    shared = ir_cmd("agents", "affected", "--credential", "agent-shared", cwd=ws)
    assert shared.stdout.split()[0::4] == ["billing-bot", "report-bot"] or (
        "billing-bot" in shared.stdout and "report-bot" in shared.stdout and "support-bot" not in shared.stdout
    )
    host = ir_cmd("agents", "affected", "--host", "agent-host-1", cwd=ws)
    assert "support-bot" in host.stdout and "billing-bot" in host.stdout and "report-bot" not in host.stdout
    image = ir_cmd("agents", "affected", "--image", "registry.example.com/agents/support-bot:1.4.2", cwd=ws)
    assert image.stdout.startswith("support-bot")
    none = ir_cmd("agents", "affected", cwd=ws)
    assert none.returncode == 2


def test_a_failed_step_is_not_reported_as_waiting(tmp_path: Path) -> None:
    world = WORLD.split("hosts:")[0]  # the agent's host is unknown: its kill switch cannot be set
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=world, settings=settings())
    result = contain(ws, am_group(am_alert("7777000000000007", agent_id="support-bot")))
    assert result.returncode == 1, result.stdout
    assert "alert 1.0 failed" in result.stdout and "kill-switch" in result.stdout
    (case,) = cases(ws)
    finished = [r["data"] for r in records(case) if r["type"] == "run.finished"][-1]
    assert finished["status"] == "failed"
    assert "steps wait for approval" in finished["message"]  # and what waits is still said


def test_agents_held_by_the_breaker_wait_and_a_person_contains_them_after_a_reset(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings(breaker=1))
    first = contain(ws, am_group(am_alert("8888000000000008", iam_user="agent-shared")))
    assert first.returncode == 4 and "alert 1.0 waiting" in first.stdout, first.stdout
    assert len(cases(ws)) == 1
    assert "waiting" in ir_cmd("alerts", "list", "--outcome", "waiting", cwd=ws).stdout
    ir_cmd("alerts", "breaker", "reset", "--as", "alice", "--reason", "one alert, two agents", cwd=ws, check=True)
    held = "report-bot" if "-billing-bot-" in cases(ws)[0].name else "billing-bot"
    assigned = ir_cmd("alerts", "assign", "1.0", "--agent", held, "--as", "alice", cwd=ws)
    assert "alert 1.0 contained" in assigned.stdout, assigned.stdout + assigned.stderr
    assert len(cases(ws)) == 2
    shown = json.loads(ir_cmd("alerts", "show", "1.0", "--json", cwd=ws).stdout)
    assert sorted(c["agent"] for c in shown["cases"]) == ["billing-bot", "report-bot"]
    # after a reset the window starts again: the next automatic containment runs
    later = contain(ws, am_group(am_alert("9999000000000009", agent_id="support-bot")))
    assert "alert 2.0 contained" in later.stdout, later.stdout


def test_a_resumed_approve_case_keeps_waiting_before_each_change(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=settings("approve"))
    contain(ws, am_group(am_alert("4444000000000004", agent_id="support-bot")))
    (case,) = cases(ws)
    resumed = ir_cmd("resume", case.name, "--approve", "freeze", "--as", "alice", cwd=ws)
    assert resumed.returncode == 4, resumed.stdout + resumed.stderr
    assert container_status(ws, "support-bot") == "paused"
    assert key_status(ws, "agent-support-bot") == ["Active"]  # the keys step waits for its own approval
    waiting = [r["data"]["step"] for r in records(case) if r["type"] == "approval.waiting"]
    assert waiting == ["freeze", "keys"]


def test_agent_ids_from_an_alert_cannot_reach_the_terminal_raw(ws: Path) -> None:
    contain(ws, am_group(am_alert("aaaa00000000000a", agent_id="x\x1b]0;PWNED\x07", agent="support-bot")))
    listed = ir_cmd("alerts", "list", cwd=ws).stdout + ir_cmd("alerts", "show", "1.0", cwd=ws).stdout
    assert "\x1b" not in listed and "\x07" not in listed
    assert "PWNED" in listed  # shown, escaped


RESTRICTED = """\
schema: ir/playbook/v1
id: freeze-only
version: "1.0.0"
title: Freeze, with a named approver
steps:
  - id: freeze
    title: Freeze the agent's container
    action: container.pause
    approval: {required: true, approvers: [alice]}
    guidance: Only alice may approve this freeze.
"""


def test_policy_auto_does_not_approve_a_step_the_playbook_reserves_for_named_people(tmp_path: Path) -> None:
    route = "alerts:\n  routes:\n    - {name: agents, playbook: freeze-only, policy: auto}\n"
    ws = make_workspace(tmp_path / "ws", agents=AGENTS, world=WORLD, settings=route)
    (ws / "playbooks" / "freeze-only.yaml").write_text(RESTRICTED)
    result = contain(ws, am_group(am_alert("abab00000000000b", agent_id="support-bot")))
    assert result.returncode == 4, result.stdout + result.stderr
    (case,) = cases(ws)
    assert [r["data"]["step"] for r in records(case) if r["type"] == "approval.waiting"] == ["freeze"]
    assert not [r for r in records(case) if r["type"] == "approval.granted"]
    assert container_status(ws, "support-bot") == "running"
