"""The inbox's rows as Python values: a delivery, an alert and what became of it, the breaker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ir.alerts.model import Alert


@dataclass(frozen=True)
class Accepted:
    """What `accept` did: the inbox id, and whether the delivery key was seen before."""

    id: int
    duplicate: bool


@dataclass(frozen=True)
class Delivery:
    """One accepted request body, as committed."""

    id: int
    received: str
    source: str
    format: str
    delivery_key: str
    sha256: str
    body: bytes
    headers: dict[str, str]
    via: str
    state: str
    reason: str | None
    duplicates: int


@dataclass(frozen=True)
class AlertRow:
    """One alert of a delivery and what became of it."""

    id: int
    delivery: int
    index: int
    incident_key: str
    alert: Alert
    outcome: str
    reason: str
    resolution: dict[str, Any]
    route: str
    policy: str
    cases: list[dict[str, Any]]
    updated: str
    received: str = ""
    """When its delivery was committed to the inbox (ISO 8601 UTC)."""

    @property
    def ref(self) -> str:
        """`DELIVERY.INDEX`, as `ir alerts` names it."""
        return f"{self.delivery}.{self.index}"


@dataclass(frozen=True)
class BreakerState:
    """Whether automation is stopped, since when, why, and who last changed it."""

    open: bool
    since: str
    reason: str
    by: str


def delivery_row(row: Sequence[Any]) -> Delivery:
    return Delivery(
        id=int(row[0]),
        received=str(row[1]),
        source=str(row[2]),
        format=str(row[3]),
        delivery_key=str(row[4]),
        sha256=str(row[5]),
        body=bytes(row[6]),
        headers=dict(json.loads(row[7])),
        via=str(row[8]),
        state=str(row[9]),
        reason=row[10],
        duplicates=int(row[11]),
    )


def alert_row(row: Sequence[Any]) -> AlertRow:
    return AlertRow(
        id=int(row[0]),
        delivery=int(row[1]),
        index=int(row[2]),
        incident_key=str(row[3]),
        alert=Alert.model_validate_json(row[4]),
        outcome=str(row[5]),
        reason=str(row[6]),
        resolution=dict(json.loads(row[7])),
        route=str(row[8]),
        policy=str(row[9]),
        cases=list(json.loads(row[10])),
        updated=str(row[11]),
        received=str(row[12]),
    )
