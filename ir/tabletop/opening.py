"""Starting an exercise: its folder and sandbox, the first journal record, the clock, who joined.

Kept apart from `ir.tabletop.exercise` (the running exercise) so that module stays about running;
`Exercise.begin(...)` calls `begin(Exercise, ...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ir.core.journal import Journal, Record
from ir.core.workspace import Workspace
from ir.core.yamlsafe import Located
from ir.tabletop.clock import ClockSpec, ExerciseClock
from ir.tabletop.injects import alert_bodies
from ir.tabletop.ports import Runtime
from ir.tabletop.records import ExerciseKind as K
from ir.tabletop.sandbox import JOURNAL_FILE, Sandbox, create_sandbox, discard, new_exercise_id
from ir.tabletop.scenario import Scenario


def begin(
    cls: Any,
    *,
    start: Workspace,
    scenario: Scenario,
    scenario_file: Path,
    runtime_for: Callable[[Sandbox], Runtime],
    clock: ClockSpec,
    auto: bool = False,
    live_fire: bool = False,
    facilitator: str,
    exercise_id: str | None = None,
    located: Located | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> Any:
    """Create the exercise folder and sandbox, start the journal and the clock; `cls` is the
    Exercise class (this module stays below it), the new exercise is returned."""
    bodies = alert_bodies(scenario, scenario_file, located)  # a missing alert file stops us before any folder
    sandbox, sha256 = create_sandbox(
        start,
        scenario,
        scenario_file,
        exercise_id=exercise_id or new_exercise_id(scenario.id),
        participants=(facilitator,),
        exact=exercise_id is not None,
        live_fire=live_fire,
    )
    journal: Journal | None = None
    try:  # until the journal has its first record, a failure leaves no folder behind
        runtime = runtime_for(sandbox)
        runtime.world.start()
        journal = Journal(sandbox.folder, JOURNAL_FILE).open(create=True)
        made = cls(
            scenario,
            sandbox,
            runtime,
            journal,
            bodies=bodies,
            auto=auto,
            facilitator=facilitator,
            on_record=on_record,
        )
        first = journal.append(
            K.STARTED,
            {
                "exercise": sandbox.id,
                "scenario": {
                    "id": scenario.id,
                    "version": scenario.version,
                    "sha256": sha256,
                    "title": scenario.title,
                },
                "clock": clock.text,
                "auto": auto,
                "live_fire": live_fire,
                "facilitator": facilitator,
                "exercise_s": 0.0,
            },
        )
    except BaseException:
        if journal is not None:
            journal.close()
        discard(sandbox.folder)
        raise
    made.clock = ExerciseClock(clock, first.ts)
    made._told(first)
    made._write(K.PARTICIPANT_JOINED, {"as": facilitator, "role": "facilitator"})
    if auto:
        for role in dict.fromkeys(m.role for m in scenario.reference if m.role):
            made._write(K.PARTICIPANT_JOINED, {"as": role, "role": role, "reference": True})
    return made
