"""Parse and sort sources in parallel: one source per task in a process pool.

Each worker parses one file, turns its events into records (`runs.sort_source`: facts worked out,
lines rendered), sorts them in runs written to named files in a folder the parent owns, and
returns the file names, the source's statistics and its clock anchors. The parent merges the runs
(merge.SortedSource.from_files); everything that needs more than one source (clock offsets,
deduplication, the detectors' state) stays in the parent. Workers report how many
events they have read through a queue; the parent passes that on to a progress callback.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ir.core import redaction
from ir.timeline.chunks import cuts, joined, piece
from ir.timeline.merge import Anchors, Everything
from ir.timeline.model import Event
from ir.timeline.runs import EVERY_S, run_names, sort_source
from ir.timeline.sources import PARSERS
from ir.timeline.sources.base import SourceStats
from ir.timeline.untimed import Untimed

Progress = Callable[[str, int, bool], None]
"""progress(source, events read so far, finished): called in the parent at most ~10×/s per source."""
POOL_MIN_BYTES = 8 * 1024 * 1024
"""Inputs smaller than this are parsed in-process (starting workers costs more than it saves)."""

_reports: Any = None
"""The worker's end of the progress queue (set by `_start`)."""


def cpus() -> int:
    """CPUs this process may run on (`taskset` counts)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _start(reports: Any, known: list[str]) -> None:
    global _reports
    _reports = reports
    redaction.register(known)  # the parent's secret values (inherited anyway when forked)


Sorted = tuple[list[str], SourceStats, Anchors, list[Event]]
"""One source sorted by a worker: run files, statistics, clock anchors, and its untimed events (held
back, in their order: they never take part in the time sort or the clock anchors)."""


Task = tuple[int, str, str, tuple[int, int, int] | None]
"""(source index, path, format, (start, end, first line number) of a piece, or None: the whole file)."""


def _sort(task: int, source: Task, rank: int, out_fmt: str | None, run: int, spill_dir: str) -> Sorted:
    """In a worker: parse one source (or a piece of one), its events as records in sorted run files."""
    import gc

    gc.disable()  # events hold no cycles; the collector only costs time here
    sidx, path, fmt, span = source
    stats = SourceStats(path, fmt)
    where = Path(path) if span is None else piece(Path(path), *span)

    def report(count: int) -> None:
        if _reports is not None:
            _reports.put((task, count))

    held = Untimed()
    runs, anchors = sort_source(
        PARSERS[fmt](where, stats),
        rank=rank,
        sidx=sidx,
        fmt=out_fmt,
        cloud_wanted=Everything(),
        stats=stats,
        held=held,
        path=where,
        report=report,
        spill_dir=spill_dir,
        run=run,
        nth=0 if span is None else span[2],
    )
    return run_names(runs), stats, anchors, [e for events in held.held.values() for e in events]


def sort_in_pool(
    chosen: list[tuple[Path, str]],
    ranks: list[int],
    out_fmt: str | None,
    run: int,
    spill_dir: str,
    workers: int,
    progress: Progress | None,
) -> list[Sorted]:
    """Every chosen source parsed and sorted by `workers` processes; results in `chosen` order
    (`ranks`: each source name's rank; `out_fmt`: the format lines are rendered in). A large
    tool log is parsed in pieces (`chunks`), whole sources first, largest first, the pieces last:
    the workers finish together."""
    whole: list[Task] = []
    pieces: list[Task] = []
    for i, (path, fmt) in enumerate(chosen):
        spans = cuts(path, fmt, workers)
        if spans is None:
            whole.append((i, str(path), fmt, None))
        else:
            pieces += [(i, str(path), fmt, span) for span in spans]
    tasks = sorted(whole, key=lambda t: -_size(Path(t[1]))) + pieces
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    reports = context.Queue()
    done: dict[int, Sorted] = {}
    counts: dict[int, int] = {}
    said: dict[int, int | None] = {}
    # a fresh process per task (maxtasksperchild=1): what one source's parse left in the memory
    # of its process never adds to the next one's (the peak stays one source's)
    with context.Pool(
        workers, initializer=_start, initargs=(reports, sorted(redaction.known())), maxtasksperchild=1
    ) as pool:
        pending = {
            n: pool.apply_async(_sort, (n, task, ranks[task[0]], out_fmt, run, spill_dir))
            for n, task in enumerate(tasks)
        }
        while pending:
            next(iter(pending.values())).wait(EVERY_S)
            finished = [n for n, result in pending.items() if result.ready()]
            _drain(reports, counts)
            for n in finished:
                done[n] = pending.pop(n).get()
                counts[n] = done[n][1].events
            if progress is not None:
                _report(progress, tasks, counts, done, said)
    reports.close()
    parts: dict[int, list[Sorted]] = {}
    for n, task in enumerate(tasks):
        parts.setdefault(task[0], []).append(done[n])
    return [parts[i][0] if len(parts[i]) == 1 else joined(parts[i]) for i in range(len(chosen))]


def _drain(reports: Any, counts: dict[int, int]) -> None:
    """The latest count each running task reported."""
    try:
        while True:
            task, count = reports.get_nowait()
            counts[task] = max(count, counts.get(task, 0))
    except queue.Empty:
        pass


def _report(
    progress: Progress, tasks: list[Task], counts: dict[int, int], done: dict[int, Any], said: dict[int, int | None]
) -> None:
    """Each source's events read so far (its pieces' together) when it grew, then its end once
    every piece is done (`said`: what was last said per source; None once its end was)."""
    sources: dict[int, list[int]] = {}
    for n, task in enumerate(tasks):
        sources.setdefault(task[0], []).append(n)
    for sidx, ns in sources.items():
        if sidx in said and said[sidx] is None:
            continue  # nothing after a source's end
        total = sum(counts.get(n, 0) for n in ns)
        if all(n in done for n in ns):
            progress(tasks[ns[0]][1], total, True)
            said[sidx] = None
        elif any(n in counts for n in ns) and total != said.get(sidx):
            progress(tasks[ns[0]][1], total, False)
            said[sidx] = total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
