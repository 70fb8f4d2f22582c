"""The verbs playbooks can name, one module per domain."""

from __future__ import annotations

from ir.actions.container import IsolateNetwork, Pause, RestoreNetwork, Stop, Unpause
from ir.actions.evidence import ContainerSnapshot
from ir.core.action import Registry


def default_registry() -> Registry:
    """Every action shipped with agent-ir."""
    return Registry([Pause(), Unpause(), IsolateNetwork(), RestoreNetwork(), Stop(), ContainerSnapshot()])
