"""The exercise journal's vocabulary (`exercise.jsonl`): every record kind and what its data holds.

Every record's data also has `exercise_s`: exercise time at the record, pauses excluded.

    exercise.started    {exercise, scenario: {id, version, sha256, title}, clock, auto, live_fire, facilitator}
    participant.joined  {as, role}
    clock.paused        {by}
    clock.resumed       {by, paused_s}
    clock.advanced      {by, seconds}
    inject.delivered    {inject, title, what: [card|alert|logs|world], details: {card, alert: {delivery,
                         cases, …}, logs: [paths], world: [changes as applied]}, fired_by?}
    inject.skipped      {inject, why}
    move.played         {move: index, what: run|approve|decide|mark, agent, by, result}
    expectation.marked  {expectation, passed, by, note}
    note                {by, text}
    exercise.ended      {reason: end condition|time limit|facilitator|interrupted, by,
                         world: {file: world-at-end.json, sha256}, cases: {case id: records}}
    checkpoint          a signed head, as in a case journal
"""

from __future__ import annotations

from enum import StrEnum


class ExerciseKind(StrEnum):
    """Every record type an exercise journal holds."""

    STARTED = "exercise.started"
    PARTICIPANT_JOINED = "participant.joined"
    CLOCK_PAUSED = "clock.paused"
    CLOCK_RESUMED = "clock.resumed"
    CLOCK_ADVANCED = "clock.advanced"
    INJECT_DELIVERED = "inject.delivered"
    INJECT_SKIPPED = "inject.skipped"
    MOVE_PLAYED = "move.played"
    EXPECTATION_MARKED = "expectation.marked"
    NOTE = "note"
    ENDED = "exercise.ended"
    CHECKPOINT = "checkpoint"


END_REASONS = ("end condition", "time limit", "facilitator", "interrupted")
"""Why an exercise ended (`exercise.ended` `reason`)."""
