"""The alert inbox: every accepted delivery committed to SQLite before it is acknowledged.

A delivery (the raw body, its sha256, a delivery key, the headers worth keeping) is committed
with `synchronous=FULL` in WAL mode before `ir serve` answers 202, so a sender is told "accepted"
only once the body is on disk. A delivery key seen before on the same source is a duplicate.
Each delivery is then normalised into one row per alert (`<delivery>.<index>`), and each alert
row moves through outcomes until it is final. A crash at any point leaves a delivery `new` or
`processing`, and its alert rows `new`: the next `ir serve` (or `ir alerts process`) finishes
them, and the case journals say what was already done (see `pipeline`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.alerts.model import Alert
from ir.core.errors import ExitCode, IrError

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  received TEXT NOT NULL,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  delivery_key TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  body BLOB NOT NULL,
  headers TEXT NOT NULL,
  via TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'new',
  reason TEXT,
  duplicates INTEGER NOT NULL DEFAULT 0,
  UNIQUE (source, delivery_key)
);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery INTEGER NOT NULL REFERENCES deliveries(id),
  idx INTEGER NOT NULL,
  incident_key TEXT NOT NULL,
  alert TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT 'new',
  reason TEXT NOT NULL DEFAULT '',
  resolution TEXT NOT NULL DEFAULT '{}',
  route TEXT NOT NULL DEFAULT '',
  policy TEXT NOT NULL DEFAULT '',
  cases TEXT NOT NULL DEFAULT '[]',
  updated TEXT NOT NULL,
  UNIQUE (delivery, idx)
);
CREATE INDEX IF NOT EXISTS alerts_incident ON alerts (incident_key);
CREATE TABLE IF NOT EXISTS automation (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at REAL NOT NULL,
  agent TEXT NOT NULL,
  alert INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS breaker (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  state TEXT NOT NULL,
  since TEXT NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL DEFAULT ''
);
"""

OUTCOMES = (
    "new",
    "contained",
    "folded",
    "waiting",
    "duplicate",
    "rejected",
    "observed",
    "shadowed",
    "resolved",
    "dismissed",
    "failed",
)
"""What became of an alert: `new` (not processed yet); `contained` (a case was started for it);
`folded` (journalled into an agent's open case); `waiting` (for a person: ambiguous,
unattributed, no route, too many agents, or the breaker is open); `duplicate` (its incident was
already handled); `rejected` (not a valid alert of its format); `observed` / `shadowed` (by
policy); `resolved` (a resolved notification, journalled, released nothing); `dismissed` (a
person said no); `failed` (the case could not be started: the reason says why)."""

FINAL = frozenset(OUTCOMES) - {"new", "waiting"}


class InboxError(IrError):
    """The inbox could not be written (the sender should retry: `ir serve` answers 503)."""

    exit_code = ExitCode.STORAGE


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


