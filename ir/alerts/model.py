"""The one shape every alert source is normalised into: a frozen `Alert` with its entities.

Entities are what the alert names that could lead to an agent, strongest evidence first in
`resolve`: explicit agent ids, containers, Kubernetes pods, cloud identities, images, hosts.
Every string is kept as the source sent it (hostile text is neutralised where it is shown).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ir.core.errors import InputError

FORMATS = ("alertmanager", "eventbridge", "falco", "cloudevents")
"""Source formats agent-ir reads (`--source FORMAT`, `sources.<name>.format` in ir.yaml)."""


class AlertFormatError(InputError):
    """A body that is not a valid alert of its format; the message names the place (`alerts[2].labels`)."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Entities(_Model):
    """What an alert names that may identify the agent(s) it is about."""

    agent_ids: tuple[str, ...] = ()
    """Explicit agent ids (label `agent_id`, tag `agent-ir:agent-id`, CloudEvent extension `agentid`)."""
    agent_id_sources: tuple[str, ...] = ()
    """Where each explicit id was read, parallel to `agent_ids` (`labels.agent_id`): disagreement is shown."""
    container_ids: tuple[str, ...] = ()
    """Container ids (full or the 12-character short form)."""
    container_names: tuple[str, ...] = ()
    """Container names."""
    images: tuple[str, ...] = ()
    """Container images (`registry/name:tag` or a digest)."""
    pods: tuple[str, ...] = ()
    """Kubernetes pods as `namespace/pod`."""
    access_key_ids: tuple[str, ...] = ()
    """AWS access key ids (`AKIA…`, `ASIA…`)."""
    iam_users: tuple[str, ...] = ()
    """IAM user names."""
    iam_roles: tuple[str, ...] = ()
    """IAM role names (from a role ARN or an assumed-role ARN)."""
    role_sessions: tuple[str, ...] = ()
    """Assumed-role session names (`arn:aws:sts::…:assumed-role/ROLE/SESSION` → SESSION)."""
    hosts: tuple[str, ...] = ()
    """Host names or instance ids (weakest evidence: hosts run many agents)."""


class Alert(_Model):
    """One normalised notification from one source about one thing (a group is split per alert)."""

    source: str
    """The `ir.yaml` source name it arrived on (`alertmanager`, `guardduty`, …), or the format for `ir contain`."""
    format: Literal["alertmanager", "eventbridge", "falco", "cloudevents"]
    """Which format it was read as."""
    kind: str
    """The source's own type: `alertmanager`, `grafana`, `guardduty`, `securityhub-asff`,
    `securityhub-ocsf`, `falco`, `cloudevents`, `agt` (Agent Governance Toolkit)."""
    source_id: str
    """The id the source gave this alert (fingerprint, finding id, Falco uuid, CloudEvent id)."""
    incident_key: str
    """What stays the same across repeats and updates of one incident (dedup and correlation)."""
    status: Literal["firing", "resolved"]
    """`resolved` is journalled and never releases anything."""
    severity: str
    """Normalised: `critical`, `high`, `medium`, `low`, `info`, or `unknown`."""
    title: str
    """One line a person reads first."""
    observed: str
    """When the source says it happened, ISO 8601 UTC (`2026-09-02T13:08:45.828000+00:00`); "" if it did not say."""
    entities: Entities = Field(default_factory=Entities)
    """What may identify the agent(s)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Flat string fields routes may match on (Alertmanager labels, finding `type`, Falco `rule`/`priority`…)."""
    index: int = 0
    """Position within its delivery (an Alertmanager group's `alerts[i]`, an ASFF `findings[i]`)."""
