"""What the engine reports: frozen events out, a summary at the end, options in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ir.core.case import RunStatus
from ir.core.errors import ExitCode, InputError, PlaybookError
from ir.core.playbook import LoadedPlaybook
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
    hold_mutating: bool = False
    """Policy `approve`: every step that changes something waits for a person, not only those
    the playbook marks `approval: required`."""
    continue_past_waiting: bool = False
    """Policy `auto_then_approve`: a step waiting for approval does not stop the walk; the steps
    after it that need no approval still run, and the run ends waiting for all that wait."""
    signer: str | None = None
    """Who signs the journal head at the end when not `actor`: the service principal, for a
    run resumed on an approval that arrived over HTTP (the approver's key is not on the server)."""
    approval_reason: str | None = None
    """Why the approver approved (an approval over HTTP carries one); journalled with the grant."""
    granted_by_policy: str | None = None
    """Policy `auto`: the alert route (named here) approves every step; journalled as such, with
    `actor` (the service principal) as who applied it. A step whose playbook names its approvers
    still waits for one of them."""

    def check_steps(self, loaded: LoadedPlaybook) -> None:
        """Refuse approvals, overrides and skips of steps the playbook does not have, and reasonless skips."""
        known = {s.id for s in loaded.playbook.steps}
        for name in sorted(self.approve | set(self.overrides) | set(self.skip)):
            if name not in known:
                raise PlaybookError(
                    f"playbook {loaded.playbook.id}: no step {name!r} to approve, override or skip "
                    f"(steps: {', '.join(sorted(known))})"
                )
        for name, reason in self.skip.items():
            if not reason.strip():
                raise InputError(f"skipping step {name} needs a reason (--reason)")


def policy_options(trigger: Any, options: RunOptions) -> RunOptions:
    """A resumed case that an alert route opened keeps its policy's gates, whoever resumes it:
    under `approve` every later mutating step still waits; under `auto_then_approve` a step that
    waits does not stop the steps after it. (`auto` grants nothing on a person's resume.)"""
    policy = trigger.get("policy") if isinstance(trigger, Mapping) else None
    if policy == "approve":
        return replace(options, hold_mutating=True)
    if policy == "auto_then_approve":
        return replace(options, continue_past_waiting=True)
    return options


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
    signed_by: str | None = None
    """Who signed the head (a `checkpoint` record), when someone did."""
    unsigned: str | None = None
    """Why the head was not signed (no key, key not allowed), when it was not."""
    still_live: tuple[Mapping[str, str], ...] = ()
    """What containment should have taken away and real state says is still live: `what`,
    `step` (the step that should have handled it), `why`."""

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
            out["signed"] = self.signed_by is not None
            if self.signed_by:
                out["signed_by"] = self.signed_by
        if self.message:
            out["message"] = self.message
        if self.waiting_for:
            out["waiting_for"] = list(self.waiting_for)
        out["follow_ups"] = [dict(f) for f in self.follow_ups]
        out["still_live"] = [dict(item) for item in self.still_live]
        return out
