"""Where a timeline event came from: for each raw record it cites (`raw_ref`, `file:line`), the
case's evidence item that holds that file and the step that captured it; and the step that built
the timeline.

A raw record is tied to an evidence item only when their sha256 agree: a file in the case's
content-addressed store is named by its hash; a file anywhere else is hashed (once) and compared
with the evidence items of the same name. A name alone proves nothing and is said as such.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ir.core.case import load_state
from ir.core.derived import recorded
from ir.core.journal import JOURNAL_FILE, read
from ir.core.records import DerivedAdded, EvidenceAdded

SHA256 = re.compile(r"[0-9a-f]{64}")
TIMELINE_ACTION = "timeline.reconstruct"


@dataclass(frozen=True)
class RawSource:
    """One raw record of an event and the evidence item it was read from (None: not matched, `why`)."""

    ref: str
    file: str
    line: str
    item: EvidenceAdded | None
    why: str = ""


def split_ref(ref: str) -> tuple[str, str]:
    """(file, line) of a `file:line` raw ref (line empty when the ref has none)."""
    file, sep, line = ref.rpartition(":")
    return (file, line) if sep and line.isdigit() else (ref, "")


def event_refs(event: dict[str, Any]) -> list[str]:
    """Every raw record an event cites: its own, then those merged into it from other sources."""
    refs = [str(event["raw_ref"])] if event.get("raw_ref") else []
    refs += [str(r) for r in event.get("evidence") or [] if str(r) not in refs]
    return refs


class CaseSources:
    """The evidence items and timeline step of one case, for naming where its events came from."""

    def __init__(self, case_dir: Path, timeline: str) -> None:
        self.case_dir = case_dir
        state = load_state(case_dir)
        self.evidence = list(state.evidence)
        self._hashes: dict[str, str | None] = {}
        derived = recorded(read(case_dir / JOURNAL_FILE).records).get(timeline)
        step = DerivedAdded.model_validate(derived.data).step if derived else None
        builders = [sid for sid, action in state.actions.items() if action == TIMELINE_ACTION]
        if step is None or step not in builders:  # a case made before derived records: its reconstruct step
            step = builders[-1] if builders else None
        self.built_by = step
        """The `timeline.reconstruct` step that wrote the timeline (None: no such step in the journal)."""

    def source(self, ref: str) -> RawSource:
        """The evidence item holding the file of `ref`, matched by hash."""
        file, line = split_ref(ref)
        path = Path(file)
        name = path.name
        if SHA256.fullmatch(name) and path.parent.name == name[:2] and path.parent.parent.name == "sha256":
            found = [e for e in self.evidence if e.sha256 == name]  # a content-addressed file: its name is its hash
            if found:
                return RawSource(ref, file, line, found[0])
            return RawSource(ref, file, line, None, f"sha256 {name[:16]}… is not among this case's evidence")
        named = [e for e in self.evidence if e.name == name or e.name.endswith(f"/{name}")]
        if not named:
            return RawSource(ref, file, line, None, "not among this case's evidence")
        digest = self._hash(path)
        if digest is None:
            return RawSource(ref, file, line, None, f"named like evidence {named[0].name}, but the file is gone")
        match = next((e for e in named if e.sha256 == digest), None)
        if match is None:
            return RawSource(ref, file, line, None, f"named like evidence {named[0].name}, but its sha256 differs")
        return RawSource(ref, file, line, match)

    def sources(self, event: dict[str, Any]) -> list[RawSource]:
        """Where each raw record of `event` came from."""
        return [self.source(ref) for ref in event_refs(event)]

    def _hash(self, path: Path) -> str | None:
        key = str(path)
        if key not in self._hashes:
            try:
                with path.open("rb") as fh:
                    self._hashes[key] = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:
                self._hashes[key] = None
        return self._hashes[key]
