"""The timeline pipeline: detect and parse each source, sort, estimate clock offsets, merge, analyse."""

from __future__ import annotations

import codecs
import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from ir.core.errors import InputError
from ir.core.redaction import redact
from ir.timeline import merge
from ir.timeline.analyse import Analyzer
from ir.timeline.export import csv_header
from ir.timeline.merge import SortedSource, cleanup, estimate_offsets, may_fold
from ir.timeline.model import Event
from ir.timeline.partition import Split, pivot, write_in_two
from ir.timeline.runs import sort_source
from ir.timeline.sources import PARSERS, Detection, detect_file, expand
from ir.timeline.sources.base import SourceStats
from ir.timeline.stream import Stream
from ir.timeline.untimed import Untimed
from ir.timeline.workers import POOL_MIN_BYTES, Progress, cpus, sort_in_pool

if TYPE_CHECKING:  # (not imported to run: the inventory's models cost a fifth of a second to load)
    from ir.core.inventory import Agent

WRITE_EVERY = 4096
"""Lines gathered before each write to the output."""


def _binary(out: TextIO) -> BinaryIO | None:
    """The byte stream under a UTF-8 text stream that writes newlines as they are, else None (the
    lines are then written as text)."""
    raw = getattr(out, "buffer", None)
    encoding = str(getattr(out, "encoding", "") or "").lower().replace("-", "")
    if raw is None or encoding != "utf8" or os.linesep != "\n":
        return None
    return raw  # type: ignore[no-any-return]


def _put(out: TextIO, binary: BinaryIO | None, lines: list[bytes]) -> None:
    if binary is not None:
        binary.write(b"".join(lines))
    else:
        out.write(b"".join(lines).decode())


@dataclass
class Timeline:
    """A merged, tagged timeline: read `events()` or `write()` once, then `summary()`."""

    sources: list[SortedSource]
    stats: list[SourceStats]
    skipped: list[str]
    offsets: dict[str, dict[str, Any]]
    analyzer: Analyzer
    untimed: Untimed = field(default_factory=Untimed)
    detections: list[Detection] = field(default_factory=list)
    fmt: str | None = None
    """The export format the workers rendered lines in (None: none)."""
    dedup: bool = True
    """Whether a tool call can be folded across sources (`merge.may_fold`)."""
    split: Split = field(default_factory=Split)
    """When `write` splits the timeline in two (`partition`)."""
    _used: bool = field(default=False)

    def _claim(self) -> None:
        if self._used:
            raise RuntimeError("a timeline's events can be read once")
        self._used = True

    def _stream(self) -> Stream:
        self._claim()
        return Stream(self.sources, self.analyzer, self.untimed, self.fmt, dedup=self.dedup)

    def events(self) -> Iterator[Event]:
        """Every event in time order, tagged; streams (memory stays bounded)."""
        stream = self._stream()
        enabled = gc.isenabled()
        gc.disable()  # (while this generator runs; the consumer's code in between too)
        try:
            yield from stream.events()  # untimed events: after the timed ones
        finally:
            _release(self.sources, enabled)

    def write(self, out: TextIO, fmt: str) -> int:
        """Write every event in `fmt` (as `export.write` does); returns how many. Lines the workers
        rendered in `fmt` (`build(..., fmt=)`) are written as they are unless an event changed.
        A large timeline is written on two cores, split at a time (`partition`)."""
        self._claim()
        enabled = gc.isenabled()
        gc.disable()
        try:
            if fmt == "timesketch-csv":
                out.write(csv_header())
            binary = _binary(out)
            out.flush()  # (also: nothing buffered is copied into a forked child)
            whole = self.dedup or bool(self.untimed.held) or bool(self.analyzer.principals)
            at = pivot(self.sources, self.split, cpus(), whole)
            if at is not None:
                written = write_in_two(
                    self.sources,
                    self.analyzer,
                    self.untimed,
                    self.fmt,
                    fmt,
                    at,
                    lambda chunks: _emit(chunks, out, binary),
                    lambda fd: _append(out, binary, fd),
                )
                if written is not None:
                    return written
            stream = Stream(self.sources, self.analyzer, self.untimed, self.fmt, dedup=self.dedup)
            return _emit(stream.chunks(fmt), out, binary)
        finally:
            _release(self.sources, enabled)

    def summary(self) -> dict[str, Any]:
        """The analyser's findings plus what was read, skipped, bad, and corrected (secrets masked:
        the detectors saw the events before redaction)."""
        found: dict[str, Any] = redact(
            {
                **self.analyzer.summary(),
                "sources": [s.as_dict() for s in self.stats],
                "skipped_files": self.skipped,
                "files_skipped": len(self.skipped),
                "detected": [d.as_dict() for d in self.detections if d.format],
                "untimed": self.untimed.summary(),
                "clock_offsets": self.offsets,
            }
        )
        return found


