"""Prometheus Alertmanager webhook (`version: "4"`) and Grafana's variant (`version: "1"`).

One delivery is a group: it is split into one `Alert` per `alerts[i]`, each with its own
status. The incident key is `fingerprint` + `startsAt`: the same firing episode of the same label
set, whichever Alertmanager of an HA pair sent it and however often it is repeated. A new
episode of the same alert (it resolved, then fired again) has a new `startsAt`, so a new key.
Severity comes from the `severity` label (then `priority`); explicit agent ids from the labels
`agent_id`, `agent`, `agent_ir_agent_id` (each kept with its label, so a disagreement shows).
"""

from __future__ import annotations

import hashlib

from ir.alerts.formats import severity
from ir.alerts.formats.entities import EntityBag, strip_port
from ir.alerts.formats.reader import Fields, shown
from ir.alerts.formats.timestamps import iso
from ir.alerts.model import Alert, AlertFormatError

AGENT_LABELS = ("agent_id", "agent", "agent_ir_agent_id", "dev_agent_ir_agent_id")
"""Labels read as explicit agent ids, in this order."""

_CONTAINER_ID_LABELS = ("container_id",)
_CONTAINER_NAME_LABELS = ("container", "container_name", "name")
_HOST_LABELS = ("host", "hostname", "node", "nodename", "instance_id")
_TITLE_MAX = 300


def looks_like(body: dict[str, object]) -> bool:
    """Whether a decoded object is shaped like an Alertmanager or Grafana webhook body."""
    return isinstance(body.get("alerts"), list) and any(
        k in body for k in ("version", "groupKey", "receiver", "groupLabels", "commonLabels")
    )


def normalise(body: object, *, source: str) -> list[Alert]:
    """One `Alert` per alert of an Alertmanager (or Grafana) webhook group."""
    group = Fields(body, "")
    version = group.loose_text("version")
    grafana = version == "1" or group.has("orgId")
    group_status = group.text("status")
    alerts = group.objs("alerts", required=True)
    return [_one(item, i, group_status, grafana, source) for i, item in enumerate(alerts)]


def _one(item: Fields, index: int, group_status: str, grafana: bool, source: str) -> Alert:
    labels = item.string_map("labels", required=True)
    annotations = item.string_map("annotations")
    status = item.text("status") or group_status
    if status not in ("firing", "resolved"):
        raise AlertFormatError(f'{item.at("status")}: expected "firing" or "resolved", got {shown(status)}')
    starts_at = item.text("startsAt")
    fingerprint = item.text("fingerprint") or _fingerprint(labels)
    started = iso(starts_at) or starts_at[:64]  # an unreadable time still tells episodes apart
    return Alert(
        source=source,
        format="alertmanager",
        kind="grafana" if grafana else "alertmanager",
        source_id=fingerprint,
        incident_key=f"alertmanager:{fingerprint}:{started}",
        status="firing" if status == "firing" else "resolved",
        severity=_severity(labels),
        title=_title(labels, annotations),
        observed=iso(starts_at),
        entities=_entities(labels).freeze(),
        labels=labels,
        index=index,
    )


def _fingerprint(labels: dict[str, str]) -> str:
    # Alertmanager before 0.19 sent no fingerprint; the label set is what it is computed from.
    canonical = "\xff".join(f"{k}\xfe{v}" for k, v in sorted(labels.items()))
    return "labels-" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _severity(labels: dict[str, str]) -> str:
    for key in ("severity", "priority"):
        if key in labels:
            return severity.from_word(labels[key])
    return "unknown"


def _title(labels: dict[str, str], annotations: dict[str, str]) -> str:
    for key in ("summary", "title", "message", "description"):
        text = " ".join(annotations.get(key, "").split())
        if text:
            return text[:_TITLE_MAX]
    return " ".join(labels.get("alertname", "").split())[:_TITLE_MAX] or "Alertmanager alert"


def _entities(labels: dict[str, str]) -> EntityBag:
    bag = EntityBag()
    for key in AGENT_LABELS:
        if key in labels:
            bag.agent(labels[key], f"labels.{key}")
    for key in _CONTAINER_ID_LABELS:
        bag.container(cid=labels.get(key))
    for key in _CONTAINER_NAME_LABELS:
        bag.container(name=labels.get(key))
    bag.container(image=labels.get("image"))
    bag.pod(labels.get("namespace"), labels.get("pod"))
    bag.access_key(labels.get("access_key_id"))
    bag.user(labels.get("iam_user"))
    bag.role(labels.get("iam_role"))
    for key in ("role_arn", "user_arn", "arn"):
        bag.arn(labels.get(key))
    if "instance" in labels:
        bag.host(strip_port(labels["instance"]))
    for key in _HOST_LABELS:
        bag.host(labels.get(key))
    return bag
