"""The timeline pipeline: detect and parse each source, sort, estimate clock offsets, merge, analyse."""

from __future__ import annotations

import gc
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.core.errors import InputError
from ir.core.inventory import Agent
from ir.core.redaction import might_hold_secret, redact, redact_text
from ir.timeline import merge
from ir.timeline.detect import Analyzer
from ir.timeline.merge import Anchors, SortedSource, cleanup, estimate_offsets, merged
from ir.timeline.model import Event
from ir.timeline.prepare import SECRET, might_hold, prepare, texts
from ir.timeline.sources import PARSERS, Detection, detect_file, expand
from ir.timeline.sources.base import SourceStats
from ir.timeline.untimed import Untimed
from ir.timeline.workers import POOL_MIN_BYTES, Progress, counted, cpus, sort_in_pool


@dataclass
class Timeline:
    """A merged, tagged timeline: iterate `events()` once, then read `summary()`."""

    sources: list[SortedSource]
    stats: list[SourceStats]
    skipped: list[str]
    offsets: dict[str, dict[str, Any]]
    analyzer: Analyzer
    untimed: Untimed = field(default_factory=Untimed)
    detections: list[Detection] = field(default_factory=list)
    _used: bool = field(default=False)

    def events(self) -> Iterator[Event]:
        """Every event in time order, tagged; streams (memory stays bounded)."""
        if self._used:
            raise RuntimeError("a timeline's events can be read once")
        self._used = True
        enabled = gc.isenabled()
        gc.disable()  # (while this generator runs; the consumer's code in between too)
        try:
            analyse = self.analyzer
            for e in self.untimed.after(merged(self.sources)):  # untimed events: after the timed ones
                yield _redacted(analyse(e))  # detectors see everything; nothing secret leaves
        finally:
            cleanup(self.sources)
            if enabled:
                gc.enable()

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


def _redacted(e: Event) -> Event:
    """The event with secret-named tool fields, known secret shapes and values masked."""
    hold = e.pop(SECRET, None)
    if hold is None:
        hold = might_hold(e)
    if hold:  # one test of the three texts at once (the common case: none holds anything), then each
        message, tool_text, target = texts(e)
        if might_hold_secret(message):
            e["message"] = redact_text(message)
        if tool_text and might_hold_secret(tool_text):
            e["tool"] = redact(e["tool"])
        if target and might_hold_secret(target):
            e["target"] = redact_text(target)
    for t in e["tags"]:
        t["why"] = redact_text(t["why"])
    return e


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
) -> Timeline:
    """Parse and sort every source; files that are no known format are listed as skipped, with why.

    `format_override` forces every file's format, `file_formats` one file's (by path); untimed
    events are placed at `untimed_at` (UTC ns) when given, else after the timed events.
    `progress(source path, events read so far, finished)` is called in this process while the
    sources are parsed, at most ~10 times a second per source, and once with finished=True.
    `workers`: processes parsing sources in parallel (None: one per CPU this process may use,
    when there are several sources and enough bytes; 0 or 1: all in this process)."""
    enabled = gc.isenabled()
    gc.disable()  # a million small dicts and no cycles: the collector would only cost time
    try:
        detections = detect_all(expand(paths), format_override, file_formats or {})
        return _build(detections, agent, Untimed(at=untimed_at), progress, workers)
    finally:
        if enabled:
            gc.enable()


def _build(
    detections: list[Detection],
    agent: Agent | None,
    untimed: Untimed,
    progress: Progress | None,
    workers: int | None,
) -> Timeline:
    chosen = [(d.path, d.format) for d in detections if d.format]
    skipped = [f"{d.path}: {d.why}" for d in detections if not d.format]
    chosen.sort(key=lambda item: item[1] == "cloudtrail")  # tool sources first: they say which API calls matter
    wanted: set[str] = set()
    sources: list[SortedSource] = []
    stats: list[SourceStats] = []
    if workers is None:
        big = sum(path.stat().st_size for path, _fmt in chosen) >= POOL_MIN_BYTES
        workers = min(cpus(), len(chosen)) if big else 1
    spill_dir = None
    if workers > 1 and len(chosen) > 1:
        spill_dir = tempfile.mkdtemp(prefix="ir-timeline-")
        try:
            for (path, fmt), (runs, st, anchors, held) in zip(
                chosen, sort_in_pool(chosen, merge.RUN, spill_dir, workers, progress), strict=True
            ):
                sources.append(SortedSource.from_files(f"{fmt}:{path.name}", runs, anchors))
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
        for path, fmt in chosen:
            st = SourceStats(str(path), fmt)
            name = str(path)

            def report(count: int, name: str = name) -> None:
                if progress is not None:
                    progress(name, count, False)

            events = untimed.split(counted(PARSERS[fmt](path, st), st, report if progress else None), path)
            src = SortedSource(f"{fmt}:{path.name}", events, Anchors(), wanted, prepare=prepare)
            if progress is not None:
                progress(name, st.events, True)
            for op, _ts in src.anchors.aws:
                wanted.add(op)
            sources.append(src)
            stats.append(st)
    offsets = estimate_offsets(sources)
    allowlist, principals = agent_facts(agent)
    analyzer = Analyzer(allowlist=allowlist, principals=principals)
    return Timeline(sources, stats, skipped, offsets, analyzer, untimed=untimed, detections=detections)


def detect_all(files: list[Path], every: str | None, per_file: dict[Path, str]) -> list[Detection]:
    """Each file's format: the one the user named for it, else the one named for all, else detected."""
    named = {p.resolve(): fmt for p, fmt in per_file.items()}
    missing = named.keys() - {p.resolve() for p in files}
    if missing:
        path = min(missing)
        raise InputError(f"--source-format {path}={named[path]}: {path} is not among the sources")
    return [detect_file(path, named.get(path.resolve(), every)) for path in files]
