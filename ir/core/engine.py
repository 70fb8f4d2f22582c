"""The run engine: one entry point for the CLI, the TUI, the server and tabletop.

A run walks the playbook's steps in order. Before every mutating call it journals an intent
record (fsynced); after it, the result. On resume it replays the journal and, for a step whose
intent has no result, asks the action's `verify()` whether the effect is already in place
before deciding to execute it again, so no mutation is applied twice.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ir.core.action import Action, Registry, StepContext
from ir.core.case import PLAYBOOK_FILE, CaseState, RunStatus, StepStatus, new_case_id
from ir.core.errors import (
    ApprovalRefused,
    BackendUnavailable,
    CaseError,
    ExitCode,
    IrError,
    JournalError,
    PlaybookError,
    TransientError,
)
from ir.core.events import Event, EventHandler, RunOptions, RunSummary
from ir.core.evidence import EvidenceStore
from ir.core.inventory import Agent
from ir.core.journal import Journal
from ir.core.lint import lint
from ir.core.playbook import LoadedPlaybook, Step, parse_playbook, resolve_params
from ir.core.ports import CONTAINER_MUTATING, Backends, ContainerRuntime, ReadOnlyGuard
from ir.core.recorder import CaseEvidence, Recorder
from ir.core.retry import delay_for
from ir.core.substitution import SubstitutionError, Unresolved, evaluate_condition, render
from ir.core.validation import describe


class StepTimeout(TransientError):
    """A step ran longer than its `timeout`."""

    transient = False


class Engine:
    """Runs playbooks against the backends it is handed; reports through events."""

    def __init__(
        self,
        *,
        registry: Registry,
        backends: Backends,
        approvers: Mapping[str, tuple[str, ...]] | None = None,
        on_event: EventHandler | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.registry = registry
        self.backends = backends
        self.approvers = dict(approvers or {})
        self.on_event = on_event or (lambda _e: None)
        self.sleep = sleep

    # -- entry points -----------------------------------------------------------------------

    def start(
        self,
        *,
        loaded: LoadedPlaybook,
        agent: Agent,
        params: Mapping[str, str],
        cases_dir: Path,
        options: RunOptions,
    ) -> RunSummary:
        """Validate, open a new case (unless dry run) and run the playbook for `agent`."""
        problems = lint(loaded, self.registry)
        if problems:
            raise PlaybookError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        values = resolve_params(loaded.playbook, dict(params))
        self._check_step_names(loaded, options)
        if options.dry_run:
            return self._dry_run(loaded, agent, values)
        case_id = new_case_id(agent.id, loaded.playbook.id)
        case_dir = cases_dir / case_id
        case_dir.mkdir(parents=True)
        (case_dir / PLAYBOOK_FILE).write_text(loaded.text, encoding="utf-8")
        os.chmod(case_dir / PLAYBOOK_FILE, 0o444)
        with Journal(case_dir).open(create=True) as journal:
            rec = Recorder(journal, case_id, self.on_event)
            rec.write(
                "run.started",
                {
                    "case": case_id,
                    "run_id": case_id,
                    "playbook": {
                        "id": loaded.playbook.id,
                        "version": loaded.playbook.version,
                        "sha256": loaded.sha256,
                        "text_sha256": hashlib.sha256(loaded.text.encode()).hexdigest(),
                        "source": loaded.source,
                        "file": PLAYBOOK_FILE,
                    },
                    "agent": agent.model_dump(mode="json"),
                    "params": values,
                    "actor": options.actor,
                    "pid": os.getpid(),
                },
            )
            state = CaseState.replay(journal.records)
            return self._walk(case_dir, loaded, agent, state, rec, options)

    def resume(self, *, case_dir: Path, options: RunOptions) -> RunSummary:
        """Continue a case from its journal: verify real state, then run what is left."""
        with Journal(case_dir).open() as journal:
            state = CaseState.replay(journal.records)
            if not state.started:
                raise CaseError(f"{case_dir}: journal has no run.started record")
            loaded = self._pinned_playbook(case_dir, state)
            self._check_step_names(loaded, options)
            agent = Agent.model_validate(state.started["agent"])
            rec = Recorder(journal, state.case_id, self.on_event)
            rec.write(
                "run.resumed",
                {
                    "actor": options.actor,
                    "pid": os.getpid(),
                    "approve": sorted(options.approve),
                    "approve_all": options.approve_all,
                },
            )
            for step in loaded.playbook.steps:
                st = state.step(step.id)
                if st.status in (StepStatus.FAILED, StepStatus.ERRORED, StepStatus.CANCELLED):
                    st.status = StepStatus.PENDING  # the run stopped here: try again
            return self._walk(case_dir, loaded, agent, state, rec, options)

    # -- the walk ---------------------------------------------------------------------------

    def _walk(
        self,
        case_dir: Path,
        loaded: LoadedPlaybook,
        agent: Agent,
        state: CaseState,
        rec: Recorder,
        options: RunOptions,
    ) -> RunSummary:
        store = EvidenceStore(case_dir)
        runtime = self._runtime_factory(agent, dry_run=False)
        worst = ExitCode.OK
        message: str | None = None
        current: str | None = None
        try:
            for index, step in enumerate(loaded.playbook.steps):
                st = state.step(step.id)
                if st.status.terminal:
                    continue
                current = step.id
                scope = self._scope(state, agent, loaded, case_dir)
                outcome = self._run_step(index, step, st, state, scope, loaded, rec, store, runtime, agent, options)
                if outcome is None:
                    continue
                status, code, text = outcome
                if status == RunStatus.AWAITING_APPROVAL:
                    return self._finish(
                        rec, state, loaded, case_dir, RunStatus.AWAITING_APPROVAL, code, text, waiting=(step.id,)
                    )
                worst = max(worst, code)
                message = message or text
                if step.on_failure == "stop":
                    final = RunStatus.ERRORED if st.status == StepStatus.ERRORED else RunStatus.FAILED
                    return self._finish(rec, state, loaded, case_dir, final, worst, message)
        except KeyboardInterrupt:
            rec.write("run.interrupted", {"step": current})
            state.apply(rec.last)
            return self._summary(
                state,
                loaded,
                case_dir,
                RunStatus.INTERRUPTED,
                ExitCode.INTERRUPTED,
                f"interrupted during step {current}",
            )
        final = RunStatus.SUCCEEDED if worst == ExitCode.OK else RunStatus.FAILED
        return self._finish(rec, state, loaded, case_dir, final, worst, message)

    def _run_step(
        self,
        index: int,
        step: Step,
        st: Any,
        state: CaseState,
        scope: dict[str, Any],
        loaded: LoadedPlaybook,
        rec: Recorder,
        store: EvidenceStore,
        runtime: Callable[[], ContainerRuntime],
        agent: Agent,
        options: RunOptions,
    ) -> tuple[RunStatus | StepStatus, ExitCode, str] | None:
        """Run one step to a terminal status (or a wait); None when it succeeded or was skipped."""
        action = self.registry.get(step.action)
        assert action is not None  # lint guarantees it
        try:
            if step.when is not None:
                holds = evaluate_condition(step.when, scope)
                if not holds:
                    rec.write("step.skipped", {"step": step.id, "reason": f"when: {step.when} is false"}, step.id)
                    state.apply(rec.last)
                    return None
            args = render(step.with_, scope)
            params = action.Params.model_validate(args)
        except (SubstitutionError, ValidationError) as exc:
            text = _bad_args(step, exc)
            return self._result(rec, state, step, StepStatus.ERRORED, {}, text, ExitCode.BAD_INPUT)

        if step.approval.required and step.id not in state.approvals:
            waiting = self._approve(step, action.name, args, rec, state, options)
            if waiting is not None:
                return waiting

        if action.destructive and not self._evidence_done(loaded, state, index):
            reason = options.overrides.get(step.id)
            if reason is None:
                text = (
                    f"step {step.id}: refused: {action.name} destroys state and no evidence step has "
                    "succeeded in this case (capture first, or override with a recorded reason)"
                )
                return self._result(rec, state, step, StepStatus.FAILED, {}, text, ExitCode.STEP_FAILED)
            rec.write("override", {"step": step.id, "by": options.actor, "reason": reason}, step.id)
            state.apply(rec.last)

        sink = CaseEvidence(store, rec, state, step.id)
        ctx = StepContext(
            case_id=state.case_id,
            run_id=state.case_id,
            step_id=step.id,
            agent=agent,
            container_runtime=runtime,
            evidence=sink,
            output=sink.output,
            prior=state.priors.get(step.id, {}),
        )
        if st.intent_open:
            try:
                check = action.verify(ctx, params)
            except IrError as exc:
                return self._result(
                    rec, state, step, StepStatus.ERRORED, {}, f"step {step.id}: verify failed: {exc}", exc.exit_code
                )
            rec.write("step.verified", {"step": step.id, "done": check.done, "detail": check.detail}, step.id)
            if check.done:
                return self._result(
                    rec, state, step, StepStatus.SUCCEEDED, dict(check.outputs), None, ExitCode.OK, recovered=True
                )

        return self._execute(step, st, action, ctx, params, args, rec, state, sink)

    def _execute(
        self,
        step: Step,
        st: Any,
        action: Action[Any],
        ctx: StepContext,
        params: Any,
        args: Any,
        rec: Recorder,
        state: CaseState,
        sink: CaseEvidence,
    ) -> tuple[StepStatus, ExitCode, str] | None:
        policy, attempt = step.retry, st.attempts
        first = attempt  # attempts made by earlier runs of this case do not count against the policy
        while True:
            attempt += 1
            rec.write("step.started", {"step": step.id, "action": action.name, "attempt": attempt}, step.id)
            state.apply(rec.last)
            if action.mutates:
                intent = {
                    "step": step.id,
                    "action": action.name,
                    "args": args,
                    "key": ctx.idempotency_key,
                    "attempt": attempt,
                }
                if step.id not in state.priors:
                    try:
                        intent["prior"] = dict(action.prior(ctx, params))
                    except IrError as exc:
                        return self._result(
                            rec,
                            state,
                            step,
                            StepStatus.ERRORED if _is_error(exc) else StepStatus.FAILED,
                            {},
                            f"step {step.id}: {exc}",
                            exc.exit_code,
                        )
                rec.write("step.intent", intent, step.id)
                state.apply(rec.last)
                ctx.prior = state.priors.get(step.id, {})
            try:
                outputs = _call_with_timeout(lambda: action.execute(ctx, params), step.timeout, sink)
            except IrError as exc:
                tries_left = attempt - first < policy.max_attempts
                if exc_transient(exc) and tries_left:
                    wait = delay_for(policy, attempt - first)
                    rec.write(
                        "step.retry", {"step": step.id, "attempt": attempt, "error": str(exc), "delay_s": wait}, step.id
                    )
                    self.sleep(wait)
                    continue
                status = StepStatus.ERRORED if _is_error(exc) else StepStatus.FAILED
                return self._result(rec, state, step, status, {}, f"step {step.id}: {exc}", exc.exit_code)
            return self._result(rec, state, step, StepStatus.SUCCEEDED, dict(outputs), None, ExitCode.OK)

    # -- pieces -----------------------------------------------------------------------------

    def _result(
        self,
        rec: Recorder,
        state: CaseState,
        step: Step,
        status: StepStatus,
        outputs: dict[str, Any],
        error: str | None,
        code: ExitCode,
        recovered: bool = False,
    ) -> tuple[StepStatus, ExitCode, str] | None:
        data: dict[str, Any] = {"step": step.id, "status": str(status), "outputs": outputs}
        if error:
            data["error"] = error
        if recovered:
            data["recovered"] = True
        rec.write("step.result", data, step.id)
        state.apply(rec.last)
        if status == StepStatus.SUCCEEDED:
            return None
        return (status, code, error or status)

    def _approve(
        self, step: Step, action: str, args: Any, rec: Recorder, state: CaseState, options: RunOptions
    ) -> tuple[RunStatus, ExitCode, str] | None:
        if options.approve_all or step.id in options.approve:
            allowed = self._allowed(step)
            if allowed is not None and options.actor not in allowed:
                rec.write(
                    "approval.refused",
                    {"step": step.id, "by": options.actor, "reason": "not an approver for this step"},
                    step.id,
                )
                state.apply(rec.last)
                raise ApprovalRefused(
                    f"step {step.id}: {options.actor} may not approve it (approvers: {', '.join(sorted(allowed))})"
                )
            rec.write(
                "approval.granted", {"step": step.id, "by": options.actor, "action": action, "args": args}, step.id
            )
            state.apply(rec.last)
            return None
        rec.write(
            "approval.waiting",
            {"step": step.id, "action": action, "args": args, "approvers": list(step.approval.approvers)},
            step.id,
        )
        state.apply(rec.last)
        return (
            RunStatus.AWAITING_APPROVAL,
            ExitCode.APPROVAL,
            f"step {step.id} waits for approval: ir resume CASE --approve {step.id}",
        )

    def _allowed(self, step: Step) -> set[str] | None:
        if not step.approval.approvers:
            return None
        people: set[str] = set()
        for name in step.approval.approvers:
            if name.startswith("group:"):
                people.update(self.approvers.get(name.removeprefix("group:"), ()))
            else:
                people.add(name)
        return people

    def _evidence_done(self, loaded: LoadedPlaybook, state: CaseState, index: int) -> bool:
        for earlier in loaded.playbook.steps[:index]:
            action = self.registry.get(earlier.action)
            if action and action.captures_evidence and state.step(earlier.id).status == StepStatus.SUCCEEDED:
                return True
        return False

    def _scope(self, state: CaseState, agent: Agent, loaded: LoadedPlaybook, case_dir: Path | None) -> dict[str, Any]:
        return {
            "params": state.started.get("params", {}),
            "agent": agent.model_dump(mode="json"),
            "steps": {sid: {"outputs": s.outputs, "status": str(s.status)} for sid, s in state.steps.items()},
            "case": {"id": state.case_id, "dir": str(case_dir) if case_dir else ""},
        }

    def _runtime_factory(self, agent: Agent, *, dry_run: bool) -> Callable[[], ContainerRuntime]:
        cache: list[ContainerRuntime] = []

        def get() -> ContainerRuntime:
            if not cache:
                host = agent.container.host if agent.container else None
                runtime = self.backends.container_runtime(agent.backend, host)
                cache.append(ReadOnlyGuard(runtime, CONTAINER_MUTATING) if dry_run else runtime)
            return cache[0]

        return get

    def _check_step_names(self, loaded: LoadedPlaybook, options: RunOptions) -> None:
        known = {s.id for s in loaded.playbook.steps}
        for name in sorted(options.approve | set(options.overrides)):
            if name not in known:
                raise PlaybookError(
                    f"playbook {loaded.playbook.id}: no step {name!r} to approve or override "
                    f"(steps: {', '.join(sorted(known))})"
                )

    def _pinned_playbook(self, case_dir: Path, state: CaseState) -> LoadedPlaybook:
        path = case_dir / PLAYBOOK_FILE
        try:
            loaded = parse_playbook(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            raise CaseError(f"{path}: cannot read the case's pinned playbook: {exc.strerror}") from None
        pinned = state.started.get("playbook", {}).get("sha256")
        if loaded.sha256 != pinned:
            raise JournalError(f"{path}: content hash {loaded.sha256[:12]} differs from the pinned {str(pinned)[:12]}")
        return loaded

    def _finish(
        self,
        rec: Recorder,
        state: CaseState,
        loaded: LoadedPlaybook,
        case_dir: Path,
        status: RunStatus,
        code: ExitCode,
        message: str | None,
        waiting: tuple[str, ...] = (),
    ) -> RunSummary:
        steps = {s.id: str(state.step(s.id).status) for s in loaded.playbook.steps}
        rec.write("run.finished", {"status": str(status), "steps": steps, "message": message})
        state.apply(rec.last)
        return self._summary(state, loaded, case_dir, status, code, message, waiting)

    def _summary(
        self,
        state: CaseState,
        loaded: LoadedPlaybook,
        case_dir: Path,
        status: RunStatus,
        code: ExitCode,
        message: str | None,
        waiting: tuple[str, ...] = (),
    ) -> RunSummary:
        steps = {s.id: str(state.step(s.id).status) for s in loaded.playbook.steps}
        return RunSummary(
            status=status,
            steps=steps,
            case_dir=str(case_dir),
            case_id=state.case_id,
            head=state.head,
            message=message,
            exit_code=code,
            waiting_for=waiting,
        )

    # -- dry run ----------------------------------------------------------------------------

    def _dry_run(self, loaded: LoadedPlaybook, agent: Agent, values: dict[str, Any]) -> RunSummary:
        runtime = self._runtime_factory(agent, dry_run=True)
        scope: dict[str, Any] = {
            "params": values,
            "agent": agent.model_dump(mode="json"),
            "steps": {},
            "case": {"id": Unresolved("case.id"), "dir": Unresolved("case.dir")},
        }
        steps: dict[str, str] = {}
        worst, message = ExitCode.OK, None
        for step in loaded.playbook.steps:
            action = self.registry.get(step.action)
            assert action is not None
            scope["steps"][step.id] = Unresolved(f"steps.{step.id}")
            data: dict[str, Any] = {
                "step": step.id,
                "title": step.title,
                "action": step.action,
                "approval": step.approval.required,
                "mutates": action.mutates,
            }
            try:
                holds = evaluate_condition(step.when, scope) if step.when is not None else True
                args = render(step.with_, scope)
                data["args"] = _jsonable(args)
                if holds is False:
                    data["plan"] = {"changes": [], "notes": [f"skipped: when: {step.when} is false"]}
                elif _contains_unresolved(args) or isinstance(holds, Unresolved):
                    data["plan"] = {
                        "changes": [],
                        "notes": ["depends on an earlier step's output: planned at run time"],
                    }
                else:
                    params = action.Params.model_validate(args)
                    ctx = StepContext(
                        case_id="(dry-run)",
                        run_id="(dry-run)",
                        step_id=step.id,
                        agent=agent,
                        container_runtime=runtime,
                        evidence=None,
                        output=lambda _l: None,
                        dry_run=True,
                    )
                    data["plan"] = action.plan(ctx, params).as_dict()
                steps[step.id] = "planned"
            except (SubstitutionError, ValidationError) as exc:
                data["error"], steps[step.id] = _bad_args(step, exc), "errored"
                worst, message = max(worst, ExitCode.BAD_INPUT), message or data["error"]
            except IrError as exc:
                data["error"], steps[step.id] = f"step {step.id}: {exc}", "errored"
                worst, message = max(worst, exc.exit_code), message or data["error"]
            self.on_event(Event(kind="step.planned", data=data, step=step.id))
        status = RunStatus.PLANNED if worst == ExitCode.OK else RunStatus.ERRORED
        return RunSummary(status=status, steps=steps, message=message, exit_code=worst)


def exc_transient(exc: IrError) -> bool:
    """Whether the engine may retry after `exc`."""
    return bool(getattr(exc, "transient", False))


def _is_error(exc: IrError) -> bool:
    """True when our code or infrastructure broke (errored), not when the action said no (failed)."""
    return isinstance(exc, BackendUnavailable | StepTimeout | JournalError) or exc.exit_code == ExitCode.BAD_INPUT


def _bad_args(step: Step, exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"step {step.id}: bad arguments for {step.action}: {describe(first)}"
    return f"step {step.id}: {exc}"


def _contains_unresolved(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, dict):
        return any(_contains_unresolved(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unresolved(v) for v in value)
    return False


def _jsonable(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _call_with_timeout(fn: Callable[[], Any], timeout: float | None, sink: CaseEvidence) -> Any:
    """Run `fn`; past `timeout` seconds abandon it (its later writes to the case are refused)."""
    if timeout is None:
        return fn()
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def target() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            box.put((False, exc))

    threading.Thread(target=target, daemon=True, name="ir-step").start()
    try:
        ok, value = box.get(timeout=timeout)
    except queue.Empty:
        sink.close()
        raise StepTimeout(f"timed out after {timeout:g}s (the call may still complete: resume verifies)") from None
    if ok:
        return value
    raise value
