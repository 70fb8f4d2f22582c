"""What format detection looks at: the first lines of a file, parsed, and the document's shape.

Detection reads like a person would: not one line but a sample — the first non-blank lines (a
Claude Code session often starts with queue operations or a summary, a Codex rollout with a bare
header), and, for a file that is one JSON document, the document itself (when small enough) or
at least its opening. Each format scores the sample (`Score`); the best score wins and every
format that lost says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.timeline.sources.base import first_line, read_head
from ir.timeline.sources.jsontext import loads

SAMPLE_LINES = 50
"""Non-blank lines parsed for detection."""
SAMPLE_BYTES = 256 * 1024
"""Bytes read from the start of a file for detection (decompressed)."""


@dataclass(frozen=True)
class Score:
    """How well a sample fits a format (0 = not at all, 100 = certain), and why, in a few words."""

    points: int
    why: str


NO = Score(0, "")


@dataclass
class Sample:
    """The start of one file as detection sees it.

    `lines`: the first non-blank lines, each parsed as JSON (None when a line is not JSON; a line
    cut by the end of the sample is left out). `raw_lines`: the same lines as bytes.
    `document`: the whole file parsed as one JSON document when it starts with `{` or `[` and
    fits in the sample, else None. `opening`: the first bytes, for formats known by their text.
    """

    path: Path
    opening: bytes
    lines: list[Any] = field(default_factory=list)
    raw_lines: list[bytes] = field(default_factory=list)
    document: Any = None
    whole: bool = False
    """Whether the sample holds the whole file."""
    more: bool = False
    """Whether the file goes on past the sampled lines (the byte sample or the line limit ended them)."""
    problem: str | None = None
    """What cut the reading short (`truncated gzip`, `unreadable: <error>`), or None."""

    @property
    def objects(self) -> list[dict[str, Any]]:
        """The sampled lines that are JSON objects."""
        return [v for v in self.lines if isinstance(v, dict)]


def _past_long_first_line(path: Path, size: int) -> tuple[list[bytes], bool]:
    """The lines of a file whose first line is longer than the sample: that line, and what the
    `size` bytes after it hold; and whether the file goes on past them."""
    line, ended, rest = first_line(path, after=size + 1)
    if not ended:
        return [], True  # one unterminated line, or longer than any line is read: a document
    pieces = [line.rstrip(b"\n"), *rest[:size].split(b"\n")]
    return (pieces[:-1], True) if len(rest) > size else (pieces, False)


def sample(path: Path, size: int = SAMPLE_BYTES) -> Sample:
    """The sample of a file (decompressed when gzip); an unreadable file gives an empty sample."""
    opening, problem = read_head(path, size + 1)
    whole = len(opening) <= size and problem is None
    opening = opening[:size]
    found = Sample(path=path, opening=opening, whole=whole, problem=problem)
    stripped = opening.lstrip()
    if stripped[:1] in (b"{", b"[") and whole:
        try:
            found.document = loads(stripped)
        except (ValueError, RecursionError):
            found.document = None
    pieces = opening.split(b"\n")
    found.more = not whole
    if not whole:
        pieces = pieces[:-1]  # the last piece may be cut
        if not any(p.strip() for p in pieces):  # the first line is longer than the sample: read it
            pieces, found.more = _past_long_first_line(path, size)  # whole (up to MAX_LINE), then on
    for raw in pieces:
        if not raw.strip():
            continue
        if len(found.raw_lines) >= SAMPLE_LINES:
            found.more = True
            break
        found.raw_lines.append(raw)
        try:
            found.lines.append(loads(raw))
        except (ValueError, RecursionError):
            found.lines.append(None)
    return found
