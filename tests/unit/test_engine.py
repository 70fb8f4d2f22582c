"""The engine on the simulated world: lifecycle, approvals, dry run, gates, retries, timeouts, resume."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from ir.actions import default_registry
from ir.backends import WorkspaceBackends
from ir.backends.simulated import SimulatedWorld
from ir.core.action import Action, ActionParams, Check, Plan, Registry, StepContext
from ir.core.case import RunStatus, load_state
from ir.core.engine import Engine
from ir.core.errors import ApprovalRefused, ExitCode, PlaybookError
from ir.core.events import Event, RunOptions, RunSummary
from ir.core.journal import read
from ir.core.playbook import find_playbook, parse_playbook
from ir.core.verify import verify_case
from ir.core.workspace import find_workspace
from tests.conftest import container_steps


class Harness:
    """An engine over a workspace, collecting events."""

    def __init__(self, root: Path, registry: Registry | None = None) -> None:
        self.ws = find_workspace(root)
        self.backends = WorkspaceBackends(self.ws)
        self.events: list[Event] = []
        self.sleeps: list[float] = []
        self.engine = Engine(
            registry=registry or default_registry(),
            backends=self.backends,
            workspace=self.ws.root,
            approvers={"oncall": ("alice",)},
            on_event=self.events.append,
            sleep=self.sleeps.append,
        )

    @property
    def world(self) -> SimulatedWorld:
        world = self.backends.container_runtime("simulated", None)
        assert isinstance(world, SimulatedWorld)
        return world

    def run(
        self,
        playbook: str = "agent-compromise",
        params: Mapping[str, str] | None = None,
        text: str | None = None,
        **options: Any,
    ) -> RunSummary:
        loaded = parse_playbook(text, "test.yaml") if text else find_playbook(self.ws.playbooks_dir, playbook)
        agent = self.ws.inventory.get("support-bot", "agents.yaml")
        return self.engine.start(
            loaded=loaded,
            agent=agent,
            params=params or {},
            cases_dir=self.ws.cases_dir,
            options=RunOptions(actor=options.pop("actor", "tester"), **options),
        )

    def resume(self, case_dir: str | None, **options: Any) -> RunSummary:
        assert case_dir
        return self.engine.resume(
            case_dir=Path(case_dir), options=RunOptions(actor=options.pop("actor", "tester"), **options)
        )

    def kinds(self, step: str | None = None) -> list[str]:
        return [e.kind for e in self.events if step is None or e.step == step]


def container(h: Harness) -> dict[str, Any]:
    state = h.world.inspect("support-bot")
    return {"status": state.status, "networks": state.network_names}


def test_default_run_freezes_captures_isolates_and_leaves_the_container(workspace: Path) -> None:
    h = Harness(workspace)
    summary = h.run()
    assert summary.status == RunStatus.SUCCEEDED and summary.exit_code == ExitCode.OK
    assert dict(summary.steps) == container_steps()
    assert container(h) == {"status": "paused", "networks": ()}
    case = Path(str(summary.case_dir))
    report = verify_case(case)
    assert report.ok and report.evidence == 9
    state = load_state(case)
    assert {e["name"] for e in state.evidence} == {
        "inspect.json",
        "top.json",
        "logs.txt",
        "diff.json",
        "filesystem.tar",
        "image.tar",
        "volumes.json",
        "timeline.jsonl",
        "timeline-summary.json",
    }
    assert [u["name"] for u in state.unavailable] == ["checkpoint.tar"]
    assert "no process memory" in state.unavailable[0]["reason"]
    isolate = state.step("isolate").outputs
    assert [n["name"] for n in isolate["networks"]] == ["agents-net", "egress-proxy"]
    assert summary.head == read(case / "journal.jsonl").head


def test_every_mutating_call_has_an_intent_record_before_it(workspace: Path) -> None:
    h = Harness(workspace)
    h.run()
    for step in ("freeze", "snapshot", "isolate"):
        kinds = h.kinds(step)
        assert kinds.index("step.intent") < kinds.index("step.result")
        assert kinds.index("step.started") < kinds.index("step.intent")
    mutating = [op for op, _ in h.world.calls if op in {"pause", "disconnect", "commit"}]
    assert mutating == ["pause", "commit", "disconnect", "disconnect"]


def test_dry_run_makes_no_mutating_call_and_writes_no_case(workspace: Path) -> None:
    h = Harness(workspace)
    before = container(h)
    summary = h.run(dry_run=True, params={"stop_container": "true"})
    assert summary.status == RunStatus.PLANNED and summary.case_dir is None
    assert {op for op, _ in h.world.calls} <= {"inspect"}
    assert container(h) == before
    assert list((workspace / "cases").iterdir()) == []
    plans = {e.step: e.data for e in h.events if e.kind == "step.planned"}
    assert plans["freeze"]["plan"]["changes"] == [
        {
            "resource": plans["freeze"]["plan"]["changes"][0]["resource"],
            "attribute": "status",
            "before": "running",
            "after": "paused",
        }
    ]
    assert [c["attribute"] for c in plans["isolate"]["plan"]["changes"]] == [
        "network agents-net",
        "network egress-proxy",
    ]
    assert plans["stop"]["approval"] is True
    assert plans["stop"]["args"] == {"timeout": 10}


def test_an_action_that_tries_to_mutate_in_a_dry_run_is_stopped(workspace: Path) -> None:
    class Sneaky(Action[ActionParams]):
        name, summary, Params = "test.sneaky", "plans by pausing", ActionParams

        def plan(self, ctx: StepContext, params: ActionParams) -> Plan:
            ctx.containers().pause("support-bot")
            return Plan()

        def execute(self, ctx: StepContext, params: ActionParams) -> Mapping[str, Any]:
            return {}

        def verify(self, ctx: StepContext, params: ActionParams) -> Check:
            return Check(False, "")

    registry = default_registry()
    registry.add(Sneaky())
    h = Harness(workspace, registry)
    text = (
        'schema: ir/playbook/v1\nid: s\nversion: "1.0.0"\ntitle: S\nsteps:\n'
        "  - {id: a, title: A, action: test.sneaky, guidance: g}\n"
    )
    summary = h.run(text=text, dry_run=True)
    assert summary.status == RunStatus.ERRORED
    assert "dry run: refused mutating call pause()" in str(summary.message)
    assert container(h)["status"] == "running"


def test_approval_gate_waits_then_resume_with_approval_completes(workspace: Path) -> None:
    h = Harness(workspace)
    waiting = h.run(params={"stop_container": "true"})
    assert waiting.status == RunStatus.AWAITING_APPROVAL and waiting.exit_code == ExitCode.APPROVAL
    assert waiting.waiting_for == ("stop",)
    assert container(h)["status"] == "paused"
    still = h.resume(waiting.case_dir)
    assert still.status == RunStatus.AWAITING_APPROVAL
    done = h.resume(waiting.case_dir, approve=frozenset({"stop"}), actor="carol")
    assert done.status == RunStatus.SUCCEEDED and done.steps["stop"] == "succeeded"
    assert container(h)["status"] == "exited"
    granted = [e for e in h.events if e.kind == "approval.granted"]
    assert [(e.step, e.data["by"], e.data["action"], e.data["args"]) for e in granted] == [
        ("stop", "carol", "container.stop", {"timeout": 10})
    ]
    assert verify_case(Path(str(done.case_dir))).ok


def test_only_listed_approvers_may_approve(workspace: Path) -> None:
    text = (
        Path(workspace / "playbooks" / "agent-compromise.yaml")
        .read_text()
        .replace("    approval: required\n", "    approval: {required: true, approvers: ['group:oncall']}\n")
    )
    h = Harness(workspace)
    with pytest.raises(ApprovalRefused, match=r"mallory may not approve it \(approvers: alice\)"):
        h.run(text=text, params={"stop_container": "true"}, approve_all=True, actor="mallory")
    assert container(h)["status"] == "paused"
    (case,) = (workspace / "cases").iterdir()  # one open case per agent and playbook: alice continues it
    assert h.resume(str(case), approve_all=True, actor="alice").status == RunStatus.SUCCEEDED


def test_destructive_step_is_refused_when_the_snapshot_failed_unless_overridden(workspace: Path) -> None:
    text = (workspace / "playbooks" / "agent-compromise.yaml").read_text()  # every step: on_failure continue
    h = Harness(workspace)
    h.world.inject_fault("inspect_raw", "denied", times=1)  # the snapshot cannot read the container
    refused = h.run(text=text, params={"stop_container": "true"}, approve_all=True)
    assert refused.steps["snapshot"] == "failed"
    assert refused.steps["stop"] == "failed"
    assert "no evidence step has succeeded" in str([e.data.get("error") for e in h.events if e.step == "stop"])
    assert container(h)["status"] == "paused"

    h2 = Harness(workspace)
    h2.world.inject_fault("inspect_raw", "denied", times=1)
    forced = h2.run(
        text=text,
        params={"stop_container": "true"},
        approve_all=True,
        overrides={"stop": "host is being reimaged; memory captured out of band"},
    )
    assert forced.steps["stop"] == "succeeded"
    overrides = [e.data for e in h2.events if e.kind == "override"]
    assert overrides == [
        {"step": "stop", "by": "tester", "reason": "host is being reimaged; memory captured out of band"}
    ]


def test_transient_errors_are_retried_with_backoff_others_are_not(workspace: Path) -> None:
    h = Harness(workspace)
    h.world.inject_fault("pause", "transient", times=2)
    summary = h.run()
    assert summary.steps["freeze"] == "succeeded"
    assert h.sleeps == [1.0, 2.0]
    assert [e.data["attempt"] for e in h.events if e.kind == "step.started" and e.step == "freeze"] == [1, 2, 3]

    h2 = Harness(workspace)
    h2.world.inject_fault("pause", "denied", times=1)
    h2.world.unpause("support-bot")
    failed = h2.run()
    assert failed.status == RunStatus.FAILED and failed.exit_code == ExitCode.STEP_FAILED
    # freezing failed, but containment goes on: capture and isolation still ran
    assert failed.steps == container_steps(freeze="failed")
    assert container(h2) == {"status": "running", "networks": ()}
    assert h2.sleeps == []


def test_backend_unavailable_is_errored_with_exit_3(workspace: Path) -> None:
    h = Harness(workspace)
    h.world.inject_fault("inspect", "unavailable", times=1)
    summary = h.run()
    assert summary.status == RunStatus.ERRORED and summary.exit_code == ExitCode.BACKEND_UNAVAILABLE
    assert summary.steps["freeze"] == "errored"
    assert verify_case(Path(str(summary.case_dir))).ok


class Slow(Action[ActionParams]):
    name, summary, Params, mutates = "test.slow", "sleeps", ActionParams, False

    def plan(self, ctx: StepContext, params: ActionParams) -> Plan:
        return Plan()

    def execute(self, ctx: StepContext, params: ActionParams) -> Mapping[str, Any]:
        time.sleep(5)
        ctx.output("late line")
        return {}

    def verify(self, ctx: StepContext, params: ActionParams) -> Check:
        return Check(False, "")


def test_a_step_past_its_timeout_is_errored_and_its_late_writes_refused(workspace: Path) -> None:
    registry = default_registry()
    registry.add(Slow())
    h = Harness(workspace, registry)
    text = (
        'schema: ir/playbook/v1\nid: s\nversion: "1.0.0"\ntitle: S\nsteps:\n'
        "  - {id: a, title: A, action: test.slow, guidance: g, timeout: 200ms, on_failure: continue}\n"
        "  - {id: b, title: B, action: container.pause, guidance: g}\n"
    )
    summary = h.run(text=text)
    assert summary.steps == {"a": "errored", "b": "succeeded"}
    assert "timed out after 0.2s" in str(summary.message)
    assert verify_case(Path(str(summary.case_dir))).ok


def test_unknown_step_names_in_approve_are_bad_input(workspace: Path) -> None:
    with pytest.raises(PlaybookError, match="no step 'stp' to approve"):
        Harness(workspace).run(approve=frozenset({"stp"}))


def test_resume_after_interrupt_verifies_instead_of_redoing(workspace: Path) -> None:
    h = Harness(workspace)
    calls = {"n": 0}
    original = h.world.pause

    def pause_then_die(ref: str) -> None:
        original(ref)
        calls["n"] += 1
        raise KeyboardInterrupt  # the process is told to stop right after the call took effect

    h.world.pause = pause_then_die  # type: ignore[method-assign]
    first = h.run()
    assert first.status == RunStatus.INTERRUPTED and first.exit_code == ExitCode.INTERRUPTED
    assert container(h)["status"] == "paused"
    h.world.pause = original  # type: ignore[method-assign]
    resumed = h.resume(first.case_dir)
    assert resumed.status == RunStatus.SUCCEEDED
    assert calls["n"] == 1
    verified = [e.data for e in h.events if e.kind == "step.verified"]
    assert verified == [{"step": "freeze", "done": True, "detail": verified[0]["detail"]}]
    results = [e.data for e in h.events if e.kind == "step.result" and e.step == "freeze"]
    assert results[-1]["recovered"] is True


def test_a_run_keeps_its_playbook_even_if_the_workspace_copy_changes(workspace: Path) -> None:
    h = Harness(workspace)
    waiting = h.run(params={"stop_container": "true"})
    book = workspace / "playbooks" / "agent-compromise.yaml"
    book.write_text(book.read_text().replace("container.stop", "container.unpause"))
    done = h.resume(waiting.case_dir, approve_all=True)
    assert done.status == RunStatus.SUCCEEDED
    assert container(h)["status"] == "exited"


def test_no_canary_secret_reaches_the_journal_or_events(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ir.core import redaction

    monkeypatch.setenv("AGENT_API_TOKEN", "canaryTOKEN-5f4e3d2c1b0a")
    redaction.register_environment()
    h = Harness(workspace)
    summary = h.run()
    journal = (Path(str(summary.case_dir)) / "journal.jsonl").read_text()
    events = json.dumps([e.as_dict() for e in h.events], default=str)
    for text in (journal, events):
        assert "sk-canaryCANARYcanary0123456789abcd" not in text  # the container's env, via inspect
        assert "canaryTOKEN-5f4e3d2c1b0a" not in text
