"""CloudEvents 1.0 (structured mode, single or batch) and the Agent Governance Toolkit's events.

Three shapes are read:

* `dev.agent-ir.alert`, agent-ir's own type for custom guards and gateways. The extension
  `agentid` is required (it is the explicit agent id). `data` is optional and may hold `title`,
  `severity` (critical/high/medium/low/info), `status` (firing/resolved), `incident` (what repeats
  share; default the event `id`), `labels` (string map), and entity hints `container`,
  `container_id`, `image`, `pod` (`namespace/pod`), `host`, `access_key_id`, `iam_user`, `iam_role`.
  Incident key: `cloudevents:<source>:<incident>`.
* The Agent Governance Toolkit's audit export, `ai.agentmesh.*` with `source` `did:agentmesh:<agent>`
  (`AuditEntry.to_cloudevent`); the agent is read from the DID.
* The Agent Governance Toolkit's plain webhook event `{event_type, agent_id, action, details,
  timestamp, severity}` (`WebhookNotifier`), which is not a CloudEvent at all.

AGT events are events, each its own incident (`agt:<id>`); repeats for one agent fold into its
open case downstream. Any other CloudEvent type is refused with the types agent-ir reads.
"""

from __future__ import annotations

import hashlib

from ir.alerts.formats import severity
from ir.alerts.formats.entities import EntityBag
from ir.alerts.formats.reader import Fields, join, kind_of, shown
from ir.alerts.formats.timestamps import iso
from ir.alerts.model import Alert, AlertFormatError

ALERT_TYPE = "dev.agent-ir.alert"
AGENT_EXTENSION = "agentid"
AGT_TYPE_PREFIX = "ai.agentmesh."
AGT_DID_PREFIX = "did:agentmesh:"

_AGT_SEVERITY = {"ai.agentmesh.policy.violation": "high", "ai.agentmesh.tool.blocked": "high"}
_TITLE_MAX = 300


def looks_like(body: object) -> bool:
    """Whether a decoded body is a CloudEvent, a batch of them, or an AGT webhook event."""
    if isinstance(body, list):
        return bool(body) and all(isinstance(e, dict) and "specversion" in e for e in body)
    if not isinstance(body, dict):
        return False
    return "specversion" in body or ("event_type" in body and "agent_id" in body)


def normalise(body: object, *, source: str) -> list[Alert]:
    """One `Alert` per CloudEvent (a batch is a JSON list), or one for an AGT webhook event."""
    if isinstance(body, list):
        return [_event(Fields(e, join("", i)), i, source) for i, e in enumerate(body)]
    event = Fields(body, "")
    if "specversion" not in event.data and "event_type" in event.data:
        return [_agt_webhook(event, source)]
    return [_event(event, 0, source)]


def _event(event: Fields, index: int, source: str) -> Alert:
    version = event.text("specversion", required=True)
    if version != "1.0":
        raise AlertFormatError(f'{event.at("specversion")}: expected "1.0", got {shown(version)}')
    event_id = event.text("id", required=True)
    ce_source = event.text("source", required=True)
    ce_type = event.text("type", required=True)
    if ce_type == ALERT_TYPE:
        return _agent_ir_alert(event, index, event_id, ce_source, source)
    if ce_type.startswith(AGT_TYPE_PREFIX):
        return _agt_audit(event, index, event_id, ce_source, ce_type, source)
    raise AlertFormatError(
        f"{event.at('type')}: {shown(ce_type)} is not a CloudEvent type agent-ir reads "
        f"({ALERT_TYPE}, {AGT_TYPE_PREFIX}*)"
    )


def _data(event: Fields) -> Fields | None:
    data = event.get("data")
    if data is None or isinstance(data, dict):
        return event.obj("data")
    raise AlertFormatError(f"{event.at('data')}: expected an object, got {kind_of(data)}")


