"""The exercise clock: rate, pauses excluded, jumps included, rebuilt from the journal's records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ir.core.errors import InputError
from ir.tabletop.clock import ExerciseClock, parse_clock

T0 = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(type_: str, wall_s: float, **data: Any) -> dict[str, Any]:
    return {"type": type_, "ts": at(wall_s), "data": data}


def live(clock: ExerciseClock, type_: str, wall_s: float, **data: Any) -> dict[str, Any]:
    """Write a record as the running exercise does: exercise_s from the clock at that moment."""
    value = clock.exercise_seconds(at(wall_s)) + float(data.pop("jump", 0))
    rec = record(type_, wall_s, exercise_s=value, **data)
    clock.apply(rec["type"], rec["ts"], rec["data"])
    return rec


def test_parse_clock() -> None:
    assert parse_clock("real").rate == 1
    assert parse_clock("fast:60").rate == 60
    assert parse_clock("manual").rate == 0
    for bad in ("fast", "fast:0", "slow:2", "fast:-1", "fast:99999"):
        with pytest.raises(InputError, match="--clock"):
            parse_clock(bad)


def test_pauses_are_excluded_and_rebuilding_from_records_agrees() -> None:
    clock = ExerciseClock(parse_clock("fast:10"), at(0))
    written = [record("exercise.started", 0, clock="fast:10", exercise_s=0.0)]
    assert clock.exercise_seconds(at(6)) == pytest.approx(60)
    written.append(live(clock, "clock.paused", 6, by="ic"))
    assert clock.paused and clock.exercise_seconds(at(15)) == pytest.approx(60)  # stands still
    written.append(live(clock, "clock.resumed", 16, by="ic", paused_s=10.0))
    assert clock.exercise_seconds(at(20)) == pytest.approx(100)  # 60 + 4 s × 10
    rebuilt = ExerciseClock.from_records(written)
    for wall_s, expected in ((3, 30), (10, 60), (16, 60), (20, 100), (-5, 0)):
        assert rebuilt.exercise_seconds(at(wall_s)) == pytest.approx(expected)


def test_advance_jumps_and_keeps_the_rate_or_the_pause() -> None:
    clock = ExerciseClock(parse_clock("fast:10"), at(0))
    written = [record("exercise.started", 0, clock="fast:10", exercise_s=0.0)]
    written.append(live(clock, "clock.advanced", 1, by="auto", seconds=50, jump=50))
    assert clock.exercise_seconds(at(2)) == pytest.approx(70)  # 10 + 50, then 1 s × 10
    written.append(live(clock, "clock.paused", 2, by="ic"))
    written.append(live(clock, "clock.advanced", 3, by="ic", seconds=30, jump=30))
    assert clock.paused and clock.exercise_seconds(at(9)) == pytest.approx(100)
    assert ExerciseClock.from_records(written).exercise_seconds(at(9)) == pytest.approx(100)


def test_manual_clock_moves_only_by_advance_and_stops_at_the_end() -> None:
    clock = ExerciseClock(parse_clock("manual"), at(0))
    assert clock.exercise_seconds(at(3600)) == 0
    assert clock.wall_seconds_until(60, at(10)) is None  # nothing will bring it there by itself
    live(clock, "clock.advanced", 5, by="ic", seconds=90, jump=90)
    assert clock.exercise_seconds(at(3600)) == pytest.approx(90)
    live(clock, "exercise.ended", 3700, reason="facilitator", by="ic")
    assert clock.ended and clock.exercise_seconds(at(9999)) == pytest.approx(90)


def test_wall_seconds_until_follows_the_rate() -> None:
    clock = ExerciseClock(parse_clock("fast:4"), at(0))
    assert clock.wall_seconds_until(40, at(5)) == pytest.approx(5)  # at 20, 20 more at ×4
    assert clock.wall_seconds_until(10, at(5)) == 0


def test_a_journal_without_a_start_is_refused() -> None:
    with pytest.raises(InputError, match=r"exercise\.started"):
        ExerciseClock.from_records([record("note", 1, by="x", text="y", exercise_s=0.0)])
