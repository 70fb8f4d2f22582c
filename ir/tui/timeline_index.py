"""An on-disk index of a timeline JSONL file, so a million events browse without loading them.

One pass records each line's byte offset, time, kind and whether it carries a suspicious tag,
in compact arrays; a line is read back (and parsed) only when it is shown. Filters produce a
new array of row numbers; a text filter scans the file once.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ir.core.text import neutralise
from ir.timeline.model import iso

KINDS = (
    "tool_call",
    "tool_result",
    "tool_list",
    "model_call",
    "cloud_api_call",
    "container_log",
    "net_egress",
    "file_access",
    "other",
)
QUIET_TAGS = {"rate_spike"}


class TimelineIndex:
    """Offsets, times, kinds and suspicion flags of every event in a timeline file."""

    def __init__(self, path: Path, progress: Callable[[int], None] | None = None) -> None:
        self.path = path
        self.offsets = array("Q")
        self.times = array("q")
        self.kinds = array("B")
        self.suspicious = bytearray()
        offset = 0
        with path.open("rb") as fh:
            for number, line in enumerate(fh):
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    offset += len(line)
                    continue
                self.offsets.append(offset)
                self.times.append(int(event.get("ts", 0)))
                kind = event.get("kind", "other")
                self.kinds.append(KINDS.index(kind) if kind in KINDS else len(KINDS) - 1)
                tags = {t.get("tag") for t in event.get("tags") or []}
                self.suspicious.append(1 if tags - QUIET_TAGS else 0)
                offset += len(line)
                if progress and number % 100_000 == 0:
                    progress(number)
        self._fh = path.open("rb")

    def __len__(self) -> int:
        return len(self.offsets)

    def event(self, row: int) -> dict[str, Any]:
        """The event at `row`, read from the file."""
        self._fh.seek(self.offsets[row])
        loaded: dict[str, Any] = orjson.loads(self._fh.readline())
        return loaded

    def line(self, row: int, width: int = 200) -> str:
        """One event as a table line (world text neutralised)."""
        e = self.event(row)
        tags = ",".join(t["tag"] for t in e.get("tags") or [])
        text = f"{iso(int(e['ts']))[:23]}  {e['kind']:<14} {e.get('message') or e.get('action')}"
        if tags:
            text += f"  [{tags}]"
        return neutralise(text)[:width]

    def select(self, kind: str | None = None, tag: str | None = None, text: str | None = None) -> array[int]:
        """Row numbers matching every given filter, in time order."""
        rows = array("l")
        wanted_kind = KINDS.index(kind) if kind in KINDS else None
        needle = text.lower().encode() if text else None
        tag_bytes = f'"tag":"{tag}"'.encode() if tag else None
        with self.path.open("rb") as fh:
            for row, offset in enumerate(self.offsets):
                if wanted_kind is not None and self.kinds[row] != wanted_kind:
                    continue
                if needle is None and tag_bytes is None:
                    rows.append(row)
                    continue
                fh.seek(offset)
                raw = fh.readline()
                if tag_bytes is not None and tag_bytes not in raw:
                    continue
                if needle is not None and needle not in raw.lower():
                    continue
                rows.append(row)
        return rows

    def per_minute(self, buckets: int = 120) -> list[float]:
        """Events per time slice across the whole timeline, for the chart."""
        if not self.times:
            return []
        start, end = min(self.times), max(self.times)
        span = max(1, end - start)
        counts = [0.0] * buckets
        for ts in self.times:
            counts[min(buckets - 1, (ts - start) * buckets // span)] += 1
        return counts

    def close(self) -> None:
        """Close the file."""
        self._fh.close()
