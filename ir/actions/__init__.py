"""The verbs playbooks can name, one module per domain."""

from __future__ import annotations

from ir.actions.container import IsolateNetwork, Pause, RestoreNetwork, Stop, Unpause
from ir.actions.credentials import (
    DeactivateKeys,
    DenyAll,
    ReactivateKeys,
    RemoveConsoleAccess,
    RemoveDenyAll,
    RevokeSessions,
    Snapshot,
)
from ir.actions.evidence import ContainerSnapshot
from ir.actions.hosts import HostsAnsible
from ir.actions.incident import FollowUp, ReadIncident
from ir.actions.minted import FindMinted
from ir.actions.provider_tokens import RevokeHttp
from ir.actions.secrets import RotateSecrets
from ir.actions.timeline import Reconstruct
from ir.core.action import Registry


def default_registry() -> Registry:
    """Every action shipped with agent-ir."""
    return Registry(
        [
            Pause(),
            Unpause(),
            IsolateNetwork(),
            RestoreNetwork(),
            Stop(),
            ContainerSnapshot(),
            Snapshot(),
            DeactivateKeys(),
            ReactivateKeys(),
            DenyAll(),
            RemoveDenyAll(),
            RevokeSessions(),
            RemoveConsoleAccess(),
            RotateSecrets(),
            FindMinted(),
            RevokeHttp(),
            HostsAnsible(),
            Reconstruct(),
            ReadIncident(),
            FollowUp(),
        ]
    )
