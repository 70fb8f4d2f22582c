"""An on-disk index of a timeline JSONL file, so a million events browse without loading them.

One pass records each line's byte offset, time, kind and whether it carries a suspicious tag,
in compact arrays; a line is read back (and parsed) only when it is shown. Filters produce a
new array of row numbers; text and tag filters search the file once, in large blocks.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ir.core.redaction import redact
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
BLOCK = 8 * 1024 * 1024
"""Bytes read at a time when a filter searches the file."""


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
        """The event at `row`, read from the file, with secrets masked (the file may predate
        secret-named redaction, or not come from a case at all)."""
        self._fh.seek(self.offsets[row])
        loaded: dict[str, Any] = redact(orjson.loads(self._fh.readline()))
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
        wanted_kind = KINDS.index(kind) if kind in KINDS else None
        candidates: array[int] | range = range(len(self.offsets))
        if tag:
            candidates = self._rows_containing(f'"tag":"{tag}"'.encode(), fold_case=False)
        if text:
            found = self._rows_containing(text.lower().encode(), fold_case=True)
            candidates = found if not tag else array("l", sorted(set(candidates) & set(found)))
        if wanted_kind is None:
            return candidates if isinstance(candidates, array) else array("l", candidates)
        kinds = self.kinds
        return array("l", (row for row in candidates if kinds[row] == wanted_kind))

    def _rows_containing(self, needle: bytes, *, fold_case: bool) -> array[int]:
        """Rows whose line contains `needle`: the file is read in large blocks and searched with
        `bytes.find`; each hit is mapped to its row through the offsets (one row per line)."""
        rows = array("l")
        offsets, base, carry = self.offsets, 0, b""
        with self.path.open("rb") as fh:
            while True:
                chunk = fh.read(BLOCK)
                data = carry + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)
                block, carry = data[:cut], data[cut:]
                hay = block.lower() if fold_case else block
                pos = hay.find(needle)
                while pos != -1:
                    start = hay.rfind(b"\n", 0, pos) + 1
                    row = bisect_right(offsets, base + start) - 1
                    if row >= 0 and offsets[row] == base + start and (not rows or rows[-1] != row):
                        rows.append(row)  # (a hit on an unindexed, unparseable line is dropped)
                    end = hay.find(b"\n", pos)
                    if end == -1:
                        break
                    pos = hay.find(needle, end + 1)
                base += len(block)
                if not chunk:
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
