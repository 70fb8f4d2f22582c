"""The run engine: one entry point for the CLI, the TUI, the server and tabletop.

A run walks the playbook's steps in order. Before every mutating call it journals an intent
record (fsynced); after it, the result. On resume it replays the journal and, for a step whose
intent has no result, asks the action's `verify()` whether the effect is already in place
before deciding to execute it again, so no mutation is applied twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ir.core.access import WorldAccess
from ir.core.action import Action, Registry, StepContext
from ir.core.agent_lock import AgentLock, refuse_second_case
from ir.core.attach import collect, collect_late
from ir.core.case import PLAYBOOK_FILE, CaseState, RunStatus, StepStatus, load_state, new_case_id, pinned_playbook
from ir.core.containment import LiveItem, has_containment, steps_to_redo, still_live, verdict
from ir.core.dryrun import bad_args, dry_run
from ir.core.errors import BackendUnavailable, CaseError, ExitCode, IrError, JournalError, PlaybookError, StorageError
from ir.core.events import EventHandler, RunOptions, RunSummary, policy_options
from ir.core.evidence import CaptureProgress, EvidenceStore
from ir.core.gates import Gates, approvers_for
from ir.core.inventory import Agent
from ir.core.journal import Journal, storage_problem
from ir.core.lint import lint
from ir.core.playbook import LoadedPlaybook, Step, resolve_params
from ir.core.ports import Backends
from ir.core.recorder import CaseEvidence, Recorder
from ir.core.records import Kind
from ir.core.retry import delay_for
from ir.core.signing_journal import sign_run
from ir.core.signing_trust import Trust
from ir.core.substitution import SubstitutionError, evaluate_condition, render
from ir.core.timeouts import StepTimeout, call_with_timeout

Outcome = tuple[RunStatus | StepStatus, ExitCode, str] | None
"""What a step ended in: None when it succeeded or was skipped, else (status, exit code, message)."""


class Engine:
    """Runs playbooks against the backends it is handed; reports through events."""

    def __init__(
        self,
        *,
        registry: Registry,
        backends: Backends,
        workspace: Path,
        approvers: Mapping[str, tuple[str, ...]] | None = None,
        on_event: EventHandler | None = None,
        sleep: Callable[[float], None] = time.sleep,
        trust: Trust | None = None,
        signing_key: Path | None = None,
        on_capture: CaptureProgress | None = None,
    ) -> None:
        self.registry = registry
        self.backends = backends
        self.workspace = workspace
        self.approvers = dict(approvers or {})
        self.on_event = on_event or (lambda _e: None)
        self.sleep = sleep
        self.trust = trust  # the allowed signers: who signs heads, which decisions release (None: nobody)
        self.signing_key = signing_key
        self.on_capture = on_capture  # told the bytes of each evidence stream as it is read (progress)

    def start(
        self,
        *,
        loaded: LoadedPlaybook,
        agent: Agent,
        params: Mapping[str, str],
        cases_dir: Path,
        options: RunOptions,
        trigger: Mapping[str, Any] | None = None,
    ) -> RunSummary:
        """Validate, open a new case (unless dry run) and run the playbook for `agent`."""
        problems = lint(loaded, self.registry)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise PlaybookError(problems[0] + more)
        values = resolve_params(loaded.playbook, dict(params), loaded.located)
        options.check_steps(loaded)
        if options.dry_run:
            return dry_run(
                registry=self.registry,
                backends=self.backends,
                workspace=self.workspace,
                loaded=loaded,
                agent=agent,
                values=values,
                on_event=self.on_event,
            )
        case_id = new_case_id(agent.id, loaded.playbook.id)
        case_dir = cases_dir / case_id
        book = loaded.playbook
        with ExitStack() as held:  # the agent's lock, then the new case's journal, to the end of the walk
            lock = held.enter_context(AgentLock(self.workspace, agent.id).acquire(case=case_id, actor=options.actor))
            refuse_second_case(cases_dir, agent.id, book.id)  # one open case per (agent, playbook)
            case_dir.mkdir(parents=True)
            try:
                (case_dir / PLAYBOOK_FILE).write_text(loaded.text, encoding="utf-8")
            except OSError as exc:  # a full disk before the journal exists: say where, exit 5
                raise StorageError(
                    f"{case_dir / PLAYBOOK_FILE}: {storage_problem(exc)} while creating the case"
                ) from exc
            os.chmod(case_dir / PLAYBOOK_FILE, 0o444)
            journal = held.enter_context(Journal(case_dir).open(create=True))
            rec = Recorder(journal, case_id, self.on_event)
            rec.write(
                Kind.RUN_STARTED,
                {
                    "case": case_id,
                    "run_id": case_id,
                    "playbook": {
                        "id": book.id,
                        "version": book.version,
                        "sha256": loaded.sha256,
                        "text_sha256": hashlib.sha256(loaded.text.encode()).hexdigest(),
                        "source": loaded.source,
                        "file": PLAYBOOK_FILE,
                    },
                    "agent": agent.model_dump(mode="json"),
                    "params": values,
                    "actor": options.actor,
                    "pid": os.getpid(),
                }
                | ({"trigger": dict(trigger)} if trigger else {})
                | _stale(lock),
            )
            summary = _Run(self, case_dir, loaded, agent, CaseState.replay(journal.records), rec, options).walk()
            summary = sign_run(summary, rec, self.trust, options.signer or options.actor, self.signing_key, "run")
        collect_late(case_dir, self.trust, options.signer or options.actor, self.signing_key)
        return summary

    def resume(self, *, case_dir: Path, options: RunOptions) -> RunSummary:
        """Continue a case from its journal: verify real state, then run what is left (holding the
        agent's lock); what a failed step kept from running is evaluated again."""
        agent_id = str(load_state(case_dir).started.get("agent", {}).get("id") or "")
        if not agent_id:
            raise CaseError(f"{case_dir}: journal has no run.started record")
        with (
            AgentLock(self.workspace, agent_id).acquire(case=case_dir.name, actor=options.actor) as lock,
            Journal(case_dir).open() as journal,
        ):
            state = CaseState.replay(journal.records)
            if not state.started:
                raise CaseError(f"{case_dir}: journal has no run.started record")
            if state.run_status == RunStatus.ABORTED:
                raise CaseError(f"{case_dir.name}: the run was aborted ({state.aborted}); start a new run instead")
            loaded = pinned_playbook(case_dir, state)
            options = policy_options(state.started.get("trigger"), options)
            options.check_steps(loaded)
            agent = Agent.model_validate(state.started["agent"])
            rec = Recorder(journal, state.case_id, self.on_event)
            rec.write(
                Kind.RUN_RESUMED,
                {
                    "actor": options.actor,
                    "pid": os.getpid(),
                    "approve": sorted(options.approve),
                    "approve_all": options.approve_all,
                }
                | _stale(lock),
            )
            removed = EvidenceStore(case_dir).remove_parts()  # we hold the case lock: no capture is live
            if removed:
                rec.write(Kind.EVIDENCE_PARTS_REMOVED, {"files": removed})
            redo = steps_to_redo(self.registry, loaded.playbook.steps, state)
            for step_id in redo:
                state.step(step_id).status = StepStatus.PENDING  # the run stopped, skipped or left it: again
            summary = _Run(self, case_dir, loaded, agent, state, rec, options, recheck=frozenset(redo)).walk()
            summary = sign_run(summary, rec, self.trust, options.signer or options.actor, self.signing_key, "resume")
        collect_late(case_dir, self.trust, options.signer or options.actor, self.signing_key)
        return summary

    def allowed_approvers(self, step: Step) -> set[str] | None:
        """The people who may approve `step` (groups expanded), or None when anyone may."""
        return approvers_for(step, self.approvers)


class _Run(Gates):
    """One walk through a case's steps: everything a step needs, in one place."""

    def __init__(
        self,
        engine: Engine,
        case_dir: Path,
        loaded: LoadedPlaybook,
        agent: Agent,
        state: CaseState,
        rec: Recorder,
        options: RunOptions,
        recheck: frozenset[str] = frozenset(),
    ) -> None:
        self.engine, self.case_dir, self.loaded, self.agent = engine, case_dir, loaded, agent
        self.state, self.rec, self.options = state, rec, options
        self.recheck = recheck
        """Steps this resume evaluates again: one still skipped by its `when:` is not journalled twice."""
        self.live: list[LiveItem] | None = None
        """What is still live, once the end of the walk assessed it (None: not assessed)."""
        self.store = EvidenceStore(case_dir)
        self.world = WorldAccess(engine.backends, agent, dry_run=False)

    def record(self, kind: str, data: Mapping[str, Any], step: str | None = None) -> None:
        """Journal a record and fold it into the state."""
        self.rec.write(kind, data, step)
        self.state.apply(self.rec.last)

    def walk(self) -> RunSummary:
        """Run every step not yet finished; stop at a wait, a stopping failure or an interrupt."""
        worst, message, current = ExitCode.OK, None, None
        waiting: list[str] = []
        try:
            for index, step in enumerate(self.loaded.playbook.steps):
                collect(self.case_dir, self.rec.journal.records, self.record)  # notes attached meanwhile
                if self.state.step(step.id).status.terminal:
                    continue
                current = step.id
                outcome = self.step(index, step)
                if outcome is None:
                    continue
                status, code, text = outcome
                if status == RunStatus.AWAITING_APPROVAL:
                    waiting.append(step.id)
                    if self.options.continue_past_waiting:
                        continue
                    return self.finish(RunStatus.AWAITING_APPROVAL, code, text, waiting=(step.id,))
                worst, message = max(worst, code), message or text
                if step.on_failure == "stop":
                    break
            current = None
            if waiting:
                return self.pause(worst, message, tuple(waiting))
            return self.conclude(worst, message)
        except KeyboardInterrupt:
            self.record(Kind.RUN_INTERRUPTED, {"step": current})
            where = f"during step {current}" if current else "while checking what is still live"
            return self.summary(RunStatus.INTERRUPTED, ExitCode.INTERRUPTED, f"interrupted {where}")

    def conclude(self, code: ExitCode, message: str | None) -> RunSummary:
        """End the walk: any failed step makes the run failed (or errored), whichever walk failed it;
        with none, the run succeeded only if real state says nothing is still live."""
        self.live = self.assess()
        statuses = {self.state.step(s.id).status for s in self.loaded.playbook.steps}
        return self.finish(*verdict(statuses, self.live, code, message))

    def pause(self, code: ExitCode, message: str | None, waiting: tuple[str, ...]) -> RunSummary:
        """End a walk that went on past steps waiting for approval: awaiting approval when nothing
        failed; when something did, failed (or errored) — with what is still live — never "waiting"."""
        text = f"steps wait for approval: ir resume CASE --approve STEP ({', '.join(waiting)})"
        if code == ExitCode.OK:
            return self.finish(RunStatus.AWAITING_APPROVAL, ExitCode.APPROVAL, text, waiting=waiting)
        self.live = self.assess()
        statuses = {self.state.step(s.id).status for s in self.loaded.playbook.steps}
        status, worst, said = verdict(statuses, self.live, code, message)
        return self.finish(status, worst, f"{said}; {text}" if said else text, waiting=waiting)

    def assess(self) -> list[LiveItem] | None:
        """What the containment steps left live, from real state (None: the playbook contains nothing)."""
        steps, registry = self.loaded.playbook.steps, self.engine.registry
        if not has_containment(registry, steps):
            return None
        world = WorldAccess(self.engine.backends, self.agent, dry_run=True)  # reads only
        context = partial(self.context, world=world, evidence=None, dry_run=True)
        return still_live(registry, steps, self.state, self.scope(), context)

    def context(
        self, step: Step, *, world: WorldAccess, evidence: CaseEvidence | None, dry_run: bool = False
    ) -> StepContext:
        """What an action sees while it runs (or verifies) `step`."""
        return StepContext(
            case_id=self.state.case_id,
            run_id=self.state.case_id,
            step_id=step.id,
            agent=self.agent,
            world=world,
            workspace=self.engine.workspace,
            evidence=evidence,
            output=evidence.output if evidence else lambda _line: None,
            follow_up=evidence.follow_up if evidence else lambda *_args: None,
            case_dir=self.case_dir,
            dry_run=dry_run,
            prior=self.state.priors.get(step.id, {}),
        )

    def scope(self) -> dict[str, Any]:
        """What `${{ ... }}` references can see."""
        return {
            "params": self.state.started.get("params", {}),
            "agent": self.agent.model_dump(mode="json"),
            "steps": {sid: {"outputs": s.outputs, "status": str(s.status)} for sid, s in self.state.steps.items()},
            "case": {"id": self.state.case_id, "dir": str(self.case_dir)},
        }

    def step(self, index: int, step: Step) -> Outcome:
        """Run one step to a terminal status or a wait."""
        action = self.engine.registry.get(step.action)
        assert action is not None  # lint guarantees it
        if step.id in self.options.skip:
            return self.skip(step, self.options.skip[step.id])
        try:
            scope = self.scope()
            if step.when is not None and not evaluate_condition(step.when, scope):
                if step.id in self.recheck and self.state.step(step.id).status == StepStatus.PENDING:
                    self.state.step(step.id).status = StepStatus.SKIPPED  # as journalled: nothing new to say
                    return None
                self.record(Kind.STEP_SKIPPED, {"step": step.id, "reason": f"when: {step.when} is false"}, step.id)
                return None
            args = render(step.with_, scope)
            params = action.Params.model_validate(args)
        except (SubstitutionError, ValidationError) as exc:
            return self.result(step, StepStatus.ERRORED, {}, bad_args(step, exc), ExitCode.BAD_INPUT)

        held = self.options.hold_mutating and action.mutates
        if (step.approval.required or held) and step.id not in self.state.approvals:
            waiting = self.approve(step, action.name, args)
            if waiting is not None:
                return waiting
        if action.releases:
            refusal = self.reenable_refusal(step)
            if refusal:
                return self.result(step, StepStatus.FAILED, {}, refusal, ExitCode.APPROVAL)
        if action.destructive and not self.evidence_done(index, action.domain):
            reason = self.options.overrides.get(step.id)
            if reason is None:
                text = (
                    f"step {step.id}: refused: {action.name} destroys state and no evidence step has "
                    "succeeded in this case (capture first, or override with a recorded reason)"
                )
                return self.result(step, StepStatus.FAILED, {}, text, ExitCode.STEP_FAILED)
            self.record(Kind.OVERRIDE, {"step": step.id, "by": self.options.actor, "reason": reason}, step.id)

        sink = CaseEvidence(self.store, self.rec, self.state, step.id, self.engine.on_capture)
        ctx = self.context(step, world=self.world, evidence=sink)
        if self.state.step(step.id).intent_open:
            try:
                check = action.verify(ctx, params)
            except StorageError:
                raise  # the case cannot be written: end the run, write nothing more
            except IrError as exc:
                return self.result(step, StepStatus.ERRORED, {}, f"step {step.id}: verify failed: {exc}", exc.exit_code)
            self.record(Kind.STEP_VERIFIED, {"step": step.id, "done": check.done, "detail": check.detail}, step.id)
            if check.done:
                return self.result(step, StepStatus.SUCCEEDED, dict(check.outputs), None, ExitCode.OK, recovered=True)
        return self.execute(step, action, ctx, params, args, sink)

    def execute(
        self, step: Step, action: Action[Any], ctx: StepContext, params: Any, args: Any, sink: CaseEvidence
    ) -> Outcome:
        """Execute with intent records, the step's timeout, and retries for transient errors."""
        first = attempt = self.state.step(step.id).attempts  # earlier runs' attempts do not count
        while True:
            attempt += 1
            self.record(Kind.STEP_STARTED, {"step": step.id, "action": action.name, "attempt": attempt}, step.id)
            try:
                if action.mutates:
                    intent = {
                        "step": step.id,
                        "action": action.name,
                        "args": args,
                        "key": ctx.idempotency_key,
                        "attempt": attempt,
                    }
                    if step.id not in self.state.priors:
                        intent["prior"] = dict(action.prior(ctx, params))
                    self.record(Kind.STEP_INTENT, intent, step.id)
                    ctx.prior = self.state.priors.get(step.id, {})
                outputs = call_with_timeout(lambda: action.execute(ctx, params), step.timeout, sink)
            except StorageError:
                raise  # the case cannot be written: end the run, write nothing more
            except IrError as exc:
                if getattr(exc, "transient", False) and attempt - first < step.retry.max_attempts:
                    wait = delay_for(step.retry, attempt - first)
                    self.record(
                        Kind.STEP_RETRY,
                        {"step": step.id, "attempt": attempt, "error": str(exc), "delay_s": wait},
                        step.id,
                    )
                    self.engine.sleep(wait)
                    continue
                status = StepStatus.ERRORED if _is_error(exc) else StepStatus.FAILED
                partial = dict(getattr(exc, "outputs", {}) or {})
                return self.result(step, status, partial, f"step {step.id}: {exc}", exc.exit_code)
            return self.result(step, StepStatus.SUCCEEDED, dict(outputs), None, ExitCode.OK)

    def result(
        self,
        step: Step,
        status: StepStatus,
        outputs: dict[str, Any],
        error: str | None,
        code: ExitCode,
        recovered: bool = False,
    ) -> Outcome:
        """Journal a step's result."""
        data: dict[str, Any] = {"step": step.id, "status": str(status), "outputs": outputs}
        if error:
            data["error"] = error
        if recovered:
            data["recovered"] = True
        self.record(Kind.STEP_RESULT, data, step.id)
        return None if status == StepStatus.SUCCEEDED else (status, code, error or status)

    def finish(
        self, status: RunStatus, code: ExitCode, message: str | None, waiting: tuple[str, ...] = ()
    ) -> RunSummary:
        """Journal the end of the run (with what is still live, once assessed) and summarise it."""
        collect(self.case_dir, self.rec.journal.records, self.record)
        steps = {s.id: str(self.state.step(s.id).status) for s in self.loaded.playbook.steps}
        data = {"status": str(status), "steps": steps, "message": message, "follow_ups": len(self.state.follow_ups)}
        self.record(Kind.RUN_FINISHED, data | ({"still_live": self.live} if self.live is not None else {}))
        return self.summary(status, code, message, waiting)

    def summary(
        self, status: RunStatus, code: ExitCode, message: str | None, waiting: tuple[str, ...] = ()
    ) -> RunSummary:
        """The summary of the run as it stands."""
        steps = {s.id: str(self.state.step(s.id).status) for s in self.loaded.playbook.steps}
        return RunSummary(
            status=status,
            steps=steps,
            case_dir=str(self.case_dir),
            case_id=self.state.case_id,
            head=self.state.head,
            message=message,
            exit_code=code,
            waiting_for=waiting,
            follow_ups=tuple(self.state.follow_ups),
            still_live=tuple(self.live or ()),
        )


def _stale(lock: AgentLock) -> dict[str, Any]:
    """What a dead holder's agent lock file said, for the record (the lock was taken over)."""
    return {"stale_agent_lock": lock.recorded_stale()} if lock.stale else {}


def _is_error(exc: IrError) -> bool:
    """True when our code or infrastructure broke (errored), not when the action said no (failed)."""
    return isinstance(exc, BackendUnavailable | StepTimeout | JournalError) or exc.exit_code == ExitCode.BAD_INPUT
