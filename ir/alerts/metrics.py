"""What `GET /metrics` exposes: deliveries received, rejected by reason, duplicates, cases started, alert-to-frozen.

One `Metrics` per `ir serve`, on a private registry (never prometheus_client's global one, so two
apps in one process, as in tests, do not share counters). The receiver counts requests; the
pipeline calls `case_started` and `frozen`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

UNKNOWN_SOURCE = "(unknown)"
"""The `source` label of a request to a source not in ir.yaml (any name would let a sender grow the label set)."""
FROZEN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""Seconds; the warm target is under 0.5 s (DESIGN.md, Performance)."""


class Metrics:
    """The counters and the latency histogram of one receiver, on their own registry."""

    content_type = CONTENT_TYPE_PLAIN_0_0_4
    """The Prometheus text format every scraper reads."""

    def __init__(self, sources: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._received = Counter(
            "alerts_received",
            "Deliveries posted to a known source, whatever became of them.",
            ["source"],
            registry=self.registry,
        )
        self._rejected = Counter(
            "alerts_rejected",
            "Deliveries refused (auth, size, body, inbox), by reason.",
            ["source", "reason"],
            registry=self.registry,
        )
        self._duplicate = Counter(
            "alerts_duplicate",
            "Deliveries whose delivery key was seen before (answered 200).",
            ["source"],
            registry=self.registry,
        )
        self._cases = Counter(
            "cases_started", "Cases started from alerts, by route policy.", ["policy"], registry=self.registry
        )
        self._frozen = Histogram(
            "alert_to_frozen_seconds",
            "From an alert's arrival to its agent's container frozen.",
            buckets=FROZEN_BUCKETS,
            registry=self.registry,
        )
        for source in sources:  # a configured source shows 0 before its first delivery
            self._received.labels(source)
            self._duplicate.labels(source)

    def received(self, source: str) -> None:
        """One delivery posted to `source` (counted before it is checked)."""
        self._received.labels(source).inc()

    def rejected(self, source: str, reason: str) -> None:
        """One delivery refused, with the reason code (`bad_token`, `too_large`, `bad_body`, …)."""
        self._rejected.labels(source, reason).inc()

    def duplicate(self, source: str) -> None:
        """One delivery whose key the inbox had already seen."""
        self._duplicate.labels(source).inc()

    def case_started(self, policy: str) -> None:
        """One case started by a route with `policy`."""
        self._cases.labels(policy).inc()

    def frozen(self, seconds: float) -> None:
        """An agent's container frozen `seconds` after the alert that caused it arrived."""
        self._frozen.observe(seconds)

    def render(self) -> bytes:
        """The exposition text (`content_type`)."""
        return generate_latest(self.registry)
