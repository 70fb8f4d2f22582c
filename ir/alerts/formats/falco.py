"""Falco events as Falco's `json_output` writes them and falcosidekick forwards them.

Falco sends events, not alerts: nothing ever resolves, and a shell in a container is a burst of
events. falcosidekick stamps each event it receives with a fresh `uuid` (handlers.go), so the
uuid identifies one delivery, not an incident: it is the `source_id` (a retried delivery keeps
it). The incident key folds a burst: rule + container (else pod, else host) + a 5-minute window
of the event time. Without a uuid (Falco's own HTTP output), the source id is a hash of rule,
time and output, the same for a re-sent event.

Entities come from `output_fields`: `container.id`, `container.name`, `container.image.*`,
`k8s.ns.name`/`k8s.pod.name`, container and pod labels naming an agent id, and `hostname`.
Fields Falco could not resolve arrive as `null` or `<NA>`; Falco's host pseudo-container is `host`.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from ir.alerts.formats import severity
from ir.alerts.formats.entities import AGENT_TAG_KEYS, EntityBag
from ir.alerts.formats.reader import Fields, join
from ir.alerts.formats.timestamps import iso, parse_time
from ir.alerts.model import Alert

WINDOW_SECONDS = 300
"""Events of one rule on one container within this window are one incident."""

_LABEL_FIELDS = (
    *(f"{prefix}[{key}]" for prefix in ("container.label", "k8s.pod.label") for key in AGENT_TAG_KEYS),
    "agent_id",
    "agent.id",
)
_TITLE_MAX = 300


def looks_like(body: dict[str, object]) -> bool:
    """Whether a decoded object is shaped like a Falco event."""
    return isinstance(body.get("rule"), str) and "priority" in body and ("output" in body or "output_fields" in body)


def normalise(body: object, *, source: str) -> list[Alert]:
    """One `Alert` for one Falco event."""
    event = Fields(body, "")
    rule = event.text("rule", required=True)
    priority = event.text("priority", required=True)
    output = event.text("output")
    when = event.text("time")
    fields = event.obj("output_fields")
    tags = event.strings("tags")
    hostname = event.text("hostname")
    bag = EntityBag()
    labels = {"rule": rule, "priority": priority, "source": event.text("source"), "hostname": hostname}
    if tags:
        labels["tags"] = ",".join(tags)
    if fields is not None:
        _entities(fields, bag)
        for key, value in fields.scalars():
            labels.setdefault(key, value)
    bag.host(hostname)
    entities = bag.freeze()
    uuid = event.text("uuid")
    source_id = uuid or "falco-" + _digest(rule, when, output)
    who = next(iter(entities.container_ids + entities.container_names + entities.pods + entities.hosts), "-")
    return [
        Alert(
            source=source,
            format="falco",
            kind="falco",
            source_id=source_id,
            incident_key=f"falco:{_digest(rule, who)}:{_window(when) or source_id}",
            status="firing",
            severity=severity.from_falco(priority),
            title=" ".join(rule.split())[:_TITLE_MAX] or "Falco event",
            observed=iso(when),
            entities=entities,
            labels={k: v for k, v in labels.items() if v},
            index=0,
        )
    ]


def _entities(fields: Fields, bag: EntityBag) -> None:
    for key in _LABEL_FIELDS:
        value = fields.get(key)
        if isinstance(value, str):
            bag.agent(value, join("output_fields", key))
    bag.container(cid=_text(fields, "container.id"), name=_text(fields, "container.name"))
    bag.image(
        _text(fields, "container.image.repository") or _text(fields, "container.image"),
        _text(fields, "container.image.tag"),
        _text(fields, "container.image.digest"),
    )
    bag.pod(_text(fields, "k8s.ns.name"), _text(fields, "k8s.pod.name"))


def _text(fields: Fields, key: str) -> str:
    # A non-string value (a number where an id was expected) is not an entity.
    value = fields.get(key)
    return value if isinstance(value, str) else ""


def _window(when: str) -> str:
    parsed = parse_time(when)
    if parsed is None:
        return ""
    start = int(parsed.timestamp()) // WINDOW_SECONDS * WINDOW_SECONDS
    return datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.sha256(joined).hexdigest()[:16]
