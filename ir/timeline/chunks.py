"""A large tool-call log parsed in pieces, so that the pool's workers finish together.

Only the JSON-lines tool log is cut: each of its lines is one record on its own, and an event's
`seq` is its line number. A piece starts at a line start and knows the number of its first line
(`Piece`, a path `base.lines` reads from `start` to `end` only), so every event, reason and
reference is the one reading the whole file gives. The pieces' statistics and clock anchors are
put back together in file order (`joined`), exactly as one pass would have gathered them.
"""

from __future__ import annotations

from pathlib import Path, PosixPath
from typing import Any

from ir.timeline.merge import ANCHORS_MAX, Anchors
from ir.timeline.sources.base import KEEP_BAD_REFS, SourceStats

SPLIT_FORMATS = frozenset({"jsonl"})
SPLIT_FROM = 16 * 1024 * 1024
"""Tool logs at least this large are parsed in pieces (one per worker and a half, about)."""


class Piece(PosixPath):
    """A file to read from byte `start` to `end`, its first line numbered `first_line`."""

    span: tuple[int, int, int]


def piece(path: Path, start: int, end: int, first_line: int) -> Piece:
    """`path`, read from `start` to `end` only (its lines numbered from `first_line`)."""
    made = Piece(path)
    made.span = (start, end, first_line)
    return made


def cuts(path: Path, fmt: str, workers: int) -> list[tuple[int, int, int]] | None:
    """(start, end, first line number) of the pieces to parse `path` in, or None: whole."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            if fmt not in SPLIT_FORMATS or size < SPLIT_FROM or fh.read(2) == b"\x1f\x8b":
                return None
            fh.seek(0)
            return _cut(fh, size, max(2, workers * 2))
    except OSError:
        return None


def _cut(fh: Any, size: int, parts: int) -> list[tuple[int, int, int]] | None:
    targets = [size * i // parts for i in range(1, parts)]
    found: list[tuple[int, int, int]] = []
    start, first_line = 0, 1
    offset, newlines = 0, 0  # where this block starts, newlines before it
    while targets and (block := fh.read(1 << 22)):
        at = 0
        while targets:
            begin = max(targets[0] - 1 - offset, at)
            if begin >= len(block):
                break
            nl = block.find(b"\n", begin)
            if nl < 0:
                break
            cut = offset + nl + 1
            lines_before = newlines + block.count(b"\n", 0, nl + 1)
            targets.pop(0)
            if cut > start and cut < size:
                found.append((start, cut, first_line))
                start, first_line = cut, lines_before + 1
            at = nl + 1
        newlines += block.count(b"\n")
        offset += len(block)
    if not found:
        return None
    found.append((start, size, first_line))
    return found


def joined(parts: list[tuple[list[str], SourceStats, Anchors, list[Any]]]) -> tuple[Any, ...]:
    """One source's (run files, statistics, anchors, held events) from its pieces', in file order."""
    files: list[str] = []
    stats = SourceStats(parts[0][1].path, parts[0][1].format)
    anchors = Anchors()
    held: list[Any] = []
    for run_files, st, found, untimed in parts:
        files += run_files
        stats.records += st.records
        stats.events += st.events
        stats.bad += st.bad
        stats.assumed_utc += st.assumed_utc
        stats.bad_refs += st.bad_refs[: KEEP_BAD_REFS - len(stats.bad_refs)]
        _join_anchors(anchors, found)
        held += untimed
    return files, stats, anchors, held


def _join_anchors(into: Anchors, more: Anchors) -> None:
    """`more`'s anchors after `into`'s, as one pass noting both would have kept them (each noted
    until ANCHORS_MAX: a piece noted at least as many as one pass would still take from it)."""
    for key, ts in more.calls.items():
        if len(into.calls) >= ANCHORS_MAX:
            break
        into.calls.setdefault(key, ts)
    taken = 0
    for size in more.aws_groups:
        if len(into.aws) >= ANCHORS_MAX:
            break
        into.aws.extend(more.aws[taken : taken + size])
        into.aws_groups.append(size)
        taken += size
    for name, times in more.cloud.items():
        kept = into.cloud.get(name, [])
        if len(kept) < ANCHORS_MAX:
            into.cloud.setdefault(name, kept).extend(times[: ANCHORS_MAX - len(kept)])
