"""Source formats: detection per file, and the parser for each format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from ir.timeline.model import Event
from ir.timeline.sources import chat, claude, cloudtrail, codex, docker_logs, mcp, otel, toollog, trajectory
from ir.timeline.sources.base import SourceStats
from ir.timeline.sources.detection import Detection, detect_file

Parser = Callable[[Path, SourceStats], Iterator[Event]]

PARSERS: dict[str, Parser] = {
    "otel": otel.parse,
    "cloudtrail": cloudtrail.parse,
    "docker": docker_logs.parse,
    "docker-text": docker_logs.parse_text,
    "jsonl": toollog.parse,
    "mcp": mcp.parse,
    "claude": claude.parse,
    "codex": codex.parse,
    "chat": chat.parse,
    "trajectory": trajectory.parse,
}
FORMATS = tuple(PARSERS)
__all__ = ["FORMATS", "PARSERS", "Detection", "Parser", "detect", "detect_file", "expand"]


def detect(path: Path) -> str | None:
    """The format of a file (see `detection`), or None when it is not one agent-ir reads."""
    return detect_file(path).format


def expand(paths: list[Path]) -> list[Path]:
    """Files named, and every file under folders named, in a stable order; each file once (a file
    named and inside a folder named, or reached by two names, is read once: as first named)."""
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        for found in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
            key = found.resolve()
            if key not in seen:
                seen.add(key)
                files.append(found)
    return files
