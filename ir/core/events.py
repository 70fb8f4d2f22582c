"""What the engine reports: frozen events out, a summary at the end, options in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ir.core.case import RunStatus
from ir.core.errors import ExitCode
from ir.core.records import FollowUp


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run: the journal writes it, the CLI prints it, the TUI shows it.

    `kind` is the journal record type (`run.started`, `step.intent`, `step.result`, ...);
    `seq` is the journal sequence number, None in a dry run (nothing is journalled).
    """

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    step: str | None = None
    case: str | None = None
    seq: int | None = None
    ts: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for `--json`."""
        return {
            "event": self.kind,
            "case": self.case,
            "step": self.step,
            "seq": self.seq,
            "ts": self.ts,
            "data": dict(self.data),
        }


EventHandler = Callable[[Event], None]


@dataclass(frozen=True)
class RunOptions:
    """How a run should behave: who is running it and what they pre-approved."""

    actor: str
    """Who is at the keyboard (recorded with every approval and decision)."""
    dry_run: bool = False
    """Plan every step from real state; make no mutating call and write nothing."""
    approve_all: bool = False
    """`--yes`: approve every step that needs approval (if `actor` may)."""
    approve: frozenset[str] = frozenset()
    """`--approve STEP`: approve these steps (if `actor` may)."""
    overrides: Mapping[str, str] = field(default_factory=dict)
    """Step id → reason: let a destructive step run without a successful evidence step."""
    skip: Mapping[str, str] = field(default_factory=dict)
    """Step id → reason: the responder skips these steps (journalled with who and why)."""


@dataclass(frozen=True)
class RunSummary:
    """How a run ended."""

    status: RunStatus
    steps: Mapping[str, str]
    case_dir: str | None = None
    case_id: str | None = None
    head: tuple[int, str] | None = None
    message: str | None = None
    exit_code: ExitCode = ExitCode.OK
    waiting_for: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    """What could not be done automatically: `what`, `owner`, `why`, `step`."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: the final object of `--json` output."""
        out: dict[str, Any] = {
            "summary": True,
            "case": self.case_dir,
            "case_id": self.case_id,
            "status": str(self.status),
            "steps": dict(self.steps),
            "exit_code": int(self.exit_code),
        }
        if self.head:
            out["journal_head"] = {"seq": self.head[0], "hash": self.head[1]}
        if self.message:
            out["message"] = self.message
        if self.waiting_for:
            out["waiting_for"] = list(self.waiting_for)
        out["follow_ups"] = [dict(f) for f in self.follow_ups]
        return out
