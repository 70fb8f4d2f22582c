"""Which agent(s) an alert is about, strongest evidence first, and which rule decided it.

explicit agent id → container (id, name, or the Docker label `dev.agent-ir.agent-id`) →
cloud identity (access key id, IAM user, IAM role, assumed-role session) → image → host.
The first rule that matches anything decides. One agent: attributed. Several agents through a
shared dependency (a credential, an image) is a fleet — every holder of a leaked key must be
contained. Several through anything else (two labels that disagree, a host running many agents)
is ambiguous. Nothing, or an id the inventory does not know: unattributed. Ambiguous and
unattributed alerts never contain anything on their own: they wait for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ir.alerts.model import Alert
from ir.core.inventory import Agent, Inventory

AGENT_LABEL = "dev.agent-ir.agent-id"
"""The Docker label naming a container's agent (for containers the inventory does not name)."""

RULES = ("explicit", "container", "credential", "image", "host")
"""Resolution rules, strongest first."""

FLEET_RULES = frozenset({"credential", "image"})
"""Rules whose several matches are one shared dependency (a fleet), not a doubt."""

ContainerLabels = Callable[[str], dict[str, str] | None]
"""A container id or name → its labels (None when there is no such container)."""


@dataclass(frozen=True)
class Resolution:
    """The agents an alert is about, how sure we are, and why."""

    state: Literal["attributed", "fleet", "ambiguous", "unattributed"]
    rule: str
    """The rule that decided (`explicit`, `container`, …), "" when none matched."""
    agents: tuple[str, ...]
    """The agents (for `ambiguous`: the candidates)."""
    detail: str
    """One line a person reads: what matched what."""
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """Agent → what tied it to the alert (`labels.agent_id=support-bot`, `access key AKIA…`)."""

    @property
    def actionable(self) -> bool:
        """Whether containment may start without a person choosing the agent."""
        return self.state in ("attributed", "fleet")

    def as_dict(self) -> dict[str, Any]:
        """For the inbox and the journal."""
        return {
            "state": self.state,
            "rule": self.rule,
            "agents": list(self.agents),
            "detail": self.detail,
            "evidence": self.evidence,
        }


def resolve(
    alert: Alert,
    inventory: Inventory,
    container_labels: ContainerLabels | None = None,
    fleet_rules: Iterable[str] = FLEET_RULES,
) -> Resolution:
    """The agents `alert` is about (see the module docstring for the order and the states)."""
    ent = alert.entities
    if ent.agent_ids:
        return _explicit(alert, inventory)
    for rule, matches in (
        ("container", _containers(alert, inventory, container_labels)),
        ("credential", _credentials(alert, inventory)),
        ("image", _by(inventory, ent.images, lambda a: (a.container.image,) if a.container else (), "image")),
        ("host", _by(inventory, ent.hosts, lambda a: a.hosts, "host")),
    ):
        if not matches:
            continue
        agents = tuple(sorted(matches))
        said = "; ".join(f"{agent}: {', '.join(why)}" for agent, why in sorted(matches.items()))
        if len(agents) == 1:
            return Resolution("attributed", rule, agents, f"{rule}: {said}", matches)
        if rule in set(fleet_rules):
            return Resolution("fleet", rule, agents, f"{rule} shared by {len(agents)} agents: {said}", matches)
        return Resolution("ambiguous", rule, agents, f"{rule} matches {len(agents)} agents: {said}", matches)
    return Resolution("unattributed", "", (), "nothing in the alert names an agent of the inventory")


def _explicit(alert: Alert, inventory: Inventory) -> Resolution:
    ent = alert.entities
    sources = ent.agent_id_sources or tuple("agent id" for _ in ent.agent_ids)
    said: dict[str, list[str]] = {}
    for agent_id, where in zip(ent.agent_ids, sources, strict=False):
        said.setdefault(agent_id, []).append(f"{where}={agent_id}")
    if len(said) > 1:
        text = ", ".join(w for ws in said.values() for w in ws)
        return Resolution("ambiguous", "explicit", tuple(sorted(said)), f"explicit agent ids disagree: {text}", said)
    (agent_id,) = said
    if agent_id not in inventory.agents:
        text = f"{said[agent_id][0]}: no agent {agent_id!r} in the inventory"
        return Resolution("unattributed", "explicit", (), text, said)
    return Resolution("attributed", "explicit", (agent_id,), f"explicit: {said[agent_id][0]}", said)


def _containers(alert: Alert, inventory: Inventory, labels_of: ContainerLabels | None) -> dict[str, list[str]]:
    """Agents whose container the alert names (by id prefix, name, or the container's agent label)."""
    ent = alert.entities
    found: dict[str, list[str]] = {}
    for agent in inventory.agents.values():
        ref = agent.container
        if ref is None:
            continue
        for cid in ent.container_ids:
            if ref.id and _same_id(ref.id, cid):
                found.setdefault(agent.id, []).append(f"container id {cid}")
        for name in ent.container_names:
            if ref.name and ref.name == name.lstrip("/"):
                found.setdefault(agent.id, []).append(f"container name {name}")
    if found or labels_of is None:
        return found
    for seen in (*ent.container_ids, *ent.container_names):
        labels = labels_of(seen) or {}
        agent_id = labels.get(AGENT_LABEL)
        if agent_id and agent_id in inventory.agents:
            found.setdefault(agent_id, []).append(f"container {seen} label {AGENT_LABEL}={agent_id}")
    return found


def _same_id(known: str, seen: str) -> bool:
    """Container ids match when one is a prefix of the other and the shorter has 12+ characters."""
    a, b = known.lower(), seen.lower()
    short = min(len(a), len(b))
    return short >= 12 and a[:short] == b[:short]


def _credentials(alert: Alert, inventory: Inventory) -> dict[str, list[str]]:
    """Agents holding a credential the alert names (access key id, IAM user, role, session)."""
    ent = alert.entities
    wanted = (
        ("access_key_id", ent.access_key_ids, "access key"),
        ("user_name", ent.iam_users, "IAM user"),
        ("role_name", ent.iam_roles, "IAM role"),
        ("session_name", ent.role_sessions, "role session"),
    )
    found: dict[str, list[str]] = {}
    for agent in inventory.agents.values():
        for cred in agent.credentials:
            extra = cred.model_extra or {}
            for key, values, what in wanted:
                if key in extra and str(extra[key]) in values:
                    found.setdefault(agent.id, []).append(f"{what} {extra[key]}")
    return found


def _by(
    inventory: Inventory, values: tuple[str, ...], of: Callable[[Agent], Iterable[str | None]], what: str
) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if not values:
        return found
    for agent in inventory.agents.values():
        for mine in of(agent):
            if mine and mine in values:
                found.setdefault(agent.id, []).append(f"{what} {mine}")
    return found


def affected(inventory: Inventory, *, credential: str = "", image: str = "", host: str = "") -> list[tuple[str, str]]:
    """(agent, why) for every agent holding `credential` (a key id, user, role, secret id or any
    credential field's value), running `image`, or placed on `host`."""
    out: list[tuple[str, str]] = []
    for agent in inventory.agents.values():
        if credential:
            for cred in agent.credentials:
                for key, value in (cred.model_extra or {}).items():
                    if str(value) == credential:
                        out.append((agent.id, f"{cred.type} {key}={value}"))
        if image and agent.container and agent.container.image == image:
            out.append((agent.id, f"container {agent.container.ref} runs {image}"))
        if host and host in agent.hosts:
            out.append((agent.id, f"runs on host {host}"))
    return out