def now_iso() -> str:
    """The current time, ISO 8601 UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Inbox:
    """The SQLite inbox of one workspace (safe across threads of one process and across processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InboxError(f"{path}: cannot open the alert inbox: {exc}") from None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction, committed (and fsynced) on exit."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise InboxError(f"{self.path}: the alert inbox could not be written: {exc}") from None

    # deliveries -------------------------------------------------------------------------------

    def accept(
        self,
        *,
        source: str,
        fmt: str,
        body: bytes,
        delivery_key: str | None,
        headers: Mapping[str, str],
        via: str,
    ) -> Accepted:
        """Commit a delivery (or count a duplicate of one) before anyone is told it was accepted."""
        digest = hashlib.sha256(body).hexdigest()
        key = delivery_key or f"sha256:{digest}"
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM deliveries WHERE source = ? AND delivery_key = ?", (source, key)
            ).fetchone()
            if row is not None:
                db.execute("UPDATE deliveries SET duplicates = duplicates + 1 WHERE id = ?", (row[0],))
                return Accepted(int(row[0]), duplicate=True)
            cur = db.execute(
                "INSERT INTO deliveries (received, source, format, delivery_key, sha256, body, headers, via)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), source, fmt, key, digest, body, json.dumps(dict(headers), sort_keys=True), via),
            )
            return Accepted(int(cur.lastrowid or 0), duplicate=False)

    def delivery(self, delivery_id: int) -> Delivery | None:
        """One delivery, or None."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return _delivery(row) if row else None

    def unfinished(self) -> list[Delivery]:
        """Deliveries not yet done, oldest first (`processing` ones were cut short by a crash)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE state IN ('new', 'processing') ORDER BY id"
            ).fetchall()
        return [_delivery(r) for r in rows]

    def deliveries(self, limit: int = 200) -> list[Delivery]:
        """The newest deliveries first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_delivery(r) for r in rows]

    def set_delivery(self, delivery_id: int, state: str, reason: str | None = None) -> None:
        """Move a delivery to `processing`, `done` or `rejected` (with the reason)."""
        with self._tx() as db:
            db.execute("UPDATE deliveries SET state = ?, reason = ? WHERE id = ?", (state, reason, delivery_id))

    # alerts -----------------------------------------------------------------------------------

    def add_alerts(self, delivery_id: int, alerts: Sequence[Alert]) -> list[AlertRow]:
        """The delivery's alert rows, created once (a second call after a crash returns the same rows)."""
        with self._tx() as db:
            for alert in alerts:
                db.execute(
                    "INSERT OR IGNORE INTO alerts (delivery, idx, incident_key, alert, updated) VALUES (?, ?, ?, ?, ?)",
                    (delivery_id, alert.index, alert.incident_key, alert.model_dump_json(), now_iso()),
                )
        return self.alerts_of(delivery_id)

    def alerts_of(self, delivery_id: int) -> list[AlertRow]:
        """The alert rows of one delivery, in order."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} WHERE delivery = ? ORDER BY idx", (delivery_id,)
            ).fetchall()
        return [_alert(r) for r in rows]

    def alert(self, alert_id: int) -> AlertRow | None:
        """One alert row by its row id."""
        with self._lock:
            row = self._db.execute(f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} WHERE a.id = ?", (alert_id,)).fetchone()
        return _alert(row) if row else None

    def find(self, ref: str) -> AlertRow | None:
        """An alert row by `DELIVERY.INDEX` (`17.0`), or by `DELIVERY` when it has one alert."""
        head, _, tail = ref.partition(".")
        if not head.isdigit() or (tail and not tail.isdigit()):
            return None
        rows = self.alerts_of(int(head))
        if tail:
            return next((r for r in rows if r.index == int(tail)), None)
        return rows[0] if len(rows) == 1 else None

    def alerts(self, limit: int = 200, outcome: str | None = None) -> list[AlertRow]:
        """The newest alert rows first (optionally only those with `outcome`)."""
        where, args = ("WHERE a.outcome = ?", [outcome]) if outcome else ("", [])
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} {where} ORDER BY a.id DESC LIMIT ?", (*args, limit)
            ).fetchall()
        return [_alert(r) for r in rows]

    def handled_incident(self, incident_key: str, before: int) -> AlertRow | None:
        """An earlier alert row of the same incident that started or joined a case, if any."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} WHERE incident_key = ? AND a.id < ? "
                "AND outcome IN ('contained', 'folded') ORDER BY a.id DESC LIMIT 1",
                (incident_key, before),
            ).fetchone()
        return _alert(row) if row else None

    def settle(
        self,
        alert_id: int,
        outcome: str,
        reason: str = "",
        *,
        resolution: Mapping[str, Any] | None = None,
        route: str | None = None,
        policy: str | None = None,
        cases: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        """Record what became of an alert (fields not given keep their value)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown alert outcome {outcome!r}")
        sets, args = ["outcome = ?", "reason = ?", "updated = ?"], [outcome, reason, now_iso()]
        for column, value in (("resolution", resolution), ("cases", cases)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(json.dumps(value if isinstance(value, list | dict) else list(value), sort_keys=True))
        for column, text in (("route", route), ("policy", policy)):
            if text is not None:
                sets.append(f"{column} = ?")
                args.append(text)
        with self._tx() as db:
            db.execute(f"UPDATE alerts SET {', '.join(sets)} WHERE id = ?", (*args, alert_id))

    def counts(self) -> dict[str, int]:
        """How many alert rows have each outcome."""
        with self._lock:
            rows = self._db.execute("SELECT outcome, COUNT(*) FROM alerts GROUP BY outcome").fetchall()
        return {str(k): int(v) for k, v in rows}

    # the breaker ------------------------------------------------------------------------------

    def automatic(self, agent: str, alert_id: int) -> None:
        """Count one automatic containment (for the breaker)."""
        with self._tx() as db:
            db.execute("INSERT INTO automation (at, agent, alert) VALUES (?, ?, ?)", (time.time(), agent, alert_id))

    def automatic_since(self, since: float) -> int:
        """Automatic containments started since `since` (epoch seconds)."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM automation WHERE at >= ?", (since,)).fetchone()
        return int(row[0])

    def breaker(self) -> BreakerState:
        """The breaker as it stands (closed when it was never tripped)."""
        with self._lock:
            row = self._db.execute("SELECT state, since, reason, by FROM breaker WHERE id = 1").fetchone()
        if row is None:
            return BreakerState(open=False, since="", reason="", by="")
        return BreakerState(open=row[0] == "open", since=row[1], reason=row[2], by=row[3])

    def set_breaker(self, *, open_: bool, reason: str, by: str = "") -> None:
        """Trip (open) or reset (close) the breaker."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO breaker (id, state, since, reason, by) VALUES (1, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET state = excluded.state, since = excluded.since, "
                "reason = excluded.reason, by = excluded.by",
                ("open" if open_ else "closed", now_iso(), reason, by),
            )


_DELIVERY_COLUMNS = "id, received, source, format, delivery_key, sha256, body, headers, via, state, reason, duplicates"
_ALERT_COLUMNS = (
    "a.id, delivery, idx, incident_key, alert, outcome, a.reason, resolution, route, policy, cases, updated, d.received"
)
_ALERTS = "alerts a JOIN deliveries d ON d.id = a.delivery"


def _delivery(row: Sequence[Any]) -> Delivery:
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


def _alert(row: Sequence[Any]) -> AlertRow:
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
