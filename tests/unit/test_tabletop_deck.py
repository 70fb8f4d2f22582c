"""The shipped deck (`tabletop/*.yaml`): every scenario loads, is drawn from the reference catalogue,
can punish a slow team, and carries alerts the alert path really reads and attributes.

The `--auto` regression (every scenario's reference response scores every engine and world
expectation as passed) runs the deck through `ir tabletop run`; these tests check what can be
checked from the files alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ir.alerts.formats import decode, normalise
from ir.alerts.resolve import resolve
from ir.alerts.route import choose
from ir.core.alert_settings import Route
from ir.core.inventory import Inventory
from ir.tabletop.scenario import ASI_IDS, CONDITION, Scenario, load_scenario
from ir.timeline.sources.toollog import is_tool_record

REPO = Path(__file__).resolve().parents[2]
DECK = REPO / "tabletop"
FILES = sorted(DECK.glob("*.yaml"))

ATLAS_TECHNIQUES = {
    "AML.T0010.005": "AI Supply Chain Compromise: AI Agent Tool",
    "AML.T0034.002": "Cost Harvesting: Agentic Resource Consumption",
    "AML.T0051": "LLM Prompt Injection",
    "AML.T0051.000": "LLM Prompt Injection: Direct",
    "AML.T0051.001": "LLM Prompt Injection: Indirect",
    "AML.T0053": "AI Agent Tool Invocation",
    "AML.T0055": "Unsecured Credentials",
    "AML.T0061": "LLM Prompt Self-Replication",
    "AML.T0080": "AI Agent Context Poisoning",
    "AML.T0080.000": "AI Agent Context Poisoning: Memory",
    "AML.T0080.001": "AI Agent Context Poisoning: Thread",
    "AML.T0081": "Modify AI Agent Configuration",
    "AML.T0083": "Credentials from AI Agent Configuration",
    "AML.T0086": "Exfiltration via AI Agent Tool Invocation",
    "AML.T0098": "AI Agent Tool Credential Harvesting",
    "AML.T0101": "Data Destruction via AI Agent Tool Invocation",
    "AML.T0103": "Deploy AI Agent",
    "AML.T0104": "Publish Poisoned AI Agent Tool",
    "AML.T0109": "AI Supply Chain Rug Pull",
    "AML.T0110": "AI Agent Tool Poisoning",
}
"""The MITRE ATLAS (5.6) agent techniques the deck maps to (the reference catalogue, issue 13)."""

DEFAULT_ROUTES = (Route(name="contain-compromised-agent", playbook="agent-compromise"),)
"""An exercise without `alerts:` routes every alert to agent-compromise under auto_then_approve."""


def scenario(path: Path) -> Scenario:
    return load_scenario(path)


def deck() -> list[Scenario]:
    return [scenario(path) for path in FILES]


def condition(text: str) -> tuple[str, str]:
    """(`contained`, `support-bot`) from `contained(support-bot)`."""
    found = CONDITION.match(text)
    assert found is not None, text
    return found.group(1), found.group(2)


def test_the_deck_has_at_least_six_scenarios_together_covering_every_asi_category() -> None:
    scenarios = deck()
    assert len(scenarios) >= 6
    covered = {asi for s in scenarios for asi in s.references.asi}
    assert sorted(set(ASI_IDS) - covered) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_scenario_loads_is_named_for_its_file_and_is_drawn_from_a_public_incident(path: Path) -> None:
    s = scenario(path)
    assert s.id == path.stem
    assert s.references.incident and s.references.links
    assert all(link.startswith("https://") for link in s.references.links)
    assert 2 <= len(s.objectives) <= 4
    assert {o.id for o in s.objectives} == {e.objective for e in s.expectations}, "an objective nothing measures"
    unknown = [t for t in s.references.atlas if t not in ATLAS_TECHNIQUES]
    assert unknown == [], f"ATLAS ids outside the reference catalogue: {unknown}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_scenario_has_an_alert_and_a_world_change_that_only_happens_to_a_slow_team(path: Path) -> None:
    s = scenario(path)
    assert any(i.alert for i in s.injects)
    punishing = [i for i in s.injects if i.world and i.unless]
    assert punishing, "no world change with `unless`: slowness costs nothing"
    agents = set(s.world.agents)
    for inject in punishing:
        what, arg = condition(inject.unless or "")
        assert what in ("contained", "frozen", "revoked") and arg in agents, inject.id


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_world_changes_name_things_the_world_has(path: Path) -> None:
    s = scenario(path)
    users = dict(s.world.iam.get("users", {}))
    keys = {k["id"] for spec in users.values() for k in spec.get("access_keys", [])}
    for inject in s.injects:
        for change in inject.world:
            where = f"{inject.id}: {change.op}"
            if change.op in ("egress", "spend"):
                assert change.agent in s.world.agents, where
            if change.log is not None:
                assert change.log in s.world.logs, where
            if change.op == "read_secret":
                assert change.secret in s.world.secrets, where
            if change.op == "mint_key":
                assert change.user in users, where
            if change.by is not None:
                assert change.by in keys or change.by in users, f"{where}: by {change.by!r}"
            if change.op in ("mint_key", "create_user"):
                assert change.key is None or change.key not in keys, f"{where}: key {change.key} exists"
                users.setdefault(str(change.user), {})
                keys.add(str(change.key))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_alert_is_read_in_its_sources_format_attributed_to_the_world_and_routed(path: Path) -> None:
    s = scenario(path)
    inventory = Inventory.model_validate({"agents": s.world.agents})
    routes = s.alerts.routes if s.alerts else DEFAULT_ROUTES
    for inject in (i for i in s.injects if i.alert):
        assert inject.alert is not None
        source = inject.alert.source
        fmt = s.alerts.sources[source].format if s.alerts else source
        raw = (path.parent / inject.alert.file).read_bytes() if inject.alert.file else None
        body = decode(raw) if raw is not None else inject.alert.body
        for alert in normalise(fmt, body, source=source):
            found = resolve(alert, inventory, None, routes[0].fleet_by)
            assert found.state in ("attributed", "fleet"), f"{inject.id}: {found.detail}"
            assert set(found.agents) <= set(inventory.agents)
            assert choose(alert, routes) is not None, f"{inject.id}: no route takes {alert.title!r}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tool_log_lines_in_the_world_and_in_injects_are_records_the_timeline_reads(path: Path) -> None:
    s = scenario(path)
    jsonl = {src.get("path") for a in s.world.agents.values() for src in a.get("logs", []) if src["type"] == "jsonl"}
    assert jsonl, "no agent has a JSONL tool log"
    lines = [(p, line) for p in jsonl for line in s.world.logs[str(p)].splitlines()]
    lines += [(log.path, line) for i in s.injects for log in i.logs for line in log.lines]
    for where, line in lines:
        record = json.loads(line)
        assert is_tool_record(record), f"{where}: {line[:80]}"
        assert record["agent"] in s.world.agents, f"{where}: {line[:80]}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_reference_response_can_meet_every_decision_and_manual_expectation(path: Path) -> None:
    s = scenario(path)
    decided = {(m.agent, m.decide) for m in s.reference if m.decide}
    for e in s.expectations:
        if e.decision:
            assert (e.decision.agent, e.decision.decision) in decided, e.id
        if e.manual is not None:
            assert any(m.mark == e.id for m in s.reference), f"{e.id} is never marked"
    assert any(m.approve for m in s.reference), "no approver move"
    for text in s.end.when:
        what, arg = condition(text)
        assert arg in s.world.agents or what == "delivered"
