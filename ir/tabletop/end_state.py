"""The sandbox as it was when the exercise ended: a copy of its simulated world and the length of
every case journal, so the score reads the exercise as it ended, whatever is done in the sandbox
afterwards (a case resumed, a key reactivated).

`capture` runs on the end path (`Exercise.end`): it writes `world-at-end.json` into the exercise
folder and returns what `exercise.ended` records — `world: {file, sha256}` and `cases: {case id:
records}`. The exercise journal is hash-chained and signed, so the copy cannot be edited unseen:
`recorded` refuses one whose sha256 differs, and says what changed in the sandbox since the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.core.errors import JournalError
from ir.core.journal import JOURNAL_FILE as CASE_JOURNAL
from ir.core.journal import Record, read

WORLD_AT_END = "world-at-end.json"
"""The simulated world's state at the end, in the exercise folder."""


def _text(world: dict[str, Any]) -> str:
    return json.dumps(world, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def case_lengths(cases_dir: Path) -> dict[str, int]:
    """Case id → how many records its journal holds now."""
    if not cases_dir.is_dir():
        return {}
    return {
        folder.name: len(read(folder / CASE_JOURNAL).records)
        for folder in sorted(cases_dir.iterdir())
        if (folder / CASE_JOURNAL).is_file()
    }


def capture(exercise_dir: Path, cases_dir: Path, world: dict[str, Any]) -> dict[str, Any]:
    """Write the world's copy (whole or absent) and return what `exercise.ended` records of the end state."""
    text = _text(world)
    fd, tmp = tempfile.mkstemp(dir=exercise_dir, prefix=".world-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, exercise_dir / WORLD_AT_END)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    return {"world": {"file": WORLD_AT_END, "sha256": sha256}, "cases": case_lengths(cases_dir)}


@dataclass(frozen=True)
class EndState:
    """What `exercise.ended` recorded of the sandbox, read back."""

    world: dict[str, Any] | None
    """The world at the end (None: the end recorded none — an exercise from before this was kept)."""
    cases: dict[str, int] | None
    """Case id → its records at the end (None: not recorded; the cases are cut by time instead)."""
    notes: list[str] = field(default_factory=list)
    """What changed in the sandbox after the end (it does not count)."""


def recorded(exercise_dir: Path, ended: Record, world_now: dict[str, Any], cases_dir: Path) -> EndState:
    """The end state `ended` recorded, checked against its sha256, and what changed since."""
    saved = ended.data.get("world")
    cases = ended.data.get("cases")
    world: dict[str, Any] | None = None
    notes: list[str] = []
    if isinstance(saved, dict) and saved.get("file") == WORLD_AT_END:
        path = exercise_dir / WORLD_AT_END
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise JournalError(f"{path}: the world at the end cannot be read: {exc}") from None
        if hashlib.sha256(text.encode()).hexdigest() != saved.get("sha256"):
            raise JournalError(
                f"{path}: was altered after the exercise ended (its sha256 is not the one exercise.jsonl "
                f"seq {ended.seq} recorded)"
            )
        world = json.loads(text)
        if _text(world_now) != text:
            notes.append(
                "the sandbox's simulated world changed after the exercise ended: world expectations read "
                f"it as it was at the end ({WORLD_AT_END})"
            )
    lengths = {str(k): int(v) for k, v in cases.items()} if isinstance(cases, dict) else None
    if lengths is not None:
        now = case_lengths(cases_dir)
        later = {c: n - lengths.get(c, 0) for c, n in now.items() if n > lengths.get(c, 0)}
        if later:
            named = ", ".join(f"{c} (+{n})" for c, n in sorted(later.items()))
            notes.append(
                f"{sum(later.values())} case record(s) were written in the sandbox after the exercise ended "
                f"and do not count: {named}"
            )
    return EndState(world, lengths, notes)
