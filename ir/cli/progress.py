"""Progress on long work, for a person at a terminal: one line per item, rewritten in place.

A reporter is a callback `(name, count_so_far, finished)`: events read per source for
`ir timeline`, bytes streamed per artifact for an evidence capture. It may be called as often as
the work likes (every chunk): it keeps the latest counts and redraws at most `interval` apart, and
only once the work has lasted `delay` (a quick job shows nothing). When the last item finishes, or
`clear()`/`close()` is called, the lines are erased, so what is printed next starts on a clean line.

Only a terminal gets progress: `terminal_progress` returns None when stderr is a pipe or a file,
with `--json`, or on a dumb terminal (`TERM=dumb` or unset), and then nothing at all is written.
Names come from files and containers: they are neutralised before they reach the terminal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TextIO, TypeVar

from ir.core.text import neutralise

Unit = Literal["events", "bytes"]
ProgressCallback = Callable[[str, int, bool], None]
"""`(name, count_so_far, finished)`: what the timeline pipeline and the evidence capture call."""

T = TypeVar("T")
_ERASE_DOWN = "\x1b[J"  # erase from the cursor to the end of the screen


def _up(lines: int) -> str:
    return f"\x1b[{lines}A" if lines > 0 else ""


def human_bytes(n: float) -> str:
    """`n` bytes as a short decimal figure: `812 B`, `52.4 MB`, `1.07 GB`."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _count(n: float, unit: Unit) -> str:
    return human_bytes(n) if unit == "bytes" else f"{n:,.0f} events"


def _rate(n: float, unit: Unit) -> str:
    return f"{human_bytes(n)}/s" if unit == "bytes" else f"{n:,.0f} events/s"


@dataclass
class _Item:
    started: float
    count: int = 0
    finished_at: float | None = None


class Progress:
    """A throttled, in-place progress block on a terminal stream (see the module docstring)."""

    def __init__(
        self,
        out: TextIO,
        *,
        unit: Unit,
        label: str,
        total: bool = False,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 0.1,
        delay: float = 0.3,
        max_items: int = 8,
    ) -> None:
        self.out = out
        self.unit: Unit = unit
        self.label = label
        """Says what is happening, before each item's name (`reading`, `capturing`)."""
        self.total = total
        """Add a total line (all items, with how many are done)."""
        self.clock = clock
        self.interval = interval
        self.delay = delay
        self.max_items = max_items
        self.redraws = 0
        """How many times the block was drawn (the throttle keeps it to 1/interval a second)."""
        self._items: dict[str, _Item] = {}
        self._started: float | None = None
        self._last_draw = float("-inf")
        self._drawn = 0
        """Lines of the block now on screen (the cursor is at the end of the last one)."""
        self._lock = threading.Lock()

    def __call__(self, name: str, count: int, finished: bool) -> None:
        """Record `name`'s count; redraw when the throttle allows, erase when everything is done."""
        now = self.clock()
        item = self._items.get(name)
        if item is None or (item.finished_at is not None and not finished):
            item = self._items[name] = _Item(started=now)  # a new item, or the same name captured again
            if self._started is None:
                self._started = now
        item.count = count
        if finished:
            item.finished_at = now
            if all(i.finished_at is not None for i in self._items.values()):
                self.clear()
                return
        if now - self._last_draw >= self.interval and self._due(now):
            self._draw(now)

    def _due(self, now: float) -> bool:
        """Has the unfinished work lasted long enough to be worth showing?"""
        active = [i.started for i in self._items.values() if i.finished_at is None]
        return bool(active) and now - min(active) >= self.delay

    def _lines(self, now: float) -> list[str]:
        active = [(name, item) for name, item in self._items.items() if item.finished_at is None]
        text = []
        for name, item in active[: self.max_items]:
            elapsed = now - item.started
            rate = f"  {_rate(item.count / elapsed, self.unit)}" if elapsed > 0 else ""
            text.append(self._fit(self.label, name, f"  {_count(item.count, self.unit)}{rate}"))
        if len(active) > self.max_items:
            text.append(self._fit("", f"... and {len(active) - self.max_items} more", ""))
        if self.total and self._started is not None:
            done = len(self._items) - len(active)
            count = sum(i.count for i in self._items.values())
            elapsed = now - self._started
            rate = f"  {_rate(count / elapsed, self.unit)}" if elapsed > 0 else ""
            text.append(self._fit("", "total", f"  {_count(count, self.unit)}{rate}  ({done}/{len(self._items)} done)"))
        return text

    def _fit(self, label: str, name: str, tail: str) -> str:
        """One line no wider than the terminal (a wrapped line would break the rewrite): the name's
        end is kept, as paths differ at their end."""
        width = self._width() - 1
        name = neutralise(name)
        head = f"{label} " if label else ""
        room = width - len(head) - len(tail)
        if len(name) > room:
            name = "..." + name[-max(room - 3, 0) :] if room > 3 else ""
        return (head + name + tail)[:width]

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self.out.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            return 80

    def _draw(self, now: float) -> None:
        with self._lock:
            self._last_draw = now
            lines = self._lines(now)
            home = "\r" + _up(self._drawn - 1) if self._drawn else ""
            self.out.write(home + _ERASE_DOWN + "\n".join(lines))
            self.out.flush()
            self._drawn = len(lines)
            self.redraws += 1

    def clear(self) -> None:
        """Erase the block (if drawn); the next update draws it again."""
        with self._lock:
            if not self._drawn:
                return
            self.out.write("\r" + _up(self._drawn - 1) + _ERASE_DOWN)
            self.out.flush()
            self._drawn = 0

    def close(self) -> None:
        """Erase the block for good: the work is over."""
        self.clear()
        self._items.clear()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def is_terminal(stream: TextIO) -> bool:
    """Does `stream` lead to a terminal that understands cursor movement?"""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False
    return tty and os.environ.get("TERM", "") not in ("", "dumb")


def terminal_progress(
    unit: Unit, label: str, *, total: bool = False, quiet: bool = False, stream: TextIO | None = None
) -> Progress | None:
    """A reporter on stderr when it is a terminal; None (report nothing) in pipes, when `quiet`
    (`--json`) or on a dumb terminal."""
    out = stream if stream is not None else sys.stderr
    if quiet or not is_terminal(out):
        return None
    return Progress(out, unit=unit, label=label, total=total)


def source_progress(*, quiet: bool = False, stream: TextIO | None = None) -> Progress | None:
    """`ir timeline`: events read per source and their rate, with a total (tl-speed's `progress=`)."""
    return terminal_progress("events", "reading", total=True, quiet=quiet, stream=stream)


def capture_progress(*, quiet: bool = False, stream: TextIO | None = None) -> Progress | None:
    """`ir run` / `ir resume`: bytes captured per evidence artifact and their rate."""
    return terminal_progress("bytes", "capturing", quiet=quiet, stream=stream)


def cleared_first(progress: Progress | None, handler: Callable[[T], None]) -> Callable[[T], None]:
    """`handler`, with the progress block erased before each call, so what it prints starts on a
    clean line (the block comes back at the next update)."""
    if progress is None:
        return handler

    def call(value: T) -> None:
        progress.clear()
        handler(value)

    return call
