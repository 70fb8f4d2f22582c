"""The gates a step passes before its action runs: approval, a responder's skip, the release
gate (re-enabling needs a signed reenable decision), and evidence before destruction.

A mixin of the engine's run (`_Run`): it records through the run's journal and reads its state.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.core.case import CaseState, RunStatus, StepStatus
from ir.core.errors import ApprovalRefused, ExitCode
from ir.core.events import RunOptions
from ir.core.playbook import LoadedPlaybook, Step
from ir.core.records import Kind
from ir.core.release import release_refusal

if TYPE_CHECKING:
    from ir.core.engine import Engine, Outcome


def approvers_for(step: Step, groups: Mapping[str, tuple[str, ...]]) -> set[str] | None:
    """The people who may approve `step` (`group:NAME` expanded from ir.yaml), or None when anyone may."""
    if not step.approval.approvers:
        return None
    people: set[str] = set()
    for name in step.approval.approvers:
        if name.startswith("group:"):
            people.update(groups.get(name.removeprefix("group:"), ()))
        else:
            people.add(name)
    return people


class Gates:
    """Approval, skip, release and evidence-first checks of one run."""

    engine: Engine
    case_dir: Path
    loaded: LoadedPlaybook
    state: CaseState
    options: RunOptions

    def record(self, kind: str, data: Mapping[str, Any], step: str | None = None) -> None:
        """Journal a record and fold it into the state (the run provides it)."""
        raise NotImplementedError

    def result(
        self,
        step: Step,
        status: StepStatus,
        outputs: dict[str, Any],
        error: str | None,
        code: ExitCode,
        recovered: bool = False,
    ) -> Outcome:
        """Journal a step's result (the run provides it)."""
        raise NotImplementedError

    def approve(self, step: Step, action: str, args: Any) -> Outcome:
        """Grant the approval the options carry, or journal that the step waits for one."""
        options = self.options
        if options.granted_by_policy and not step.approval.approvers:
            grant = {"step": step.id, "by": options.actor, "policy": options.granted_by_policy}
            self.record(Kind.APPROVAL_GRANTED, grant | {"action": action, "args": args}, step.id)
            return None
        if options.approve_all or step.id in options.approve:
            allowed = self.engine.allowed_approvers(step)
            if allowed is not None and options.actor not in allowed:
                self.record(
                    Kind.APPROVAL_REFUSED,
                    {"step": step.id, "by": options.actor, "reason": "not an approver for this step"},
                    step.id,
                )
                raise ApprovalRefused(
                    f"step {step.id}: {options.actor} may not approve it (approvers: {', '.join(sorted(allowed))})"
                )
            why = {"reason": options.approval_reason} if options.approval_reason else {}
            grant = {"step": step.id, "by": options.actor, "action": action, "args": args} | why
            self.record(Kind.APPROVAL_GRANTED, grant, step.id)
            return None
        self.record(
            Kind.APPROVAL_WAITING,
            {"step": step.id, "action": action, "args": args, "approvers": list(step.approval.approvers)},
            step.id,
        )
        text = f"step {step.id} waits for approval: ir resume CASE --approve {step.id}"
        return (RunStatus.AWAITING_APPROVAL, ExitCode.APPROVAL, text)

    def skip(self, step: Step, reason: str) -> Outcome:
        """The responder skips `step`; refused when a call of it may have happened (resume verifies first)."""
        if self.state.step(step.id).intent_open:
            text = (
                f"step {step.id}: not skipped: a call was made and its result is unknown; "
                "resume without --skip so verify() reads the real state first"
            )
            return self.result(step, StepStatus.ERRORED, {}, text, ExitCode.BAD_INPUT)
        self.record(Kind.STEP_SKIPPED, {"step": step.id, "reason": reason, "by": self.options.actor}, step.id)
        return None

    def reenable_refusal(self, step: Step) -> str | None:
        """Why a release step may not run (None when it may); the decision it relies on is journalled."""
        incident = str(self.state.started.get("params", {}).get("incident") or "")
        refusal, decision = release_refusal(
            self.case_dir, incident, self.state.agent_id, self.engine.trust, self.engine.registry
        )
        if refusal:
            return f"step {step.id}: refused: {refusal}"
        assert decision is not None
        self.record(
            Kind.DECISION_CHECKED,
            {
                "step": step.id,
                "case": incident or self.state.case_id,
                "decision_seq": decision["seq"],
                "decision_hash": decision["hash"],
                "by": decision["by"],
                "approved_by": decision.get("approved_by"),
            },
            step.id,
        )
        return None

    def evidence_done(self, index: int, domain: str) -> bool:
        """Whether an evidence step of `domain` before `index` has succeeded in this case."""
        for earlier in self.loaded.playbook.steps[:index]:
            action = self.engine.registry.get(earlier.action)
            if (
                action
                and action.captures_evidence
                and action.domain == domain
                and self.state.step(earlier.id).status == StepStatus.SUCCEEDED
            ):
                return True
        return False
