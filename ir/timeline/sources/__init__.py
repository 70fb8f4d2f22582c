"""Source formats: detection per file, and the parser for each format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from ir.timeline.model import Event
from ir.timeline.sources import chat, claude, cloudtrail, codex, docker_logs, mcp, otel, toollog, trajectory
from ir.timeline.sources.base import SourceStats, head
from ir.timeline.sources.sample import Sample, Score, sample

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


def detect(path: Path) -> str | None:
    """The format of a file from its first bytes, or None when it is not one agent-ir reads."""
    start = head(path).lstrip()
    if not start:
        return None
    if start[:1] == b"{" or start[:1] == b"[":
        window = start[:4096]
        if b'"resourceSpans"' in window or (b'"spans"' in window and b'"context"' in start):
            return "otel"
        if b'"Records"' in window or b'"CloudTrailEvent"' in window:
            return "cloudtrail"
        scored = _scored(sample(path))
        if scored:
            return scored
        first = start.split(b"\n", 1)[0]
        try:
            obj = orjson.loads(first)
        except orjson.JSONDecodeError:
            return "otel" if b'"gen_ai.' in start else None
        return _detect_object(obj)
    if docker_logs.TEXT_LINE.match(start.split(b"\n", 1)[0] + b"\n"):
        return "docker-text"
    return None


SCORED: dict[str, Callable[[Sample], Score]] = {
    "cloudtrail": cloudtrail.score,
    "mcp": mcp.score,
    "chat": chat.score,
    "trajectory": trajectory.score,
}
"""Formats whose detection is by score on a sample (tl-shapes); the registry replaces `detect`."""


def _scored(s: Sample) -> str | None:
    best = max(((score(s).points, name) for name, score in SCORED.items()), default=(0, ""))
    return best[1] if best[0] >= 50 else None


def _detect_object(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return None
    if {"log", "stream", "time"} <= obj.keys():
        return "docker"
    if "eventName" in obj and "eventTime" in obj:
        return "cloudtrail"
    if mcp.is_mcp(obj):
        return "mcp"
    if claude.is_claude(obj):
        return "claude"
    if codex.is_codex(obj):
        return "codex"
    if "resourceSpans" in obj or ("context" in obj and "name" in obj):
        return "otel"
    if toollog.is_tool_record(obj):
        return "jsonl"
    return None


def expand(paths: list[Path]) -> list[Path]:
    """Files named, and every file under folders named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files