def _emit(chunks: Iterator[list[bytes]], out: TextIO, binary: BinaryIO | None) -> int:
    """Write the lines of `chunks`, `WRITE_EVERY` at a time; returns how many."""
    count = 0
    gathered: list[bytes] = []
    for chunk in chunks:
        count += len(chunk)
        gathered += chunk
        if len(gathered) >= WRITE_EVERY:
            _put(out, binary, gathered)
            gathered = []
    _put(out, binary, gathered)
    return count


def _append(out: TextIO, binary: BinaryIO | None, fd: int) -> None:
    """Add the whole file `fd` (lines in UTF-8) to the output: in the kernel when the output is a
    file descriptor (`os.sendfile`), else copied."""
    size = os.fstat(fd).st_size
    done = 0
    if binary is not None:
        binary.flush()
        try:
            target = binary.fileno()
        except (AttributeError, OSError, ValueError):
            target = -1
        if target >= 0:
            try:
                while done < size:
                    sent = os.sendfile(target, fd, done, size - done)
                    if not sent:
                        break
                    done += sent
            except OSError:
                pass  # (not a descriptor sendfile writes to: copied below, from where it stopped)
    decoder = codecs.getincrementaldecoder("utf-8")()
    while done < size:
        piece = os.pread(fd, min(size - done, 1 << 20), done)
        if not piece:
            raise OSError(f"the timeline's later part ended early ({done} of {size} bytes)")
        done += len(piece)
        if binary is not None:
            binary.write(piece)
        else:
            out.write(decoder.decode(piece, final=done >= size))


def _release(sources: list[SortedSource], enabled: bool) -> None:
    """Close the runs; the collector back as it was, scanning again what `build` held back."""
    cleanup(sources)
    gc.unfreeze()
    if enabled:
        gc.enable()


def agent_facts(agent: Agent | None) -> tuple[tuple[str, ...], frozenset[str]]:
    """The agent's egress allowlist and IAM principal names, from its inventory entry."""
    if agent is None:
        return (), frozenset()
    names: set[str] = set()
    for ref in agent.credentials:
        extra = ref.model_extra or {}
        names.update(str(extra[k]) for k in ("user_name", "role_name") if k in extra)
    return tuple(agent.egress_allowlist), frozenset(names)


def build(
    paths: list[Path],
    *,
    agent: Agent | None = None,
    format_override: str | None = None,
    file_formats: dict[Path, str] | None = None,
    untimed_at: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    fmt: str | None = None,
) -> Timeline:
    """Parse and sort every source; files that are no known format are listed as skipped, with why.

    `format_override` forces every file's format, `file_formats` one file's (by path); untimed
    events are placed at `untimed_at` (UTC ns) when given, else after the timed events.
    `progress(source path, events read so far, finished)` is called in this process while the
    sources are parsed, at most ~10 times a second per source, and once with finished=True.
    `workers`: processes parsing sources in parallel (None: one per CPU this process may use,
    when there are several sources and enough bytes; 0 or 1: all in this process).
    `fmt`: the export format `Timeline.write` will write (the workers render the lines)."""
    enabled = gc.isenabled()
    gc.disable()  # a million small dicts and no cycles: the collector would only cost time
    try:
        detections = detect_all(expand(paths), format_override, file_formats or {})
        timeline = _build(detections, agent, Untimed(at=untimed_at), progress, workers, fmt)
    except BaseException:
        if enabled:
            gc.enable()
        raise
    if enabled:
        # what the timeline holds (sorted runs in memory, anchors) has no cycles: kept out of the
        # collector's scans until it is read (`_release` puts it back), instead of all of it being
        # scanned at the first allocation after this
        gc.freeze()
        gc.enable()
    return timeline


