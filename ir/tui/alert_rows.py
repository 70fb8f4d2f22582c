"""What the console reads of the alert inbox: each alert (and each rejected delivery) with the live
state of the cases it started or joined, the breaker, and a stamp that tells when any changed.

The inbox says what became of an alert when it was processed; the case journals say where those
cases are now (an approval given since, a run finished). Both are read here, read-only: looking
at a workspace that has no inbox yet does not create one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ir.alerts.inbox import AlertRow, BreakerState, Delivery, Inbox, InboxError
from ir.core.case import CaseState, RunStatus, StepStatus, load_state
from ir.core.errors import IrError
from ir.core.journal import JOURNAL_FILE
from ir.core.text import neutralise
from ir.core.workspace import Workspace

CLOSED = BreakerState(open=False, since="", reason="", by="")
"""The breaker of a workspace without an inbox."""


@dataclass(frozen=True)
class CaseLink:
    """One agent's part of an alert: the case it started or joined, and where that case is now."""

    agent: str
    how: str
    """`started`, `folded`, `duplicate`, `waiting`, `failed`, `resolved` (as the inbox recorded it)."""
    case: Path | None
    """The case folder, when the case exists in this workspace."""
    status: str
    """The run's status now, from the journal (the inbox's word when the case cannot be read)."""
    waiting_for: tuple[str, ...]
    """Steps waiting for an approval now."""
    why: str
    """Why the agent waits or failed (neutralised)."""


@dataclass(frozen=True)
class Entry:
    """One row of the alerts screen: an alert with its cases, or a delivery that was rejected whole."""

    key: str
    """`alert:ID` or `delivery:ID` (the table's row key)."""
    row: AlertRow | None
    delivery: Delivery | None
    cases: tuple[CaseLink, ...] = ()

    @property
    def ref(self) -> str:
        """How `ir alerts` names it: `DELIVERY.INDEX`, or the delivery id."""
        return self.row.ref if self.row else str(self.delivery.id if self.delivery else "?")

    @property
    def outcome(self) -> str:
        """The inbox's outcome (`rejected` for a rejected delivery)."""
        return self.row.outcome if self.row else "rejected"

    @property
    def approvable(self) -> tuple[CaseLink, ...]:
        """Its cases with a step waiting for an approval now."""
        return tuple(c for c in self.cases if c.case is not None and c.waiting_for)

    @property
    def openable(self) -> tuple[CaseLink, ...]:
        """Its cases that exist (Enter opens one)."""
        return tuple(c for c in self.cases if c.case is not None)


def inbox_path(workspace: Workspace) -> Path:
    """The workspace's inbox file (`alerts.inbox` in ir.yaml)."""
    return workspace.path(workspace.settings.alerts.inbox)


def inbox_stamp(path: Path) -> tuple[tuple[int, int], ...]:
    """Size and mtime of the inbox and its write-ahead log: every commit changes one (no read)."""
    stamps = []
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            st = file.stat()
        except OSError:
            stamps.append((-1, -1))
            continue
        stamps.append((st.st_size, st.st_mtime_ns))
    return tuple(stamps)


@contextmanager
def reading(path: Path) -> Iterator[Inbox | None]:
    """The inbox, opened for this read and closed after; None when the workspace has none yet."""
    if not path.is_file():
        yield None
        return
    inbox = Inbox(path)
    try:
        yield inbox
    finally:
        inbox.close()


def breaker_state(path: Path) -> BreakerState:
    """The breaker as the inbox has it (closed when there is no inbox); InboxError when unreadable."""
    with reading(path) as inbox:
        if inbox is None:
            return CLOSED
        try:
            return inbox.breaker()
        except sqlite3.Error as exc:
            raise InboxError(f"{path}: cannot read the breaker: {exc}") from None


def read_entries(path: Path, cases_dir: Path, limit: int = 200) -> tuple[list[Entry], BreakerState]:
    """Every alert, newest delivery first (a rejected delivery in its place), and the breaker."""
    with reading(path) as inbox:
        if inbox is None:
            return [], CLOSED
        try:
            rows, deliveries, breaker = inbox.alerts(limit), inbox.deliveries(limit), inbox.breaker()
        except sqlite3.Error as exc:
            raise InboxError(f"{path}: cannot read the alert inbox: {exc}") from None
    states: dict[str, CaseState | str] = {}
    entries = [Entry(f"alert:{r.id}", r, None, tuple(_link(c, cases_dir, states) for c in r.cases)) for r in rows]
    entries += [Entry(f"delivery:{d.id}", None, d) for d in deliveries if d.state == "rejected"]

    def order(entry: Entry) -> tuple[int, int]:
        row, delivery = entry.row, entry.delivery
        return (row.delivery, -row.index) if row else (delivery.id if delivery else 0, 0)

    return sorted(entries, key=order, reverse=True), breaker


def _link(case: dict[str, Any], cases_dir: Path, states: dict[str, CaseState | str]) -> CaseLink:
    """One agent's result, with its case read now (each case once per read)."""
    name = str(case.get("case") or "")
    why = neutralise(str(case.get("why") or case.get("message") or ""))
    recorded = str(case.get("status") or "")
    folder = cases_dir / name if name and "/" not in name and name not in (".", "..") else None
    if folder is None or not (folder / JOURNAL_FILE).is_file():
        return CaseLink(neutralise(str(case.get("agent"))), str(case.get("how") or ""), None, recorded, (), why)
    if name not in states:
        try:
            states[name] = load_state(folder)
        except (IrError, OSError, ValueError) as exc:  # a damaged journal: say so on the row, keep the list
            states[name] = f"unreadable: {neutralise(str(exc))}"
    state = states[name]
    waiting: tuple[str, ...] = ()
    if isinstance(state, str):
        status = state
    else:
        status = str(state.run_status)
        waiting = tuple(
            sid
            for sid, step in state.steps.items()
            if state.run_status == RunStatus.AWAITING_APPROVAL and step.status == StepStatus.AWAITING_APPROVAL
        )
    return CaseLink(neutralise(str(case.get("agent"))), str(case.get("how") or ""), folder, status, waiting, why)


def when(iso: str) -> str:
    """`2026-11-20 03:15:00 UTC` for an ISO 8601 time (the text as given when it is not one)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return neutralise(iso)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (" UTC" if moment.utcoffset() is not None else "")


def banner_line(breaker: BreakerState) -> str:
    """What the agents and alerts screens say while the breaker stands open ('' when it is closed)."""
    if not breaker.open:
        return ""
    by = f" (tripped by {neutralise(breaker.by)})" if breaker.by else ""
    return (
        f"AUTOMATION STOPPED by the breaker since {when(breaker.since)}{by}: {neutralise(breaker.reason)}\n"
        "New alerts wait for a person. Reset: ir alerts breaker reset --as WHO --reason TEXT"
    )
