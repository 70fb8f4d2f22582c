"""The exercise controller driven by hand, as a facilitator's console drives it: the clock, injects
on time and out of turn, `unless` when the team is slow, marks, notes, the end, the panel's snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ir.cli.tabletop_run import runtime_for
from ir.core.errors import InputError
from ir.core.journal import Record
from ir.core.workspace import find_workspace
from ir.tabletop.clock import parse_clock
from ir.tabletop.conditions import holds
from ir.tabletop.exercise import Exercise
from ir.tabletop.scenario import parse_scenario
from tests.conftest import REPO, make_workspace

DRILL = REPO / "tests" / "fixtures" / "tabletop" / "key-leak-drill.yaml"
OBSERVE_ONLY = """\
alerts:
  service: {principal: exercise-service}
  sources: {alertmanager: {format: alertmanager}}
  routes: [{name: watch-only, playbook: agent-compromise, policy: observe}]
injects:
"""


def begin(tmp_path: Path, text: str | None = None, *, auto: bool = False) -> tuple[Exercise, list[Record]]:
    ws = find_workspace(make_workspace(tmp_path / "ws"))
    path = DRILL
    if text is not None:
        path = tmp_path / "scenario.yaml"
        path.write_text(text)
    scenario = parse_scenario(path.read_text(), str(path))
    seen: list[Record] = []
    exercise = Exercise.begin(
        start=ws,
        scenario=scenario,
        scenario_file=path,
        runtime_for=runtime_for,
        clock=parse_clock("manual"),
        auto=auto,
        facilitator="fac",
        on_record=seen.append,
    )
    return exercise, seen


def test_a_manual_clock_delivers_only_when_advanced(tmp_path: Path) -> None:
    exercise, seen = begin(tmp_path)
    status = exercise.status()
    assert status.next_inject is not None and status.next_inject.id == "I1" and status.next_in_s == 60
    exercise.tick()
    assert [r.type for r in seen] == ["exercise.started", "participant.joined"]
    exercise.advance(60, "fac")
    exercise.tick()
    assert exercise.status().injects[0].state == "delivered"
    assert exercise.status().next_inject.id == "I2"  # type: ignore[union-attr]
    assert seen[-1].type == "inject.delivered" and seen[-1].data["exercise_s"] == 60
    exercise.end("facilitator", "fac")
    exercise.close()


def test_pause_resume_fire_next_mark_note_end(tmp_path: Path) -> None:
    exercise, seen = begin(tmp_path)
    assert exercise.pause("fac") and not exercise.pause("fac")
    assert exercise.status().paused
    assert exercise.resume("fac") and not exercise.resume("fac")
    assert seen[-1].type == "clock.resumed" and seen[-1].data["paused_s"] >= 0
    assert exercise.fire_next("fac") == "I1"
    assert seen[-1].data["fired_by"] == "fac" and seen[-1].data["exercise_s"] == 0
    with pytest.raises(InputError, match="not a manual expectation"):
        exercise.mark("E1", True, "fac")
    exercise.mark("E5", False, "fac", "the owner was not told")
    assert exercise.status().marked == {"E5": False}
    exercise.note("the IC asked for the CloudTrail export", "fac")
    with pytest.raises(InputError, match="the clock only moves forward"):
        exercise.advance(0, "fac")
    exercise.end("facilitator", "fac")
    exercise.tick()
    exercise.advance(600, "fac")  # nothing happens after the end
    exercise.close()
    kinds = [r.type for r in seen]
    assert kinds.count("checkpoint") == 3  # after the mark, the note and the end
    assert kinds[-2:] == ["exercise.ended", "checkpoint"] and exercise.status().ended == "facilitator"


def test_a_slow_team_gets_the_inject_that_unless_would_have_spared(tmp_path: Path) -> None:
    """The alert only observes (no case opens), so at 4m the agent is not contained: I5 comes, and
    the attacker's new key is really there, Active, where revoked() sees it."""
    text = DRILL.read_text().replace("injects:\n", OBSERVE_ONLY, 1)
    exercise, seen = begin(tmp_path, text)
    exercise.advance(240, "fac")
    exercise.tick()
    delivered = {r.data["inject"]: r.data for r in seen if r.type == "inject.delivered"}
    assert list(delivered) == ["I1", "I2", "I3", "I5"]
    assert delivered["I3"]["details"]["alert"]["alerts"][0]["outcome"] == "observed"
    assert delivered["I5"]["details"]["world"][0]["applied"] is True
    held, evidence = holds("revoked(support-bot)", exercise.sandbox)
    assert not held and "AKIADRILLHELPER00002 of support-bot-helper is Active" in evidence.text
    assert not holds("case_open(support-bot)", exercise.sandbox)[0]
    exercise.end("facilitator", "fac")
    exercise.close()


def test_a_fast_team_is_spared_and_the_skip_says_why(tmp_path: Path) -> None:
    exercise, seen = begin(tmp_path)
    exercise.advance(240, "fac")
    exercise.tick()
    (skipped,) = [r.data for r in seen if r.type == "inject.skipped"]
    assert skipped["inject"] == "I5"
    assert skipped["why"].startswith("unless contained(support-bot): case ")
    assert exercise.status().injects[4].state == "skipped"
    world = json.loads((exercise.sandbox.workspace_root / ".ir" / "world.json").read_text())
    keys = [k["key_id"] for k in world["iam"]["users"]["support-bot-helper"]["access_keys"]]
    assert keys == ["AKIADRILLHELPER00001"]  # the second key was never minted
    exercise.end("facilitator", "fac")
    exercise.close()


def test_an_inject_after_a_skipped_one_is_skipped_too(tmp_path: Path) -> None:
    text = DRILL.read_text().replace(
        "expectations:\n",
        "  - {id: I6, title: Follow-up, after: I5, card: {title: more}}\nexpectations:\n",
        1,
    )
    exercise, seen = begin(tmp_path, text)
    exercise.advance(240, "fac")
    exercise.tick()
    skipped = {r.data["inject"]: r.data["why"] for r in seen if r.type == "inject.skipped"}
    assert skipped["I6"] == "after I5, which was skipped"
    exercise.end("facilitator", "fac")
    exercise.close()


def test_the_time_limit_ends_it(tmp_path: Path) -> None:
    exercise, seen = begin(tmp_path)
    exercise.advance(601, "fac")
    exercise.tick()
    assert exercise.ended == "time limit"
    assert seen[-2].type == "exercise.ended" and seen[-2].data["by"] == "fac"
    exercise.close()


def test_only_an_exercise_workspace_stamps_its_journals(tmp_path: Path) -> None:
    from ir.core.journal import Journal

    plain = make_workspace(tmp_path / "plain")
    drill = make_workspace(tmp_path / "drill", settings="exercise: {id: EX-drill-20261120T031000, scenario: drill}\n")
    for root, expected in ((plain, None), (drill, "EX-drill-20261120T031000")):
        case = root / "cases" / "c1"
        case.mkdir()
        with Journal(case).open(create=True) as journal:
            record = journal.append("note", {"text": "x", "by": "a"})
        assert record.data.get("exercise") == expected
