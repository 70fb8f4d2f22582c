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


def _sort(index: int, path: str, fmt: str, rank: int, out_fmt: str | None, run: int, spill_dir: str) -> Sorted:
    """In a worker: parse one source, its events as records in sorted run files."""
    import gc

    gc.disable()  # events hold no cycles; the collector only costs time here
    stats = SourceStats(path, fmt)
    where = Path(path)

    def report(count: int) -> None:
        if _reports is not None:
            _reports.put((index, count))

    held = Untimed()
    runs, anchors = sort_source(
        PARSERS[fmt](where, stats),
        rank=rank,
        sidx=index,
        fmt=out_fmt,
        cloud_wanted=Everything(),
        stats=stats,
        held=held,
        path=where,
        report=report,
        spill_dir=spill_dir,
        run=run,
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
    (`ranks`: each source name's rank; `out_fmt`: the format lines are rendered in)."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    reports = context.Queue()
    results: dict[int, Sorted] = {}
    # a fresh process per source (maxtasksperchild=1): what one source's parse left in the memory
    # of its process never adds to the next one's (the peak stays one source's)
    with context.Pool(
        workers, initializer=_start, initargs=(reports, sorted(redaction.known())), maxtasksperchild=1
    ) as pool:
        # the largest first: two workers finish together more often
        order = sorted(range(len(chosen)), key=lambda i: -_size(chosen[i][0]))
        pending = {
            i: pool.apply_async(_sort, (i, str(chosen[i][0]), chosen[i][1], ranks[i], out_fmt, run, spill_dir))
            for i in order
        }
        while pending:
            next(iter(pending.values())).wait(EVERY_S)
            done = [i for i, result in pending.items() if result.ready()]
            _drain(reports, chosen, progress, results)
            for i in done:
                results[i] = pending.pop(i).get()
                if progress is not None:
                    progress(str(chosen[i][0]), results[i][1].events, True)
    reports.close()
    if "fork" not in methods:  # call keys are str hashes, equal only in processes forked from this one
        for _files, _stats, anchors, _held in results.values():
            anchors.call_keys = None
    return [results[i] for i in range(len(chosen))]


def _drain(reports: Any, chosen: list[tuple[Path, str]], progress: Progress | None, finished: dict[int, Any]) -> None:
    latest: dict[int, int] = {}
    try:
        while True:
            index, count = reports.get_nowait()
            latest[index] = max(count, latest.get(index, 0))
    except queue.Empty:
        pass
    if progress is not None:
        for index, count in latest.items():
            if index not in finished:  # a late count never follows the source's last call
                progress(str(chosen[index][0]), count, False)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
