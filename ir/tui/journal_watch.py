"""Noticing that someone else wrote to a case: the journal file's size and mtime, read on a timer."""

from __future__ import annotations

from pathlib import Path

POLL_SECONDS = 0.5
"""How often the run screen looks at the journal: quick enough for a person, one stat() a tick."""


class JournalWatch:
    """Tells whether a journal changed since the last look (one stat(), no read, no busy loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def changed(self) -> bool:
        """True once per change: the journal grew or was rewritten since the last call."""
        stamp = self._stamp()
        if stamp == self.seen:
            return False
        self.seen = stamp
        return True


def cases_stamp(cases_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """What the lists show depends on: each case folder's name and its journal's size and mtime
    (one listdir and one stat() per case, no read)."""
    try:
        names = sorted(entry.name for entry in cases_dir.iterdir())
    except OSError:
        return ()
    stamps = []
    for name in names:
        try:
            st = (cases_dir / name / "journal.jsonl").stat()
        except OSError:
            stamps.append((name, -1, -1))
            continue
        stamps.append((name, st.st_size, st.st_mtime_ns))
    return tuple(stamps)
