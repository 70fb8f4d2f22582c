"""The timeline pipeline: detect and parse each source, sort, estimate clock offsets, merge, analyse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ir.core.errors import InputError
from ir.core.inventory import Agent
from ir.core.redaction import might_hold_secret, redact, redact_text
from ir.timeline.detect import Analyzer
from ir.timeline.merge import Anchors, SortedSource, cleanup, estimate_offsets, merged
from ir.timeline.model import Event
from ir.timeline.sources import PARSERS, Detection, detect_file, expand
from ir.timeline.sources.base import SourceStats
from ir.timeline.untimed import Untimed


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
        try:
            for e in self.untimed.after(merged(self.sources)):  # untimed events: after the timed ones
                yield _redacted(self.analyzer(e))  # detectors see everything; nothing secret leaves
        finally:
            cleanup(self.sources)

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
    if might_hold_secret(e["message"]):
        e["message"] = redact_text(e["message"])
    tool = e.get("tool")
    if tool and might_hold_secret(orjson.dumps(tool, default=str).decode()):
        e["tool"] = redact(tool)
    if isinstance(e.get("target"), str) and might_hold_secret(e["target"]):
        e["target"] = redact_text(e["target"])
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
) -> Timeline:
    """Parse and sort every source; files that are no known format are listed as skipped, with why.

    `format_override` forces every file's format, `file_formats` one file's (by path); untimed
    events are placed at `untimed_at` (UTC ns) when given, else after the timed events.
    """
    detections = detect_all(expand(paths), format_override, file_formats or {})
    chosen = [(d.path, d.format) for d in detections if d.format]
    skipped = [f"{d.path}: {d.why}" for d in detections if not d.format]
    chosen.sort(key=lambda item: item[1] == "cloudtrail")  # tool sources first: they say which API calls matter
    untimed = Untimed(at=untimed_at)
    wanted: set[str] = set()
    sources: list[SortedSource] = []
    stats: list[SourceStats] = []
    for path, fmt in chosen:
        st = SourceStats(str(path), fmt)
        parsed = untimed.split(_counted(PARSERS[fmt](path, st), st), path)
        src = SortedSource(f"{fmt}:{path.name}", parsed, Anchors(), wanted)
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


def _counted(events: Iterator[Event], stats: SourceStats) -> Iterator[Event]:
    for e in events:
        stats.events += 1
        yield e
