"""Honest status: a failed step never ends succeeded, what is still live is read from real state,
and resume re-evaluates what a failure kept from running (the simulated cloud and CloudTrail)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ir.core.case import RunStatus
from ir.core.errors import ExitCode
from ir.core.events import Event
from ir.core.journal import read
from ir.core.verify import verify_case
from tests.conftest import make_workspace
from tests.unit.test_credential_actions import DEMO_WORLD
from tests.unit.test_engine import Harness

CLOUD = DEMO_WORLD
"""The demo's cloud: the agent's user minted `support-bot-helper` with key AKIAEXAMPLEDEMO00003 (CloudTrail)."""
AGENT = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: simulated
    credentials:
      - {type: aws.iam_user, user_name: agent-support-bot}
      - {type: aws.iam_role, role_name: support-bot-runtime}
      - {type: aws.secret, secret_id: agent/support-bot/openai}
"""
MINTED_KEY = "aws.iam_user:support-bot-helper access key AKIAEXAMPLEDEMO00003 is Active"


def keys(h: Harness, user: str) -> dict[str, str]:
    cloud = h.backends.cloud_credentials("simulated")
    return {k.key_id: k.status for k in cloud.principal("user", user).access_keys}


def finished(case_dir: str | None) -> list[dict[str, object]]:
    return [dict(r.data) for r in read(Path(str(case_dir)) / "journal.jsonl").records if r.type == "run.finished"]


def test_a_cloudtrail_outage_lists_the_minted_key_as_live_and_resume_contains_it(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))
    h.world.store.inject_fault("lookup_events", "transient", times=3)  # every attempt of the step
    first = h.run(approve_all=True)

    assert first.status == RunStatus.FAILED and first.exit_code == ExitCode.STEP_FAILED
    assert first.steps["minted"] == "failed" and first.steps["minted-keys"] == "skipped"
    live = {item["what"]: item for item in first.still_live}
    assert live[MINTED_KEY]["step"] == "minted-keys"
    assert "when: steps.minted.status == succeeded is false" in live[MINTED_KEY]["why"]
    assert "aws.iam_user:support-bot-helper is not denied (no agent-ir-deny-all)" in live
    assert "aws.iam_user:support-bot-helper still has a console password" in live
    assert not any("support-bot-runtime" in what or "agent-support-bot " in what for what in live)
    assert finished(first.case_dir)[-1]["still_live"] == [dict(item) for item in first.still_live]
    assert first.as_dict()["still_live"] == [dict(item) for item in first.still_live]
    assert keys(h, "support-bot-helper") == {"AKIAEXAMPLEDEMO00003": "Active"}

    again = h.resume(first.case_dir, approve_all=True)  # minted-console asks for its approval now

    assert again.status == RunStatus.SUCCEEDED and again.exit_code == ExitCode.OK, again.message
    assert {again.steps[s] for s in ("minted", "minted-keys", "minted-deny", "minted-console")} == {"succeeded"}
    assert keys(h, "support-bot-helper") == {"AKIAEXAMPLEDEMO00003": "Inactive"}
    assert again.still_live == () and finished(again.case_dir)[-1]["still_live"] == []
    skipped = [e.step for e in h.events if e.kind == "step.skipped"]
    assert skipped.count("freeze") == 1  # a `when:` still false on resume is not journalled twice
    assert verify_case(Path(str(again.case_dir))).ok


def test_a_failed_step_with_on_failure_continue_never_ends_succeeded(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))
    h.world.store.inject_fault("set_key_status", "denied", times=1)  # the agent's own key stays Active
    first = h.run(approve_all=True)
    assert first.status == RunStatus.FAILED and first.steps["keys"] == "failed"
    live = [item for item in first.still_live if item["step"] == "keys"]
    assert [item["what"] for item in live] == [
        "aws.iam_user:agent-support-bot access key AKIAEXAMPLEDEMO00001 is Active",
        "aws.iam_user:agent-support-bot access key AKIAEXAMPLEDEMO00002 is Active",
    ]
    assert live[0]["why"].startswith("step keys failed: ")

    skipped = h.resume(first.case_dir, skip={"keys": "will do it by hand"})  # no step fails now, keys still live

    assert skipped.status == RunStatus.INCOMPLETE and skipped.exit_code == ExitCode.STEP_FAILED
    assert "containment is not whole: 2 still live" in str(skipped.message)
    assert {item["why"] for item in skipped.still_live} == {"step keys was skipped: will do it by hand (by tester)"}
    later = h.resume(skipped.case_dir)  # a responder's skip stays a skip: still incomplete, never succeeded
    assert later.status == RunStatus.INCOMPLETE and later.steps["keys"] == "skipped"
    assert keys(h, "agent-support-bot") == {"AKIAEXAMPLEDEMO00001": "Active", "AKIAEXAMPLEDEMO00002": "Active"}


def test_a_playbook_without_containment_steps_is_not_assessed(workspace: Path) -> None:
    h = Harness(workspace)
    summary = h.run(text=(workspace / "playbooks" / "agent-reenable.yaml").read_text(), params={"incident": "x"})
    assert "still_live" not in finished(summary.case_dir)[-1]


def test_when_cloudtrail_stays_down_what_was_minted_is_reported_unknown_not_contained(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))
    h.world.store.inject_fault("lookup_events", "transient", times=99)
    summary = h.run(approve_all=True)
    assert summary.status == RunStatus.FAILED
    (item,) = summary.still_live
    assert item["step"] == "minted" and item["what"].startswith("what it finds could not be read: cloudtrail")
    assert item["why"].startswith("step minted failed: step minted: cloudtrail LookupEvents")


