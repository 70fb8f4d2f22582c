"""Resolving an alert to agents, routing it, and the inbox that keeps it: the parts of the alert
path that decide what is contained, each checked on its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ir.alerts.inbox import Inbox
from ir.alerts.model import Alert, Entities
from ir.alerts.resolve import AGENT_LABEL, affected, resolve
from ir.alerts.route import choose, lint_routes
from ir.core.alert_settings import AlertSettings, Route
from ir.core.errors import WorkspaceError
from ir.core.inventory import Inventory
from ir.core.workspace import load_settings

INVENTORY = Inventory.model_validate(
    {
        "agents": {
            "support-bot": {
                "owner": "a",
                "purpose": "p",
                "container": {"name": "support-bot", "id": "4a4021c50439ffee", "image": "img:1"},
                "credentials": [{"type": "aws.iam_user", "user_name": "agent-support"}],
                "hosts": ["node-3"],
            },
            "billing-bot": {
                "owner": "a",
                "purpose": "p",
                "container": {"name": "billing-bot", "image": "img:1"},
                "credentials": [
                    {"type": "aws.iam_user", "user_name": "agent-shared"},
                    {"type": "aws.iam_role", "role_name": "billing-runtime"},
                ],
                "hosts": ["node-3"],
            },
            "report-bot": {
                "owner": "a",
                "purpose": "p",
                "credentials": [{"type": "aws.iam_user", "user_name": "agent-shared"}],
            },
        }
    }
)


def alert(**entities: object) -> Alert:
    sources = entities.pop("sources", ())
    ent = Entities.model_validate(entities | ({"agent_id_sources": sources} if sources else {}))
    return Alert(
        source="test",
        format="alertmanager",
        kind="alertmanager",
        source_id="x",
        incident_key="k",
        status="firing",
        severity="critical",
        title="t",
        observed="",
        entities=ent,
        labels={"alertname": "AgentEgress", "team": "billing"},
    )


def test_an_explicit_id_wins_over_weaker_evidence() -> None:
    found = resolve(alert(agent_ids=["report-bot"], container_names=["support-bot"]), INVENTORY)
    assert (found.state, found.rule, found.agents) == ("attributed", "explicit", ("report-bot",))


def test_explicit_ids_that_disagree_are_ambiguous_and_say_where_each_was_read() -> None:
    found = resolve(
        alert(agent_ids=["support-bot", "billing-bot"], sources=["labels.agent_id", "labels.agent"]), INVENTORY
    )
    assert found.state == "ambiguous" and not found.actionable
    assert "labels.agent_id=support-bot" in found.detail and "labels.agent=billing-bot" in found.detail


def test_an_unknown_explicit_id_is_unattributed() -> None:
    found = resolve(alert(agent_ids=["ghost"]), INVENTORY)
    assert found.state == "unattributed" and "ghost" in found.detail


def test_a_short_container_id_matches_the_inventory_id() -> None:
    found = resolve(alert(container_ids=["4a4021c50439"]), INVENTORY)
    assert found.agents == ("support-bot",) and found.rule == "container"
    assert resolve(alert(container_ids=["4a40"]), INVENTORY).state == "unattributed"  # too short to trust


def test_a_container_the_inventory_does_not_name_resolves_through_its_docker_label() -> None:
    labels = {"c0ffee000000": {AGENT_LABEL: "report-bot"}}
    found = resolve(alert(container_ids=["c0ffee000000"]), INVENTORY, labels.get)
    assert found.agents == ("report-bot",) and AGENT_LABEL in found.detail


def test_a_shared_credential_is_a_fleet_and_a_shared_host_is_ambiguous() -> None:
    fleet = resolve(alert(iam_users=["agent-shared"]), INVENTORY)
    assert (fleet.state, fleet.agents) == ("fleet", ("billing-bot", "report-bot"))
    host = resolve(alert(hosts=["node-3"]), INVENTORY)
    assert host.state == "ambiguous" and host.agents == ("billing-bot", "support-bot")
    opted_in = resolve(alert(hosts=["node-3"]), INVENTORY, fleet_rules=("host",))
    assert opted_in.state == "fleet"


def test_a_credential_beats_a_host() -> None:
    found = resolve(alert(iam_roles=["billing-runtime"], hosts=["node-3"]), INVENTORY)
    assert (found.rule, found.agents) == ("credential", ("billing-bot",))


def test_agents_affected_answers_which_agents_share_a_dependency() -> None:
    assert [a for a, _ in affected(INVENTORY, credential="agent-shared")] == ["billing-bot", "report-bot"]
    assert [a for a, _ in affected(INVENTORY, image="img:1")] == ["support-bot", "billing-bot"]
    assert [a for a, _ in affected(INVENTORY, host="node-3")] == ["support-bot", "billing-bot"]


def test_the_first_matching_route_wins() -> None:
    routes = (
        Route.model_validate({"name": "quiet", "playbook": "p", "policy": "observe", "match": {"severity": "info"}}),
        Route.model_validate(
            {"name": "billing", "playbook": "p", "policy": "auto", "match": {"labels": {"team": "bill.*"}}}
        ),
        Route.model_validate({"name": "rest", "playbook": "p"}),
    )
    chosen = choose(alert(), routes)
    assert chosen is not None and chosen.name == "billing"
    plain = alert().model_copy(update={"labels": {}})
    chosen = choose(plain, routes)
    assert chosen is not None and chosen.name == "rest"
    assert choose(plain, routes[:2]) is None


def test_routes_are_checked_with_file_and_line(tmp_path: Path) -> None:
    ir_yaml = tmp_path / "ir.yaml"
    ir_yaml.write_text(
        "alerts:\n  routes:\n    - name: a\n      playbook: agent-compromise\n      params: {nope: '1'}\n"
        "    - name: b\n      playbook: missing\n"
    )
    settings = load_settings(ir_yaml)
    problems = lint_routes(ir_yaml, settings.alerts.routes, {"agent-compromise": {"stop_container"}})
    assert problems[0].startswith(f"{ir_yaml}:5:") and "no param 'nope'" in problems[0]
    assert problems[1].startswith(f"{ir_yaml}:7:") and "no playbook 'missing'" in problems[1]
    ir_yaml.write_text("alerts:\n  routes:\n    - {name: a, playbook: p, policy: yolo}\n")
    with pytest.raises(WorkspaceError, match=r"ir.yaml:3:\d+"):
        load_settings(ir_yaml)


def test_a_secret_in_place_of_an_environment_variable_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not an environment variable name"):
        AlertSettings.model_validate(
            {"sources": {"am": {"format": "alertmanager", "auth": {"bearer": "s3cr3t-t0ken!"}}}}
        )


def test_the_inbox_commits_before_it_answers_and_knows_a_delivery_seen_before(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite")
    first = inbox.accept(source="am", fmt="alertmanager", body=b'{"a":1}', delivery_key="d1", headers={}, via="http")
    # another connection (another process) sees it at once: it was committed, not buffered
    count = sqlite3.connect(tmp_path / "inbox.sqlite").execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    assert count == 1
    again = inbox.accept(source="am", fmt="alertmanager", body=b'{"a":2}', delivery_key="d1", headers={}, via="http")
    assert (again.id, again.duplicate) == (first.id, True)
    other = inbox.accept(source="fal", fmt="falco", body=b'{"a":1}', delivery_key="d1", headers={}, via="http")
    assert not other.duplicate  # keys are per source
    mode = sqlite3.connect(tmp_path / "inbox.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_alert_rows_are_created_once_and_a_crash_leaves_them_to_finish(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite")
    got = inbox.accept(source="am", fmt="alertmanager", body=b"{}", delivery_key=None, headers={}, via="cli")
    inbox.set_delivery(got.id, "processing")
    rows = inbox.add_alerts(got.id, [alert(), alert().model_copy(update={"index": 1})])
    again = Inbox(tmp_path / "inbox.sqlite").add_alerts(got.id, [alert(), alert().model_copy(update={"index": 1})])
    assert [r.id for r in again] == [r.id for r in rows]
    assert [d.id for d in Inbox(tmp_path / "inbox.sqlite").unfinished()] == [got.id]
    inbox.settle(rows[0].id, "waiting", "ambiguous")
    assert inbox.counts() == {"new": 1, "waiting": 1}
    with pytest.raises(ValueError):
        inbox.settle(rows[0].id, "vanished")


def test_a_delivery_another_live_worker_holds_is_not_taken_twice(tmp_path: Path) -> None:
    import threading

    inbox = Inbox(tmp_path / "inbox.sqlite")
    got = inbox.accept(source="am", fmt="alertmanager", body=b"{}", delivery_key=None, headers={}, via="cli")
    first = inbox.claim(got.id)
    assert first is not None and first[1] is False
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(Inbox(tmp_path / "inbox.sqlite").claim(got.id)))
    thread.start()
    thread.join()
    assert other == [None]  # this process is alive: its claim holds
    inbox.set_delivery(got.id, "done")
    assert inbox.claim(got.id) is None


def test_a_delivery_left_by_a_dead_worker_is_taken_over_as_a_recovery(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite")
    got = inbox.accept(source="am", fmt="alertmanager", body=b"{}", delivery_key=None, headers={}, via="cli")
    db = sqlite3.connect(tmp_path / "inbox.sqlite")
    db.execute("UPDATE deliveries SET state = 'processing', owner = 'ghost-host:1:1:1' WHERE id = ?", (got.id,))
    db.commit()
    taken = inbox.claim(got.id)
    assert taken is not None and taken[1] is True
