"""Expectations and scores of exercises whose cases the real engine made: the alert through `ir contain`,
the responder's `ir resume`, the decision through `ir decide`. Each failing responder fails exactly the
expectation their mistake breaks, with the record that shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ir.actions import default_registry
from ir.tabletop.destructive import Destructive
from ir.tabletop.expectations import Result, evaluate
from ir.tabletop.played import load_played
from ir.tabletop.scenario import load_scenario
from ir.tabletop.scoring import exercise_times, score_objectives
from tests.exercises import Exercise

DESTRUCTIVE = Destructive.from_actions(default_registry())


def play(tmp_path: Path, *resume: str, advance_before_action: float = 30, end: bool = True) -> Exercise:
    """Alert at T+0, backdoor minted at T+1:30, the responder resumes the waiting case (with `resume`'s
    extra arguments) `advance_before_action` later, a signed keep-disabled decision a minute after."""
    ex = Exercise(tmp_path).start()
    ex.deliver_alert()
    ex.advance(90)
    ex.deliver_backdoor()
    ex.advance(advance_before_action)
    ex.ir("resume", ex.case, "--yes", "--as", "bob", *resume, codes=(0, 1))
    ex.advance(60)
    ex.ir("decide", ex.case, "--decision", "keep-disabled", "--by", "demo-responder", "--reason", "cause unknown")
    if end:
        ex.end()
    return ex


def results(ex: Exercise, now: str | None = None) -> dict[str, Result]:
    scenario = load_scenario(ex.dir / "scenario.yaml")
    return {r.expectation: r for r in evaluate(scenario, ex.dir, destructive=DESTRUCTIVE, now=now)}


def statuses(found: dict[str, Result]) -> dict[str, str]:
    return {k: r.status for k, r in found.items()}


def record(ex: Exercise, evidence: Any) -> dict[str, Any]:
    """The journal record an evidence item points at."""
    lines = (ex.dir / evidence.file).read_text().splitlines()
    return dict(json.loads(lines[evidence.seq - 1]))


def test_the_right_response_passes_every_engine_expectation_and_times_it_in_exercise_time(tmp_path: Path) -> None:
    ex = play(tmp_path)
    found = results(ex)
    assert statuses(found) == {"E1": "passed", "E2": "passed", "E3": "passed", "E4": "passed", "E5": "pending"}
    assert "T+2:00" in found["E1"].why and "5m after I1" in found["E1"].why
    assert record(ex, found["E1"].evidence[0])["type"] == "step.result"
    assert "svc-backdoor" in found["E2"].why  # the minted user's key counted, and Inactive
    times = exercise_times(load_played(ex.dir))
    assert (times.start, times.mtta, times.mttc) == ("I1 (alert)", 120.0, 120.0)


def test_a_responder_who_stops_the_container_before_the_snapshot_fails_the_ordering_expectation(
    tmp_path: Path,
) -> None:
    skips = [a for step in ("snapshot", "isolate", "console", "secrets", "minted-console") for a in ("--skip", step)]
    ex = play(tmp_path, *skips, "--reason", "no time", "--override", "stop=it is exfiltrating")
    found = results(ex)
    assert found["E3"].status == "failed"
    assert found["E3"].why.startswith("stop (container.stop) started at T+2:00")
    assert "overridden by bob: it is exfiltrating" in found["E3"].why
    started = record(ex, found["E3"].evidence[0])
    assert (started["type"], started["data"]["step"]) == ("step.started", "stop")
    assert {k: v for k, v in statuses(found).items() if k != "E3"} == {
        "E1": "passed",
        "E2": "passed",
        "E4": "passed",
        "E5": "pending",
    }


@pytest.mark.parametrize(
    ("skips", "first_destructive"),
    [
        (("--skip", "snapshot"), "isolate (container.isolate_network)"),  # the network cut
        (("--skip", "snapshot", "--skip", "isolate"), "console (credentials.remove_console_access)"),
    ],
)
def test_cutting_the_network_or_deleting_the_console_password_before_the_snapshot_fails_at_once(
    tmp_path: Path, skips: tuple[str, ...], first_destructive: str
) -> None:
    """Destructive is what stops, deletes, isolates or removes: not only `container.stop` (which the
    engine refuses here anyway). Keys, deny and sessions ran before the snapshot too: not destructive."""
    ex = play(tmp_path, *skips, "--reason", "no time", end=False)
    found = results(ex)["E3"]
    assert found.status == "failed"  # at once, not only at the end because the snapshot never came
    assert found.why.startswith(f"{first_destructive} started at T+2:00 in {ex.case} before ")
    ex.close()


def test_revocation_before_the_snapshot_is_not_destructive(tmp_path: Path) -> None:
    """The shipped order: keys, deny-all and sessions are revoked before the capture, the approved
    console removal after it."""
    ex = play(tmp_path)
    lines = (ex.ws / "cases" / ex.case / "journal.jsonl").read_text().splitlines()
    started = [r["data"]["step"] for r in map(json.loads, lines) if r["type"] == "step.started"]
    assert started.index("sessions") < started.index("snapshot") < started.index("console")
    assert results(ex)["E3"].status == "passed"


def test_the_registry_decides_what_is_destructive() -> None:
    assert DESTRUCTIVE.always == {"container.stop", "container.isolate_network"}
    assert DESTRUCTIVE.counts("credentials.remove_console_access", approval=True)
    assert DESTRUCTIVE.counts("hosts.ansible", approval=True)  # stop-agent-service waits for approval
    assert not DESTRUCTIVE.counts("hosts.ansible", approval=False)  # the kill switch, host logs
    for revocation in ("credentials.deactivate_keys", "credentials.deny_all", "credentials.revoke_sessions"):
        assert not DESTRUCTIVE.counts(revocation, approval=False)
    assert not DESTRUCTIVE.counts("container.pause", approval=True)
    assert not DESTRUCTIVE.counts("evidence.container_snapshot", approval=True)


def test_the_snapshot_before_the_stop_passes_the_ordering_expectation(tmp_path: Path) -> None:
    ex = play(tmp_path)  # stop_container is true on the route: the stop runs, after the snapshot
    found = results(ex)
    assert found["E3"].status == "passed"
    lines = (ex.ws / "cases" / ex.case / "journal.jsonl").read_text().splitlines()
    started = [r["data"]["step"] for r in map(json.loads, lines) if r["type"] == "step.started"]
    assert started.index("snapshot") < started.index("stop")


def test_a_responder_who_never_revokes_the_minted_key_fails_the_world_expectation(tmp_path: Path) -> None:
    ex = play(tmp_path, "--skip", "minted-keys", "--reason", "not ours")
    found = results(ex)
    assert found["E2"].status == "failed"
    assert found["E2"].why == "revoked(support-bot): AKIABACKDOOR00000001 of svc-backdoor is Active"
    skipped = [e for e in found["E2"].evidence if e.seq is not None]
    assert [record(ex, e)["data"]["step"] for e in skipped] == ["minted-keys"]
    assert "skipped by bob: not ours" in skipped[0].what
    assert found["E1"].status == "passed"
    assert exercise_times(load_played(ex.dir)).mttc is None  # a skipped key step: never contained


def test_a_decision_signed_by_an_untrusted_key_fails_the_decision_expectation(
    tmp_path: Path, signers: Any, _own_keys_dir: Path
) -> None:
    import yaml

    ex = Exercise(tmp_path).start()
    ex.deliver_alert()
    ex.advance(120)
    ex.ir("resume", ex.case, "--yes", "--as", "bob")
    signers(ex.ws, "alice")
    ex.ir("decide", ex.case, "--decision", "keep-disabled", "--by", "alice", "--reason", "cause unknown")
    assert results(ex)["E4"].status == "passed"  # alice's key was allowed when she signed …
    settings = yaml.safe_load((ex.ws / "ir.yaml").read_text())
    del settings["signing"]["allowed_signers"]["alice"]  # … and is no longer: her decision proves nothing
    (ex.ws / "ir.yaml").write_text(yaml.safe_dump(settings))
    ex.end()
    found = results(ex)
    assert found["E4"].status == "failed"
    assert "does not verify: alice (SHA256:" in found["E4"].why
    assert "is not an allowed signer" in found["E4"].why
    assert record(ex, found["E4"].evidence[0])["type"] == "decision"


def test_a_decision_of_another_kind_does_not_pass(tmp_path: Path) -> None:
    ex = Exercise(tmp_path).start()
    ex.deliver_alert()
    ex.ir("resume", ex.case, "--yes", "--as", "bob")
    ex.ir("decide", ex.case, "--decision", "decommission", "--by", "demo-responder", "--reason", "retire it")
    ex.end()
    found = results(ex)["E4"]
    assert found.status == "failed"
    assert "decided decommission, not keep-disabled" in found.why


def test_a_manual_expectation_stays_pending_until_marked_and_the_latest_mark_stands(tmp_path: Path) -> None:
    ex = play(tmp_path, end=False)
    assert results(ex)["E5"].status == "pending"
    ex.record("exercise.ended", reason="facilitator", by="fran")  # ended, still not marked
    assert results(ex)["E5"].status == "pending"
    ex.mark("E5", passed=False, note="no notice drafted")
    assert (results(ex)["E5"].status, results(ex)["E5"].why) == ("failed", "marked failed by fran: no notice drafted")
    ex.mark("E5", passed=True, note="drafted after the debrief")
    found = results(ex)["E5"]
    assert (found.status, found.source) == ("passed", "facilitator")
    assert record(ex, found.evidence[0])["data"]["note"] == "drafted after the debrief"
    ex.close()


def test_a_step_after_its_deadline_fails_and_says_how_late(tmp_path: Path) -> None:
    ex = play(tmp_path, advance_before_action=400)  # freeze at T+8:10, the deadline is T+5:00
    found = results(ex)["E1"]
    assert found.status == "failed"
    assert found.why.startswith("container.pause for support-bot succeeded at T+8:10, 3m 10s after the deadline T+5:00")
    assert exercise_times(load_played(ex.dir)).mtta == 490.0


def test_while_the_exercise_runs_what_has_not_happened_is_pending(tmp_path: Path) -> None:
    ex = Exercise(tmp_path).start()
    ex.deliver_alert()  # the case waits for a person: nothing has changed yet
    ex.advance(60)
    found = results(ex)
    assert statuses(found) == {"E1": "pending", "E2": "pending", "E3": "pending", "E4": "pending", "E5": "pending"}
    assert found["E2"].why.startswith("not yet: revoked(support-bot)")
    ex.advance(300)  # past the deadline with nothing done: failed before the end
    assert results(ex)["E1"].status == "failed"
    late = "no step running container.pause for support-bot succeeded by T+5:00 (5m after I1 (T+0:00))"
    assert results(ex)["E1"].why == late
    ex.end()
    assert statuses(results(ex)) == {"E1": "failed", "E2": "failed", "E3": "failed", "E4": "failed", "E5": "pending"}


@pytest.mark.parametrize(
    ("resume", "mark", "ratings"),
    [
        ((), None, {"O1": "P", "O2": "P", "O3": "S"}),
        ((), True, {"O1": "P", "O2": "P", "O3": "P"}),
        (("--skip", "minted-keys", "--reason", "not ours"), True, {"O1": "M", "O2": "P", "O3": "P"}),
        (("--skip", "snapshot", "--reason", "x", "--override", "stop=now"), False, {"O1": "P", "O2": "U", "O3": "S"}),
    ],
)
def test_objective_ratings_follow_the_rule(
    tmp_path: Path, resume: tuple[str, ...], mark: bool | None, ratings: dict[str, str]
) -> None:
    ex = play(tmp_path, *resume, end=False)
    if mark is not None:
        ex.mark("E5", passed=mark)
    ex.end()
    played = load_played(ex.dir)
    scores = score_objectives(played.scenario, list(results(ex).values()))
    assert {s.objective.id: s.rating for s in scores} == ratings


def test_the_exercise_times_are_ir_cases_metrics_moments_read_on_the_exercise_clock(tmp_path: Path) -> None:
    ex = play(tmp_path, advance_before_action=400)
    rows = [json.loads(line) for line in ex.ir("cases", "--metrics", "--json").splitlines()]
    wall = next(r for r in rows if r.get("case") == ex.case)
    assert wall["time_to_acknowledge_s"] < 60  # wall clock: the test took seconds …
    played = load_played(ex.dir)
    times = exercise_times(played)
    (case,) = times.cases
    assert case.first_action_s == played.clock.exercise_seconds(wall["first_action"]) == 490.0  # … the exercise 8m 10s
    assert case.contained_s == played.clock.exercise_seconds(wall["contained"])
    assert (times.mtta, times.mttc) == (490.0, 490.0)
