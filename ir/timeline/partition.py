"""The timeline written on two cores: split at a time, the later part analysed in a forked process.

Nothing can be merged before every source is sorted (the last line read may hold the earliest
event), so the merge, the analysis and the writing ran alone on one core. Split at a time T
(about the median event's): this process writes the events before T; a forked child writes those
from T on to a temporary file, which is appended after them. The child starts with the analyser's
state the one pass would have at T, which is small and either windowed or counted:

- the last read an egress can follow (ten minutes): taken in again (`Analyzer.prime`);
- events per minute (rate spikes): every block of a run file says how many events it holds per
  minute (`records.read_heads`), so the minutes before T are counted without reading the blocks;
- keys seen from several places, and tool calls causing cloud calls, concern only the cloud calls
  of the agent's principals (and need every earlier one): with principals, no split.

The child sends back what its analyser found (`Analyzer.findings`), added to this one's
(`Analyzer.absorb`): the summary is the one pass's. Whenever the split could not be exact (a tool
call folded across sources, untimed events, clock offsets applied, the agent's principals) or
would not pay (fewer than `SPLIT_MIN` events, one CPU, no fork), the timeline is written in one pass.
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from ir.core.errors import IrError
from ir.timeline.analyse import Analyzer, read_of
from ir.timeline.detect import EXFIL_WINDOW_NS
from ir.timeline.merge import Run, SortedSource
from ir.timeline.model import iso
from ir.timeline.records import INFO, KIND, TS, Head, Record, blocks, minute_counts, read_heads, read_run
from ir.timeline.stream import Stream
from ir.timeline.untimed import Untimed

SPLIT_MIN = 200_000
"""Fewer events than this: one pass (forking and the child's start cost more than they save)."""


@dataclass(frozen=True)
class Split:
    """When and where to split the writing of a timeline (tests give their own)."""

    at_least: int = SPLIT_MIN
    """Events needed to split."""
    cpus: int = 2
    """CPUs this process must be allowed to use to split."""
    pivot: int | None = None
    """T (UTC ns), when given; else about the median event's time."""


def pivot(sources: list[SortedSource], split: Split, cpus: int, whole: bool) -> int | None:
    """T for these sources, or None when the timeline must be written in one pass (`whole`: the
    caller's reasons — folding, untimed events, principals)."""
    if whole or cpus < split.cpus or not hasattr(os, "fork") or any(src.offset_ns for src in sources):
        return None
    if split.pivot is not None:
        return split.pivot
    firsts: list[tuple[int, int]] = []  # (a block's first time, its events)
    for src in sources:
        for run in src.runs:
            firsts += ((head[0], sum(head[2][1::2])) for head, _load in _heads(run))
    total = sum(n for _first, n in firsts)
    if total < max(split.at_least, 1):
        return None
    firsts.sort()
    seen = 0
    for first, n in firsts:
        seen += n
        if 2 * seen >= total:
            return first
    return None  # pragma: no cover - (the loop always returns: the events add up to total)


def _heads(run: Run) -> Iterator[tuple[Head, Callable[[], list[Record]]]]:
    """A run's blocks as (head, a function giving the block); a run file is read with `os.pread`."""
    if not isinstance(run, list):
        yield from read_heads(run)
        return
    for part in blocks(run):
        yield (part[0][TS], part[-1][TS], minute_counts(part, 0, len(part))), partial(_given, part)


def _given(block: list[Record]) -> list[Record]:
    return block


def _before(run: Run, at: int) -> Iterator[list[Record]]:
    """A run's records before `at`, in blocks (the file read as the one pass reads it)."""
    found = read_run(run) if not isinstance(run, list) else blocks(run)
    for block in found:
        if block[-1][TS] < at:
            yield block
            continue
        cut = bisect_left(block, (at,))
        if cut:
            yield block[:cut]
        return


def _after(first: list[Record], rest: Iterator[tuple[Head, Callable[[], list[Record]]]]) -> Iterator[list[Record]]:
    if first:
        yield first
    for _head, load in rest:
        yield load()


def runs_from(sources: list[SortedSource], at: int, analyzer: Analyzer) -> list[Iterator[list[Record]]]:
    """Every run's records from `at` on, the analyser primed as the one pass would have it at `at`:
    events per minute counted (from the blocks' heads where a block is wholly before), and the
    last read of the `EXFIL_WINDOW_NS` before taken in (`Analyzer.prime`; each run's blocks read
    newest first until one holds a read)."""
    since = at - EXFIL_WINDOW_NS
    minutes: dict[int, int] = {}
    reads: list[Record] = []
    runs: list[Iterator[list[Record]]] = []

    def count(flat: tuple[int, ...]) -> None:
        for i in range(0, len(flat), 2):
            minutes[flat[i]] = minutes.get(flat[i], 0) + flat[i + 1]

    for src in sources:
        for run in src.runs:
            recent: list[Callable[[], list[Record]]] = []  # blocks before `at` ending in the window
            found = _heads(run)
            for (_first, last, per_minute), load in found:
                if last < at:
                    count(per_minute)
                    if last >= since:
                        recent.append(load)
                    continue
                block = load()
                cut = bisect_left(block, (at,))
                count(minute_counts(block, 0, cut))
                if cut:
                    recent.append(partial(_given, block[:cut]))
                runs.append(_after(block[cut:], found))
                break
            read = _last_read(recent, since)
            if read is not None:
                reads.append(read)
    if reads:
        latest = max(reads)  # (the one pass's order: time, then key)
        analyzer.prime(latest[TS], latest[KIND], latest[INFO])
    analyzer.seed_minutes(minutes)
    return runs


def _last_read(recent: list[Callable[[], list[Record]]], since: int) -> Record | None:
    """One run's last read since `since`, of its last blocks before T (oldest first)."""
    for load in reversed(recent):
        for r in reversed(load()):
            if r[TS] < since:
                return None
            if read_of(r[KIND], r[INFO]) is not None:
                return r
    return None


def write_in_two(
    sources: list[SortedSource],
    analyzer: Analyzer,
    untimed: Untimed,
    rendered: str | None,
    fmt: str,
    at: int,
    emit: Callable[[Iterator[list[bytes]]], int],
    append: Callable[[int], None],
) -> int | None:
    """Write the timeline split at `at`: `emit` writes the lines before it (here); a forked child
    renders the rest to a temporary file, which `append(fd)` then adds to the output. Returns how
    many events were written; the analyser ends with the whole timeline's findings. The child's
    failure fails the run (never a short output reported as whole). None, having written nothing,
    when the child cannot be started (no fork, no pipe, no temporary file): write in one pass."""
    try:
        later = tempfile.TemporaryFile(prefix="ir-timeline-later-")  # noqa: SIM115 (closed below)
    except OSError:
        return None  # (no room for the later half: one pass, as before)
    try:
        read_end, write_end = os.pipe()
    except OSError:
        later.close()
        return None
    try:
        pid = os.fork()
    except OSError:  # no memory or no process to spare (a large parent, strict overcommit): one pass
        for fd in (read_end, write_end):
            os.close(fd)
        later.close()
        return None
    if pid == 0:  # pragma: no cover - (the child: coverage is not collected in it)
        _child(sources, analyzer, untimed, rendered, fmt, at, later.fileno(), read_end, write_end)
    os.close(write_end)
    reaped = False
    try:
        with open(read_end, "rb") as pipe:
            before = [_before(run, at) for src in sources for run in src.runs]
            stream = Stream(sources, analyzer, untimed, rendered, dedup=False, runs=before)
            count = emit(stream.chunks(fmt))
            message = pipe.read()
        _pid, status = os.waitpid(pid, 0)
        reaped = True
        code = os.waitstatus_to_exitcode(status)
        result = pickle.loads(message) if code == 0 and message else None
        if not isinstance(result, tuple):
            why = message.decode(errors="replace") if code and message else f"exit status {code}"
            raise IrError(f"timeline: the process writing the events from {iso(at)} on failed: {why}")
        later_count, findings = result
        analyzer.absorb(findings)
        append(later.fileno())
        return count + int(later_count)
    finally:
        if not reaped:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        later.close()


def _child(
    sources: list[SortedSource],
    analyzer: Analyzer,
    untimed: Untimed,
    rendered: str | None,
    fmt: str,
    at: int,
    later: int,
    read_end: int,
    write_end: int,
) -> None:  # pragma: no cover - (runs in the forked child)
    """The forked child: the events from `at` on to the file `later`; to the pipe, (count,
    findings) pickled, or why it failed. Never returns (`os._exit`: nothing of the parent's —
    buffered output, exit handlers — runs twice)."""
    code = 1
    message = b"the child failed"
    try:
        os.close(read_end)
        runs = runs_from(sources, at, analyzer)
        stream = Stream(sources, analyzer, untimed, rendered, dedup=False, runs=runs)
        count = 0
        with open(os.dup(later), "wb", buffering=1 << 20) as fh:
            for chunk in stream.chunks(fmt):
                count += len(chunk)
                fh.write(b"".join(chunk))
        found: dict[str, Any] = analyzer.findings()
        message = pickle.dumps((count, found), protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    except BaseException as exc:  # (reported to the parent, which fails the run)
        message = f"{type(exc).__name__}: {exc}".encode(errors="replace")
    finally:
        try:
            view = memoryview(message)
            while view:
                view = view[os.write(write_end, view) :]
        finally:
            os._exit(code)