def _agent_ir_alert(event: Fields, index: int, event_id: str, ce_source: str, source: str) -> Alert:
    agent = event.text(AGENT_EXTENSION)
    if not agent.strip():
        raise AlertFormatError(f"{event.at(AGENT_EXTENSION)}: required for type {ALERT_TYPE}, missing")
    data = _data(event)
    bag = EntityBag()
    bag.agent(agent, f"extension {AGENT_EXTENSION}")
    labels: dict[str, str] = {"type": ALERT_TYPE}
    status, sev, title, incident = "firing", "unknown", "", event_id
    if data is not None:
        labels.update(data.string_map("labels"))
        status = data.text("status") or "firing"
        if status not in ("firing", "resolved"):
            raise AlertFormatError(f'{data.at("status")}: expected "firing" or "resolved", got {shown(status)}')
        sev = severity.from_word(data.text("severity")) if data.text("severity") else "unknown"
        title = data.text("title")
        incident = data.text("incident") or event_id
        bag.container(cid=data.text("container_id"), name=data.text("container"), image=data.text("image"))
        pod = data.text("pod")
        namespace, _, name = pod.rpartition("/")
        bag.pod(namespace, name)
        bag.host(data.text("host"))
        bag.access_key(data.text("access_key_id"))
        bag.user(data.text("iam_user"))
        bag.role(data.text("iam_role"))
    return Alert(
        source=source,
        format="cloudevents",
        kind="cloudevents",
        source_id=event_id,
        incident_key=f"cloudevents:{ce_source}:{incident}",
        status="resolved" if status == "resolved" else "firing",
        severity=sev,
        title=_one_line(title or event.text("subject") or ALERT_TYPE),
        observed=iso(event.get("time")),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=index,
    )


def _agt_audit(event: Fields, index: int, event_id: str, ce_source: str, ce_type: str, source: str) -> Alert:
    if not ce_source.startswith(AGT_DID_PREFIX) or not ce_source[len(AGT_DID_PREFIX) :].strip():
        raise AlertFormatError(f"{event.at('source')}: expected did:agentmesh:<agent>, got {shown(ce_source)}")
    bag = EntityBag()
    bag.agent(ce_source[len(AGT_DID_PREFIX) :], "source (did:agentmesh)")
    data = _data(event)
    labels: dict[str, str] = {"type": ce_type}
    if data is not None:
        for key, value in data.scalars():
            labels.setdefault(key, value)
    action, outcome = labels.get("action", ""), labels.get("outcome", "")
    title = ce_type.removeprefix(AGT_TYPE_PREFIX)
    title += (f": {action}" if action else "") + (f" ({outcome})" if outcome else "")
    return Alert(
        source=source,
        format="cloudevents",
        kind="agt",
        source_id=event_id,
        incident_key=f"agt:{event_id}",
        status="firing",
        severity=_AGT_SEVERITY.get(ce_type, "info"),
        title=_one_line(title),
        observed=iso(event.get("time")),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=index,
    )


def _agt_webhook(event: Fields, source: str) -> Alert:
    event_type = event.text("event_type", required=True)
    agent = event.text("agent_id", required=True)
    action = event.text("action")
    timestamp = event.text("timestamp")
    details = event.obj("details")
    bag = EntityBag()
    bag.agent(agent, "agent_id")
    labels: dict[str, str] = {"event_type": event_type, "action": action, "severity": event.text("severity")}
    if details is not None:
        for key, value in details.scalars():
            labels.setdefault(key, value)
    digest = hashlib.sha256("\x1f".join((event_type, agent, action, timestamp)).encode("utf-8", "surrogatepass"))
    source_id = "agt-" + digest.hexdigest()[:16]
    return Alert(
        source=source,
        format="cloudevents",
        kind="agt",
        source_id=source_id,
        incident_key=f"agt:{source_id}",
        status="firing",
        severity=severity.from_word(labels["severity"]) if labels["severity"] else "unknown",
        title=_one_line(f"{event_type}: {action}" if action else event_type),
        observed=iso(timestamp),
        entities=bag.freeze(),
        labels={k: v for k, v in labels.items() if v},
        index=0,
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_TITLE_MAX]
