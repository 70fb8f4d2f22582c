"""The reference response's moves (`--auto`): what a team would do, done through the same code.

`run` starts a playbook on the agent as a responder (`ir run`); `approve` resumes the agent's
waiting case with approvals (`ir resume --yes` / `--approve STEP`); `decide` records a signed
decision with its criteria (`ir decide`); `mark` passes a manual expectation. Each is signed as
the move's role with the exercise's key for it. A move that cannot be played (no case to
approve, a refused decision) is recorded with why, and the exercise goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ir.core.case import list_cases
from ir.core.case_state import CaseState, RunStatus
from ir.core.decision import Decision, decide
from ir.core.errors import IrError
from ir.core.events import Event, RunOptions
from ir.core.playbook import find_playbook
from ir.core.signing_trust import workspace_trust
from ir.tabletop.ports import Runtime
from ir.tabletop.sandbox import Sandbox
from ir.tabletop.scenario import Move

UNFINISHED = (RunStatus.AWAITING_APPROVAL, RunStatus.INTERRUPTED, RunStatus.RUNNING)


def what_of(move: Move) -> str:
    """`run`, `approve`, `decide` or `mark`."""
    return next(n for n in ("run", "approve", "decide", "mark") if getattr(move, n) is not None)


def _quiet(_event: Event) -> None:
    """Engine events of a move are in its case's journal; the exercise records the outcome."""


def _cases(sandbox: Sandbox, agent_id: str) -> list[tuple[Path, CaseState]]:
    """The agent's cases in the sandbox, newest first."""
    ws = sandbox.workspace()
    return [(p, s) for p, s in list_cases(ws.cases_dir, unreadable=[]) if s.run and s.run.agent_id == agent_id]


class Moves:
    """Plays reference moves in one exercise's sandbox."""

    def __init__(self, sandbox: Sandbox, runtime: Runtime, mark: Callable[[str, str, str], None]) -> None:
        self.sandbox = sandbox
        self.runtime = runtime
        self._mark = mark
        """(expectation, by, note) → records `expectation.marked` in the exercise journal."""

    def play(self, move: Move, by: str) -> dict[str, Any]:
        """Play `move` as `by`; the result for `move.played` (`error` says why it could not be played)."""
        try:
            if move.run is not None:
                return self._run(move, by)
            if move.approve is not None:
                return self._approve(move, by)
            if move.decide is not None:
                return self._decide(move, by)
        except IrError as exc:
            return {"error": str(exc)}
        assert move.mark is not None
        self._mark(move.mark, by, move.reason)
        return {"expectation": move.mark, "passed": True}

    def _engine(self, by: str) -> Any:
        return self.runtime.engine_for(_quiet, self.sandbox.key_for(by))

    def _run(self, move: Move, by: str) -> dict[str, Any]:
        assert move.run is not None and move.agent is not None
        ws = self.sandbox.workspace()
        agent = ws.inventory.get(move.agent, str(ws.inventory_path))
        loaded = find_playbook(ws.playbooks_dir, move.run)
        summary = self._engine(by).start(
            loaded=loaded, agent=agent, params={}, cases_dir=ws.cases_dir, options=RunOptions(actor=by)
        )
        return _summary(summary)

    def _approve(self, move: Move, by: str) -> dict[str, Any]:
        assert move.approve is not None and move.agent is not None
        waiting = [(p, s) for p, s in _cases(self.sandbox, move.agent) if s.run_status in UNFINISHED]
        if not waiting:
            return {"error": f"no case of {move.agent} waits for approval"}
        case_dir, _state = waiting[0]
        every = move.approve == "all"
        options = RunOptions(
            actor=by,
            approve_all=every,
            approve=frozenset() if every else frozenset({move.approve}),
            approval_reason=move.reason,
        )
        return _summary(self._engine(by).resume(case_dir=case_dir, options=options))

    def _decide(self, move: Move, by: str) -> dict[str, Any]:
        assert move.decide is not None and move.agent is not None
        cases = _cases(self.sandbox, move.agent)
        if not cases:
            return {"error": f"no case of {move.agent} to decide in"}
        case_dir, _state = cases[0]
        ws = self.sandbox.workspace()
        record = decide(
            case_dir,
            decision=Decision(move.decide),
            by=by,
            reason=move.reason,
            approve_as=None,
            second_approver=ws.settings.decisions.second_approver,
            trust=workspace_trust(ws),
            key=self.sandbox.key_for(by),
        )
        met = [name for name, c in record.data["criteria"].items() if c.get("met")]
        return {"case": case_dir.name, "decision": move.decide, "seq": record.seq, "criteria_met": met}


def _summary(summary: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"case": summary.case_id, "status": str(summary.status)}
    if summary.waiting_for:
        out["waiting_for"] = list(summary.waiting_for)
    if summary.message and summary.exit_code not in (0, 4):
        out["message"] = summary.message
    if summary.signed_by:
        out["signed_by"] = summary.signed_by
    return out
