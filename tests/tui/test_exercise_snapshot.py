"""An SVG snapshot of the exercise panel, on an exercise with a fixed id on a manual clock (so
exercise time is what the keys made it): 1m30s in, two injects delivered with their card and world
changes, a manual expectation marked, a note, the clock paused; the score as it then stands.

Update after an intended change with `pytest tests/tui/test_exercise_snapshot.py --snapshot-update`,
then look at the SVG in tests/tui/__snapshots__/ before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.exercise_consoles import begin, console, settle


def test_exercise_panel(snap_compare: Any, tmp_path: Path) -> None:
    session = begin(tmp_path)
    exercise = session.exercise
    exercise.join("ic", "ic")
    exercise.advance(90, "fran")
    exercise.tick()  # I1 (a card for the IC, log lines) and I2 (the attacker's user, an egress)
    exercise.mark("E5", True, "fran", "the IC phoned the owner")
    exercise.note("the approver is on the bridge", "ic")
    exercise.pause("fran")
    app = console(session)

    async def run_before(pilot: Any) -> None:
        await settle(app, pilot)
        app.rescore(force=True)  # type: ignore[attr-defined]
        await settle(app, pilot)

    try:
        assert snap_compare(app, terminal_size=(130, 40), run_before=run_before)
    finally:
        session.close()
