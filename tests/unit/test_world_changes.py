"""World changes of an exercise, as the attacker and the agent make them in the simulated world:
what is applied leaves the traces a responder would find; what AWS would refuse is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ir.actions.minted import walk
from ir.backends.simulated_cloud import SimulatedCloud
from ir.backends.world_changes import SimulatedWorldChanges
from ir.backends.world_store import WorldStore
from ir.core.errors import BackendUnavailable

SEED = """\
containers:
  bot: {status: running, networks: {agents-net: {aliases: [bot]}}}
  frozen-bot: {status: paused, networks: {agents-net: {aliases: [frozen-bot]}}}
iam:
  users:
    agent-bot:
      access_keys: [{id: AKIABOT0000000000001, status: Active}, {id: AKIABOT0000000000002, status: Inactive}]
    denied-bot:
      access_keys: [{id: AKIADENIED0000000001, status: Active}]
      inline_policies: {agent-ir-deny-all: {Statement: []}}
  roles:
    bot-runtime: {}
secrets:
  agent/bot/openai: {}
"""


@pytest.fixture
def world(tmp_path: Path) -> tuple[SimulatedWorldChanges, WorldStore]:
    (tmp_path / "world.yaml").write_text(SEED)
    store = WorldStore(tmp_path / ".ir" / "world.json", tmp_path / "world.yaml")
    changes = SimulatedWorldChanges(store)
    changes.start()
    return changes, store


def state(store: WorldStore) -> dict[str, Any]:
    with store.open(write=False) as current:
        return current


def test_a_minted_key_is_active_and_find_minted_follows_its_cloudtrail(
    world: tuple[SimulatedWorldChanges, WorldStore],
) -> None:
    changes, store = world
    made = changes.apply(
        {"op": "create_user", "user": "helper", "key": "AKIAHELPER0000000001", "by": "AKIABOT0000000000001"}
    )
    assert made["applied"] is True
    minted = changes.apply(
        {"op": "mint_key", "user": "helper", "key": "AKIAHELPER0000000002", "by": "AKIAHELPER0000000001"}
    )
    assert minted["applied"] is True
    current = state(store)
    assert [k["status"] for k in current["iam"]["users"]["helper"]["access_keys"]] == ["Active", "Active"]
    found = walk(current["cloudtrail"], {"agent-bot"}, set())
    assert found["users"] == ["helper"]
    assert found["access_keys"] == {"helper": ["AKIAHELPER0000000001", "AKIAHELPER0000000002"]}
    events = SimulatedCloud(store).lookup_events("agent-bot", "1970-01-01T00:00:00Z")
    assert [e["eventName"] for e in events] == ["CreateUser", "CreateAccessKey"]


@pytest.mark.parametrize(
    ("by", "why"),
    [
        ("AKIABOT0000000000002", "access key AKIABOT0000000000002 is Inactive"),
        ("AKIADENIED0000000001", "user denied-bot is denied by agent-ir-deny-all"),
        ("AKIANOBODY0000000001", "no principal or access key AKIANOBODY0000000001"),
    ],
)
def test_a_change_made_with_a_dead_key_is_refused_as_aws_would(
    world: tuple[SimulatedWorldChanges, WorldStore], by: str, why: str
) -> None:
    changes, store = world
    done = changes.apply({"op": "mint_key", "user": "agent-bot", "key": "AKIANEW0000000000001", "by": by})
    assert done["applied"] is False and why in done["why"]
    current = state(store)
    assert len(current["iam"]["users"]["agent-bot"]["access_keys"]) == 2
    assert current["cloudtrail"][-1]["errorCode"] == "AccessDenied"
    assert walk(current["cloudtrail"], {"agent-bot"}, set())["access_keys"] == {}  # a refused call mints nothing


def test_egress_and_spend_need_a_running_connected_container(world: tuple[SimulatedWorldChanges, WorldStore]) -> None:
    changes, store = world
    assert changes.apply({"op": "egress", "agent": "bot", "container": "bot", "url": "https://paste.example"})[
        "applied"
    ]
    assert state(store)["containers"]["bot"]["logs"][-1].endswith("POST https://paste.example")
    frozen = changes.apply({"op": "spend", "agent": "frozen-bot", "container": "frozen-bot", "usd": 40.0})
    assert frozen == {**frozen, "applied": False, "why": "container frozen-bot is paused"}
    assert changes.apply({"op": "spend", "agent": "bot", "container": "bot", "usd": 12.5})["total_usd"] == 12.5
    assert changes.apply({"op": "spend", "agent": "bot", "container": "bot", "usd": 12.5})["total_usd"] == 25.0


def test_a_fault_makes_the_next_call_fail(world: tuple[SimulatedWorldChanges, WorldStore]) -> None:
    changes, store = world
    assert changes.apply({"op": "fault", "operation": "set_key_status", "kind": "unavailable"})["applied"]
    with pytest.raises(BackendUnavailable):
        SimulatedCloud(store).set_key_status("agent-bot", "AKIABOT0000000000001", "Inactive")
    assert changes.apply({"op": "fault", "operation": "x", "kind": "sideways"})["applied"] is False


def test_roles_and_secrets(world: tuple[SimulatedWorldChanges, WorldStore]) -> None:
    changes, store = world
    assert changes.apply({"op": "create_role", "role": "escalated", "by": "agent-bot"})["applied"]
    assert changes.apply({"op": "create_role", "role": "escalated", "by": "agent-bot"})["applied"] is False
    read = changes.apply({"op": "read_secret", "secret": "agent/bot/openai", "by": "AKIABOT0000000000001"})
    assert read["applied"] and state(store)["cloudtrail"][-1]["eventName"] == "GetSecretValue"
    assert "escalated" in state(store)["iam"]["roles"]