def after(h: Harness, kind: str, step: str, do: Callable[[], None]) -> None:
    """Run `do` once, when the engine reports event `kind` for `step` (what an agent could do meanwhile)."""
    handler = h.engine.on_event

    def hook(event: Event) -> None:
        handler(event)
        if event.kind == kind and event.step == step:
            do()

    h.engine.on_event = hook


def test_a_key_turned_back_on_after_its_step_succeeded_leaves_the_run_incomplete(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))
    cloud = h.backends.cloud_credentials("simulated")
    after(h, "step.result", "deny", lambda: cloud.set_key_status("agent-support-bot", "AKIAEXAMPLEDEMO00001", "Active"))
    first = h.run(approve_all=True)

    assert first.steps["keys"] == "succeeded" and keys(h, "agent-support-bot")["AKIAEXAMPLEDEMO00001"] == "Active"
    assert first.status == RunStatus.INCOMPLETE and first.exit_code == ExitCode.STEP_FAILED
    assert [(i["what"], i["step"]) for i in first.still_live] == [
        ("aws.iam_user:agent-support-bot access key AKIAEXAMPLEDEMO00001 is Active", "keys")
    ]
    assert first.still_live[0]["why"] == "step keys succeeded, but real state at the end of the run shows it live"

    again = h.resume(first.case_dir, approve_all=True)  # the step named live is redone
    assert again.status == RunStatus.SUCCEEDED and again.still_live == ()
    assert keys(h, "agent-support-bot")["AKIAEXAMPLEDEMO00001"] == "Inactive"


def test_a_minted_key_turned_back_on_after_minted_keys_succeeded_is_still_live(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))
    cloud = h.backends.cloud_credentials("simulated")
    after(
        h,
        "step.result",
        "minted-deny",
        lambda: cloud.set_key_status("support-bot-helper", "AKIAEXAMPLEDEMO00003", "Active"),
    )
    summary = h.run(approve_all=True)

    assert summary.steps["minted-keys"] == "succeeded"
    assert summary.status == RunStatus.INCOMPLETE
    assert [(i["what"], i["step"]) for i in summary.still_live] == [(MINTED_KEY, "minted-keys")]


def test_a_backend_down_at_the_end_reports_unknown_never_contained(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))

    def outage() -> None:
        for operation in ("principal", "inline_policy"):
            h.world.store.inject_fault(operation, "unavailable", times=999)

    after(h, "step.result", "minted-console", outage)
    summary = h.run(approve_all=True)

    assert {summary.steps[s] for s in ("keys", "deny", "sessions", "minted-keys")} == {"succeeded"}
    assert summary.status != RunStatus.SUCCEEDED and summary.exit_code != ExitCode.OK
    unknown = {i["step"] for i in summary.still_live if i["what"].startswith("its targets could not be read: ")}
    assert {"keys", "deny", "sessions", "console", "minted-keys", "minted-deny"} <= unknown
    keys_item = next(i for i in summary.still_live if i["step"] == "keys")
    assert keys_item["why"] == "step keys succeeded, but real state could not be read at the end of the run"


def test_a_principal_minted_after_discovery_ran_is_still_live_and_resume_finds_and_contains_it(tmp_path: Path) -> None:
    h = Harness(make_workspace(tmp_path / "ws", agents=AGENT, world=CLOUD))

    def mint() -> None:  # the agent, still running somewhere, mints another user once find_minted has looked
        with h.world.store.open(write=True) as world:
            key = {"key_id": "AKIAEXAMPLEDEMO00009", "status": "Active", "created": "2026-11-20T03:20:00Z"}
            world["iam"]["users"]["support-bot-helper2"] = {**world["iam"]["users"]["support-bot-helper"]}
            world["iam"]["users"]["support-bot-helper2"].update(
                arn="arn:aws:iam::123456789012:user/support-bot-helper2",
                access_keys=[key],
                inline_policies={},
                login_profile=None,
            )
            by = {"type": "IAMUser", "userName": "agent-support-bot", "accessKeyId": "AKIAEXAMPLEDEMO00002"}
            world["cloudtrail"].append(
                {
                    "eventTime": "2026-11-20T03:20:00Z",
                    "eventSource": "iam.amazonaws.com",
                    "eventName": "CreateUser",
                    "eventID": "late-0001",
                    "userIdentity": by,
                    "requestParameters": {"userName": "support-bot-helper2"},
                }
            )

    after(h, "step.result", "minted", mint)
    first = h.run(approve_all=True)

    assert first.steps["minted-keys"] == "succeeded" and first.status == RunStatus.INCOMPLETE
    live = {(i["what"], i["step"]) for i in first.still_live}
    assert ("aws.iam_user:support-bot-helper2 access key AKIAEXAMPLEDEMO00009 is Active", "minted-keys") in live
    assert ("aws.iam_user:support-bot-helper2 is not denied (no agent-ir-deny-all)", "minted-deny") in live

    again = h.resume(first.case_dir, approve_all=True)  # find_minted reads again, then its steps redo
    assert again.status == RunStatus.SUCCEEDED and again.still_live == (), again.still_live
    assert keys(h, "support-bot-helper2") == {"AKIAEXAMPLEDEMO00009": "Inactive"}
