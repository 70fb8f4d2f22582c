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
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.alerts.inbox_rows import Accepted, AlertRow, BreakerState, Delivery, alert_row, delivery_row
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
  owner TEXT NOT NULL DEFAULT '',
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
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(deliveries)")}
            if "owner" not in columns:  # an inbox made before leases
                self._db.execute("ALTER TABLE deliveries ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
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
        return delivery_row(row) if row else None

    def unfinished(self) -> list[Delivery]:
        """Deliveries not yet done, oldest first (`processing` ones were cut short by a crash)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE state IN ('new', 'processing') ORDER BY id"
            ).fetchall()
        return [delivery_row(r) for r in rows]

    def deliveries(self, limit: int = 200) -> list[Delivery]:
        """The newest deliveries first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DELIVERY_COLUMNS} FROM deliveries ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [delivery_row(r) for r in rows]

    def claim(self, delivery_id: int) -> tuple[Delivery, bool] | None:
        """Take a delivery to process: (it, whether a dead owner left it half done), or None when it
        is finished or another live process or thread is processing it."""
        me = _owner()
        with self._tx() as db:
            row = db.execute("SELECT state, owner FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            if row is None or row[0] not in ("new", "processing"):
                return None
            recovering = row[0] == "processing"
            if recovering and row[1] != me and _alive(row[1]):
                return None
            db.execute("UPDATE deliveries SET state = 'processing', owner = ? WHERE id = ?", (me, delivery_id))
        found = self.delivery(delivery_id)
        return (found, recovering) if found else None

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
        return [alert_row(r) for r in rows]

    def alert(self, alert_id: int) -> AlertRow | None:
        """One alert row by its row id."""
        with self._lock:
            row = self._db.execute(f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} WHERE a.id = ?", (alert_id,)).fetchone()
        return alert_row(row) if row else None

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
        return [alert_row(r) for r in rows]

    def handled_incident(self, incident_key: str, before: int) -> AlertRow | None:
        """An earlier alert row of the same incident that started or joined a case, if any."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ALERT_COLUMNS} FROM {_ALERTS} WHERE incident_key = ? AND a.id < ? "
                "AND outcome IN ('contained', 'folded') ORDER BY a.id DESC LIMIT 1",
                (incident_key, before),
            ).fetchone()
        return alert_row(row) if row else None

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

    def reserve_automatic(
        self, agents: Sequence[str], alert_id: int, *, limit: int, window_s: float, by: str
    ) -> tuple[list[str], str]:
        """Of `agents`, those that may be contained automatically now (each counted at once), and
        why the rest may not. One transaction, so processes and threads never both take the last
        place. The window counts from the later of `window_s` ago and the last reset; past the
        limit the breaker opens (and stays open until a person resets it)."""
        with self._tx() as db:
            state = db.execute("SELECT state, since, reason FROM breaker WHERE id = 1").fetchone()
            if state is not None and state[0] == "open":
                return [], f"automation stopped by the breaker since {state[1]}: {state[2]}"
            since = time.time() - window_s
            if state is not None:
                since = max(since, datetime.fromisoformat(state[1]).timestamp())
            used = int(db.execute("SELECT COUNT(*) FROM automation WHERE at >= ?", (since,)).fetchone()[0])
            allowed = list(agents[: max(0, limit - used)])
            for agent in allowed:
                db.execute("INSERT INTO automation (at, agent, alert) VALUES (?, ?, ?)", (time.time(), agent, alert_id))
            if len(allowed) == len(agents):
                return allowed, ""
            reason = (
                f"more than {limit} automatic containments in {window_s / 60:g} minutes ({used} already, "
                f"{len(agents)} more asked); a person resets it: ir alerts breaker reset --as WHO --reason TEXT"
            )
            db.execute(_TRIP, ("open", now_iso(), reason, by))
            return allowed, f"automation stopped by the breaker: {reason}"

    def release_automatic(self, agent: str, alert_id: int) -> None:
        """An automatic containment that did not start after all no longer counts."""
        with self._tx() as db:
            db.execute("DELETE FROM automation WHERE agent = ? AND alert = ?", (agent, alert_id))

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
            db.execute(_TRIP, ("open" if open_ else "closed", now_iso(), reason, by))


def _owner() -> str:
    """`host:pid:start-time:thread`: who is processing a delivery (pids are reused; the start time is not)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}:{threading.get_ident()}"


def _started(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22, starttime, counted after the command name


def _alive(owner: str) -> bool:
    """Whether the process (or another thread of this one) named by `owner` still runs on this host."""
    host, _, rest = owner.partition(":")
    pid, _, rest = rest.partition(":")
    started = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's worker cannot be checked: its lease is not honoured
    return _started(int(pid)) == started and started != "?"


_TRIP = (
    "INSERT INTO breaker (id, state, since, reason, by) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "state = excluded.state, since = excluded.since, reason = excluded.reason, by = excluded.by"
)
_DELIVERY_COLUMNS = "id, received, source, format, delivery_key, sha256, body, headers, via, state, reason, duplicates"
_ALERT_COLUMNS = (
    "a.id, delivery, idx, incident_key, alert, outcome, a.reason, resolution, route, policy, cases, updated, d.received"
)
_ALERTS = "alerts a JOIN deliveries d ON d.id = a.delivery"


__all__ = ["FINAL", "OUTCOMES", "Accepted", "AlertRow", "BreakerState", "Delivery", "Inbox", "InboxError", "now_iso"]
