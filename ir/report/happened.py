"""What happened, from the timeline a case recorded: the tagged excerpt and events per minute.

The case's `timeline.jsonl` is read only while it matches its `derived.added` record (or, in a
case made before derived records, the evidence blob of the same name, which `ir verify` checks):
a changed file would make the report say something the journal does not vouch for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.core.derived import recorded, state
from ir.core.evidence import blob_path
from ir.core.journal import Record
from ir.core.records import Kind
from ir.core.redaction import redact, redact_text
from ir.timeline.model import iso

TIMELINE = "timeline.jsonl"
EXCERPT_LIMIT = 60
"""Tagged events shown in the excerpt (the rest are counted: the full timeline is in the case)."""
MESSAGE_LIMIT = 240
"""Characters of an event's message the report keeps."""


@dataclass
class Happened:
    """The timeline's part of the report."""

    file: dict[str, Any] | None = None
    """`{path, sha256}` of the timeline read, or None."""
    why_not: str | None = None
    """Why no timeline was read."""
    events: int = 0
    tagged: int = 0
    excerpt: list[dict[str, Any]] = field(default_factory=list)
    """The first tagged events, oldest first."""
    per_minute: list[tuple[str, int]] = field(default_factory=list)
    """(minute as ISO text, events in it), oldest first, minutes without events left out."""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the json report."""
        return {
            "timeline_file": self.file,
            "timeline_not_read": self.why_not,
            "events": self.events,
            "tagged_events": self.tagged,
            "excerpt": self.excerpt,
            "per_minute": [{"minute": m, "events": n} for m, n in self.per_minute],
        }


def timeline_file(case_dir: Path, records: Sequence[Record]) -> tuple[Path | None, dict[str, Any] | None, str | None]:
    """(path, {path, sha256}, why not): the case's timeline when the journal vouches for its bytes."""
    rec = recorded(list(records)).get(TIMELINE)
    if rec is not None:
        found = state(case_dir, TIMELINE, rec)
        if found != "ok":
            return None, None, f"{TIMELINE} {found} after it was recorded (journal seq {rec.seq})"
        return case_dir / TIMELINE, {"path": TIMELINE, "sha256": rec.data.get("sha256")}, None
    evidence = [r for r in records if r.type == Kind.EVIDENCE_ADDED and r.data.get("name") == TIMELINE]
    if evidence:  # a case from before derived records: the evidence copy, checked by `ir verify`
        sha = str(evidence[-1].data.get("sha256"))
        return case_dir / blob_path(sha), {"path": blob_path(sha), "sha256": sha}, None
    return None, None, "the case has no timeline (its timeline step did not run)"


def read_happened(case_dir: Path, records: Sequence[Record]) -> Happened:
    """The excerpt and per-minute counts of the case's vouched-for timeline."""
    path, file, why_not = timeline_file(case_dir, records)
    out = Happened(file=file, why_not=why_not)
    if path is None:
        return out
    minutes: Counter[int] = Counter()
    for event in _events(path):
        ts = event.get("ts")
        if not isinstance(ts, int):
            continue
        out.events += 1
        minutes[ts // 60_000_000_000] += 1
        if event.get("tags"):
            out.tagged += 1
            if len(out.excerpt) < EXCERPT_LIMIT:
                out.excerpt.append(brief(event))
    out.per_minute = [(iso(m * 60_000_000_000), n) for m, n in sorted(minutes.items())]
    return out


def brief(event: dict[str, Any]) -> dict[str, Any]:
    """An event as the report shows it: time, kind, source, a redacted message, its tags."""
    message = str(event.get("message") or event.get("action") or "")
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    tags = event.get("tags") or []
    shown: dict[str, Any] = redact(
        {
            "ts": iso(event["ts"]) if isinstance(event.get("ts"), int) else str(event.get("ts")),
            "kind": str(event.get("kind") or ""),
            "source": str(event.get("source") or ""),
            "message": redact_text(message),
            "tags": [{"tag": str(t.get("tag")), "why": str(t.get("why") or "")} for t in tags if isinstance(t, dict)],
        }
    )
    return shown


def _events(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # the file matched its recorded hash: a bad line was written so and is not an event
            if isinstance(event, dict):
                yield event
