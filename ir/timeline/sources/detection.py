"""Which format a file is, and why — or why it was skipped.

Every format scores the file's `Sample` (its first lines parsed, the document when it is one
small JSON document, its opening bytes); the best score at or above `THRESHOLD` wins. A file
no format claims is skipped with a reason a person can act on: what the file looks like (JSON
lines, one JSON document, text, binary), what was missing, and the first keys seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.core.redaction import redact_text
from ir.timeline.sources import chat, claude, cloudtrail, codex, docker_logs, mcp, otel, toollog, trajectory
from ir.timeline.sources.sample import NO, Sample, Score, sample

THRESHOLD = 50
"""The least score that makes a file that format."""

Scorer = Callable[[Sample], Score]

SCORERS: dict[str, Scorer] = {
    "otel": otel.score,
    "cloudtrail": cloudtrail.score,
    "docker": docker_logs.score,
    "docker-text": docker_logs.score_text,
    "mcp": mcp.score,
    "claude": claude.score,
    "codex": codex.score,
    "jsonl": toollog.score,
    "chat": chat.score,
    "trajectory": trajectory.score,
}
"""Every format's scorer; on equal scores the earlier format wins."""


@dataclass(frozen=True)
class Detection:
    """What detection decided for one file: its format (None = skipped) and why."""

    path: Path
    format: str | None
    why: str
    forced: bool = False
    scores: dict[str, Score] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (the format, the reason, whether the user forced it)."""
        return {"path": str(self.path), "format": self.format, "why": self.why, "forced": self.forced}


def detect_file(path: Path, forced: str | None = None) -> Detection:
    """The format of `path` (or `forced`, when the user named one) and the reason."""
    if forced is not None:
        return Detection(path, forced, f"{forced}: named by --source-format", forced=True)
    found = sample(path)
    scores = {name: _safe(scorer, found) for name, scorer in SCORERS.items()}
    best = max(scores, key=lambda name: scores[name].points)  # max keeps the first of equals
    top = scores[best]
    if top.points >= THRESHOLD:
        return Detection(path, best, f"{best}: {top.why}", scores=scores)
    why = skip_reason(found)
    if found.problem and found.opening.strip():
        why += f"; {found.problem} (what came before was sampled)"
    if top.points > 0:
        why += f"; closest: {best} ({top.why}), not enough to read it as that"
    return Detection(path, None, redact_text(why), scores=scores)  # printed: what it quotes of the file may be secret


def _safe(scorer: Scorer, found: Sample) -> Score:
    """A scorer's verdict; a scorer tripping on an odd sample says no rather than stopping detection."""
    try:
        return scorer(found)
    except (AttributeError, KeyError, TypeError, ValueError):
        return NO


def skip_reason(s: Sample) -> str:
    """Why no format reads this sample, in the words a person would use."""
    if not s.opening.strip():
        return s.problem or ("empty" if s.path.exists() else "unreadable")
    if b"\x00" in s.opening[:4096]:
        return "binary data, not a log"
    if s.document is not None and (len(s.raw_lines) > 1 or isinstance(s.document, list)):
        return f"one JSON document, but no spans, CloudTrail records or messages in it ({_shape(s.document)})"
    json_lines = [v for v in s.lines if v is not None]
    if json_lines and len(json_lines) * 2 >= len(s.lines):
        return (
            "JSON lines, but no line has a tool call, a span, a CloudTrail record, a Docker log line, "
            f"an MCP message or a Claude Code / Codex session line ({_shape(json_lines[0])})"
        )
    if s.opening.lstrip()[:1] in (b"{", b"[") and not s.whole and s.problem is None:
        return "a JSON document too large to sample whole, with none of the keys of a known format in its opening"
    first = redact_text(s.raw_lines[0][:4096].decode("utf-8", "replace").strip()) if s.raw_lines else ""
    return f"text, not JSON and not `docker logs --timestamps` lines (first line: {first[:60]!r})"


def _shape(value: Any) -> str:
    """A few words on a JSON value's shape: its first keys, or what it is."""
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:6])
        return f"first keys: {keys}" if keys else "an empty object"
    if isinstance(value, list):
        inner = next((v for v in value if isinstance(v, dict)), None)
        return f"a list of {len(value)}" + (f"; first item's keys: {', '.join(list(inner)[:6])}" if inner else "")
    return f"a {type(value).__name__}"
