"""Events with no time of their own: kept out of the time sort, placed after the timed events.

A parser for a source that writes no times (benchmark traces, exported chats, the items of an
older Codex rollout) yields events marked `untimed` with `ts` 0 and its own order in `seq`; it
never invents a time. The pipeline holds them back from sorting and merging, and once every
timed event has gone by, gives them, source after source and each in its own order:

- `ts` = the time the user gave (`--untimed-at`), else the last timed event's time, else (no
  timed event at all) the modification time of the file they came from — said in the summary;
- `ts_raw` None, `untimed` True, and `placed` = how the time was chosen, in words.

Held events are kept in memory: untimed sources are small (a trace, a chat), and their order
is all they have.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.timeline.model import Event, iso, parse_time

AFTER_TIMED = "after the last timed event"
AT_GIVEN = "at the time given (--untimed-at)"
AT_MTIME = "at the file's modification time (no timed events, no --untimed-at)"


def anchor_time(text: str) -> int:
    """`--untimed-at` as UTC nanoseconds (ISO 8601 or a Unix time); ValueError when it is not a time."""
    when = parse_time(text)
    if when is None:
        raise ValueError(f"--untimed-at {text!r}: not a time (ISO 8601, e.g. 2026-11-20T03:00:00Z, or Unix)")
    return when[0]


@dataclass
class Untimed:
    """The untimed events of every source, held in source order, and where they were placed."""

    at: int | None = None
    """The time the user gave (UTC ns), if any."""
    held: dict[str, list[Event]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    placed: dict[str, dict[str, Any]] = field(default_factory=dict)

    def split(self, events: Iterable[Event], path: Path) -> Iterator[Event]:
        """The timed events of one source; its untimed ones are held back in their order."""
        for e in events:
            if e.get("untimed"):
                self.held.setdefault(e["source"], []).append(e)
                self.files.setdefault(e["source"], path)
            else:
                yield e

    def hold(self, events: list[Event], path: Path) -> None:
        """Untimed events a worker held back for one source (see `split`), in their order."""
        for e in events:
            self.held.setdefault(e["source"], []).append(e)
            self.files.setdefault(e["source"], path)

    def after(self, timed: Iterable[Event]) -> Iterator[Event]:
        """Every timed event, then every held untimed event placed after them."""
        last: int | None = None
        for e in timed:
            last = e["ts"]
            yield e
        yield from self.place(last)

    def place(self, last: int | None) -> Iterator[Event]:
        """Every held untimed event, placed (`last`: the last timed event's time, None if none)."""
        times = {source: self._time(source, last) for source in self.held}
        for source in sorted(self.held, key=lambda name: times[name][0]):  # (files' times differ)
            events = self.held[source]
            ts, basis = times[source]
            self.placed[source] = {"events": len(events), "placed_at": iso(ts), "basis": basis}
            for e in events:
                e["ts"], e["ts_raw"], e["untimed"], e["placed"] = ts, None, True, basis
                yield e
        self.held = {}

    def _time(self, source: str, last: int | None) -> tuple[int, str]:
        if self.at is not None:
            return self.at, AT_GIVEN
        if last is not None:
            return last, AFTER_TIMED
        try:
            return self.files[source].stat().st_mtime_ns, AT_MTIME
        except OSError:
            return 0, "at 1970-01-01 (no timed events, no --untimed-at, the file's time unreadable)"

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per source: how many untimed events, when they were placed and why (after `after` ran)."""
        return dict(self.placed)
