"""What an exercise console drives: the controller serving other consoles' commands from the queue,
a joined console reading the journal, taking over from the journal, a joiner's signing key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.cli.tabletop_run import runtime_for
from ir.core.errors import CaseLocked, InputError
from ir.core.signing_trust import workspace_trust
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.command_queue import Command, CommandQueue
from ir.tabletop.exercise import Exercise
from ir.tabletop.injects import alert_bodies
from ir.tabletop.participants import participant_key
from ir.tabletop.replay import replay
from ir.tabletop.scenario import load_scenario
from ir.tabletop.sessions import ControllerSession, JoinedSession, joined_role
from tests.conftest import REPO, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
EXERCISE = "EX-key-leak-drill-20261120T031000"


def controller(tmp_path: Path) -> ControllerSession:
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    exercise = Exercise.begin(
        start=ws,
        scenario=load_scenario(DRILL),
        scenario_file=DRILL,
        runtime_for=runtime_for,
        clock=parse_clock("manual"),
        facilitator="fran",
        exercise_id=EXERCISE,
    )
    return ControllerSession(exercise)


def test_a_joined_console_reads_the_same_status_the_controller_keeps(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    ctl.do(Command(op="advance", by="fran", seconds=90))
    ctl.do(Command(op="mark", by="fran", expectation="E5", passed=True, text="owner told"))
    ctl.do(Command(op="pause", by="fran"))
    joined = JoinedSession(ctl.sandbox, ctl.scenario, "ic", "ic")
    live, folded = ctl.view().status, joined.view().status
    assert [(i.id, i.state, i.due_s, i.at_s) for i in folded.injects] == [
        (i.id, i.state, i.due_s, i.at_s) for i in live.injects
    ]
    assert [i.state for i in folded.injects] == ["delivered", "delivered", "pending", "pending", "pending"]
    assert folded.paused and folded.marked == {"E5": True} and folded.exercise_s == live.exercise_s == 90
    assert not joined.view().controls and joined.view().controlled  # the controller holds the journal
    ctl.close()


def test_the_controller_carries_out_queued_commands_as_their_sender(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    queue = CommandQueue(ctl.sandbox.folder)
    queue.send(Command(op="join", by="ic", text="ic"))
    queue.send(Command(op="note", by="ic", text="the IC called the owner"))
    queue.send(Command(op="advance", by="ic", seconds=60))
    ctl.serve()
    records = [r for r in ctl.sandbox.records() if r.type != "checkpoint"]  # a note's signed head aside
    assert [(r.type, r.data.get("as") or r.data.get("by")) for r in records[-4:]] == [
        ("participant.joined", "ic"),
        ("note", "ic"),
        ("clock.advanced", "ic"),
        ("inject.delivered", None),  # I1 was due at 1m: the controller delivered it at once
    ]
    assert records[-1].data["inject"] == "I1"
    assert list(queue.dir.glob("*.json")) == []  # every command taken once
    ctl.close()


def test_a_refused_command_is_told_to_its_sender_and_nothing_is_recorded(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    joined = JoinedSession(ctl.sandbox, ctl.scenario, "ic", "ic")
    before = len(ctl.sandbox.records())
    joined.do(Command(op="resume", by="ic"))  # the clock is not paused
    joined.do(Command(op="mark", by="ic", expectation="E1", passed=True, text="x"))  # E1 is the engine's
    (joined.queue.dir / "9-bad.json").write_text('{"op": "explode", "by": "ic"}')
    ctl.serve()
    joined.tick()
    told = joined.messages()
    assert told == [
        "resume refused: the clock is not paused",
        "mark refused: 'E1' is not a manual expectation of key-leak-drill (manual: E5)",
    ]
    assert (joined.queue.dir / "9-bad.refused").read_text().startswith("not a facilitator command")
    assert len(ctl.sandbox.records()) == before and joined.messages() == []
    ctl.close()


def test_commands_to_an_ended_exercise_are_refused(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    ctl.do(Command(op="end", by="fran"))
    assert ctl.view().status.ended == "facilitator"
    with pytest.raises(InputError, match="the exercise has ended"):
        ctl.do(Command(op="note", by="fran", text="too late"))
    joined = JoinedSession(ctl.sandbox, ctl.scenario, "ic", "ic")
    with pytest.raises(InputError, match="the exercise has ended"):
        joined.do(Command(op="note", by="ic", text="too late"))
    ctl.close()


def test_a_console_takes_over_once_the_controller_is_gone(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    ctl.do(Command(op="advance", by="fran", seconds=60))
    sandbox, scenario = ctl.sandbox, ctl.scenario
    joined = JoinedSession(sandbox, scenario, "ic", "ic")
    with pytest.raises(CaseLocked):  # the controller still holds the journal
        Exercise.take_over(
            sandbox=sandbox, scenario=scenario, runtime=runtime_for(sandbox), bodies={}, facilitator="ic"
        )
    ctl.close()  # the controller quits leaving the exercise open
    joined.tick()
    assert not joined.view().controlled
    new = ControllerSession(
        Exercise.take_over(
            sandbox=sandbox,
            scenario=scenario,
            runtime=runtime_for(sandbox),
            bodies=alert_bodies(scenario, DRILL),
            facilitator="ic",
        )
    )
    assert new.view().status.injects[0].state == "delivered"  # it carries on from the journal
    assert new.do(Command(op="fire_next", by="ic")) == "inject I2 delivered"
    new.do(Command(op="end", by="ic"))
    new.close()
    records = sandbox.records()
    took = [r.data for r in records if r.type == "participant.joined" and r.data.get("controller")]
    assert took == [{"as": "ic", "role": "facilitator", "controller": True, "exercise_s": 60.0}]
    assert sandbox.verify().problems == []  # one chain, signed by both controllers
    assert replay(records).ended == "facilitator"


def test_a_joiner_without_a_key_gets_one_allowed_in_the_sandbox_only(tmp_path: Path) -> None:
    ctl = controller(tmp_path)
    sandbox = ctl.sandbox
    assert sandbox.key_for("dana") is None
    key = participant_key(sandbox, "dana")
    assert key is not None and key == sandbox.key_for("dana") and participant_key(sandbox, "dana") == key
    trust = workspace_trust(find_workspace(sandbox.workspace_root))
    assert "dana" in {s.principal for s in trust.signers}
    assert (sandbox.workspace_root / "ir.yaml").read_text().startswith("# The sandbox workspace of tabletop")
    assert participant_key(sandbox, "../etc") is None  # no key file outside the keys folder
    start = find_workspace(tmp_path / "ws")
    assert "dana" not in {s.principal for s in workspace_trust(start).signers}
    ctl.close()


def test_the_role_of_someone_joining(tmp_path: Path) -> None:
    scenario = load_scenario(DRILL)
    assert joined_role(scenario, "ic", None) == "ic"
    assert joined_role(scenario, "dana", None) == "participant"
    assert joined_role(scenario, "dana", "approver") == "approver"
    with pytest.raises(InputError, match="--role 'ceo': not a role of key-leak-drill"):
        joined_role(scenario, "dana", "ceo")


def test_a_journal_without_a_start_is_not_an_exercise() -> None:
    with pytest.raises(InputError, match=r"does not start with exercise\.started"):
        replay([])
