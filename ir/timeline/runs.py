"""Where events are parsed (a worker, or this process): each becomes a record, sorted in runs.

For every event: the detectors' findings in its own text (`detect.tool_facts`), its clock
anchors, and its record (`records.record`: sort key, the analyser's facts, the line rendered
with its own secrets masked). Records are sorted in runs of `RUN` and written to run files.
"""

from __future__ import annotations

import tempfile
import time
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from ir.timeline import merge
from ir.timeline.detect import TOOL_KINDS, tool_facts
from ir.timeline.merge import CALL_KEYS_MAX, Anchors, Everything, Run
from ir.timeline.model import ARGS_TEXT, CLEAN, Event
from ir.timeline.records import CALL, KIND, SEQ_MAX, SEQ_SHIFT, Record, key, record, write_run
from ir.timeline.sources.base import SourceStats
from ir.timeline.untimed import Untimed

EVERY_S = 0.1
"""Seconds between progress reports of one source."""


def sort_source(
    events: Iterable[Event],
    *,
    rank: int,
    sidx: int,
    fmt: str | None,
    cloud_wanted: set[str] | Everything,
    stats: SourceStats,
    held: Untimed,
    path: Path,
    report: Callable[[int], None] | None = None,
    spill_dir: str | None = None,
    run: int | None = None,
) -> tuple[list[Run], Anchors]:
    """One source's events as sorted runs of records, and its clock anchors.

    `rank`: the rank of the source's name among every source's (equal names, equal ranks);
    `sidx`: its index among the sources; `fmt`: the output format lines are rendered in (None: the
    event as JSON). Events are counted into `stats` (`report(count)` at most every EVERY_S
    seconds); untimed ones are held back in `held`, in their order. With `spill_dir` (a worker's),
    every run goes to a named file there, closed (`run_names` gives the names); else runs beyond
    the first go to unnamed temporary files."""
    size = run or merge.RUN
    anchors = Anchors()
    note = anchors.note
    runs: list[Run] = []
    buffer: list[Record] = []
    append = buffer.append
    count = nth = 0
    base = key(rank, 0, sidx, 0)
    calls = array("q")  # hash((call id, kind)) of each record with one (merge.may_fold)
    due = time.monotonic() + EVERY_S
    left = size  # records until this run is full
    for e in events:
        count += 1
        if report is not None and not count & 1023 and time.monotonic() >= due:
            stats.events = count
            report(count)
            due = time.monotonic() + EVERY_S
        if e.get("untimed"):
            e.pop(ARGS_TEXT, None)  # (what a parser left for this loop: an untimed event does not pass it)
            e.pop(CLEAN, None)
            held.hold([e], path)
            continue
        kind = e["kind"]
        facts = tool_facts(e) if kind in TOOL_KINDS else None
        if e.get("tool") or kind == "cloud_api_call":  # (nothing else anchors a clock: `Anchors.note`)
            note(e, facts, cloud_wanted)
        seq = e["seq"]
        tie = base | seq << SEQ_SHIFT | nth if type(seq) is int and 0 <= seq <= SEQ_MAX else key(rank, seq, sidx, nth)
        made = record(e, facts, tie, fmt)
        append(made)
        if made[CALL] is not None:
            calls.append(hash((made[CALL], made[KIND])))
        nth += 1
        left -= 1
        if not left:
            runs.append(_spill(buffer, spill_dir))
            buffer = []
            append = buffer.append
            left = size
    stats.events = count
    anchors.call_keys = calls.tobytes() if len(calls) <= CALL_KEYS_MAX else None
    if buffer:
        if runs or spill_dir:
            runs.append(_spill(buffer, spill_dir))
        else:
            buffer.sort()
            runs.append(buffer)
    return runs, anchors


def _spill(buffer: list[Record], spill_dir: str | None) -> IO[bytes]:
    buffer.sort()
    fh: IO[bytes]
    if spill_dir:
        fh = tempfile.NamedTemporaryFile(prefix="ir-run-", dir=spill_dir, delete=False)  # noqa: SIM115
    else:
        fh = tempfile.TemporaryFile(prefix="ir-run-")  # noqa: SIM115 (kept open until the merge reads it)
    write_run(buffer, fh)
    if spill_dir:
        fh.close()
    else:
        fh.seek(0)
    return fh


def run_names(runs: list[Run]) -> list[str]:
    """The file names of a worker's runs (every one a closed named file)."""
    return [str(run.name) for run in runs if not isinstance(run, list)]