def _build(
    detections: list[Detection],
    agent: Agent | None,
    untimed: Untimed,
    progress: Progress | None,
    workers: int | None,
    out_fmt: str | None,
) -> Timeline:
    chosen = [(d.path, d.format) for d in detections if d.format]
    skipped = [f"{d.path}: {d.why}" for d in detections if not d.format]
    chosen.sort(key=lambda item: item[1] == "cloudtrail")  # tool sources first: they say which API calls matter
    names = [f"{fmt}:{path.name}" for path, fmt in chosen]
    rank = {name: i for i, name in enumerate(sorted(set(names)))}  # the merge's order of equal times
    ranks = [rank[name] for name in names]
    wanted: set[str] = set()
    sources: list[SortedSource] = []
    stats: list[SourceStats] = []
    if workers is None:
        big = sum(path.stat().st_size for path, _fmt in chosen) >= POOL_MIN_BYTES
        workers = min(cpus(), len(chosen)) if big else 1
    if workers > 1 and len(chosen) > 1:
        spill_dir = tempfile.mkdtemp(prefix="ir-timeline-")
        try:
            done = sort_in_pool(chosen, ranks, out_fmt, merge.RUN, spill_dir, workers, progress)
            for name, (path, _fmt), (files, st, anchors, held) in zip(names, chosen, done, strict=True):
                sources.append(SortedSource.from_files(name, files, anchors))
                stats.append(st)
                untimed.hold(held, path)
        except BaseException:
            cleanup(sources)
            raise
        finally:
            shutil.rmtree(spill_dir, ignore_errors=True)  # the runs are open (and unlinked) or gone
        for src in sources:
            for op, _ts in src.anchors.aws:
                wanted.add(op)
        for src in sources:
            src.anchors.keep(wanted)
    else:
        try:
            for sidx, (path, fmt) in enumerate(chosen):
                st = SourceStats(str(path), fmt)
                where = str(path)

                def report(count: int, where: str = where) -> None:
                    if progress is not None:
                        progress(where, count, False)

                runs, anchors = sort_source(
                    PARSERS[fmt](path, st),
                    rank=ranks[sidx],
                    sidx=sidx,
                    fmt=out_fmt,
                    cloud_wanted=wanted,
                    stats=st,
                    held=untimed,
                    path=path,
                    report=report if progress else None,
                )
                if progress is not None:
                    progress(where, st.events, True)
                for op, _ts in anchors.aws:
                    wanted.add(op)
                sources.append(SortedSource(names[sidx], anchors, runs))
                stats.append(st)
        except BaseException:
            cleanup(sources)
            raise
    offsets = estimate_offsets(sources)
    dedup = may_fold(sources, ranks)
    allowlist, principals = agent_facts(agent)
    analyzer = Analyzer(allowlist=allowlist, principals=principals)
    return Timeline(
        sources, stats, skipped, offsets, analyzer, untimed=untimed, detections=detections, fmt=out_fmt, dedup=dedup
    )


def detect_all(files: list[Path], every: str | None, per_file: dict[Path, str]) -> list[Detection]:
    """Each file's format: the one the user named for it, else the one named for all, else detected."""
    named = {p.resolve(): fmt for p, fmt in per_file.items()}
    missing = named.keys() - {p.resolve() for p in files}
    if missing:
        path = min(missing)
        raise InputError(f"--source-format {path}={named[path]}: {path} is not among the sources")
    return [detect_file(path, named.get(path.resolve(), every)) for path in files]
