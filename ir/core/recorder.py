"""Journal-and-announce: every record the engine writes also goes out as an event.

`CaseEvidence` is the evidence sink handed to actions: it stores a blob, then journals the
`evidence.added` record naming it (name, hash, size, source, method, step, time).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ir.core.action import EvidenceItem, EvidenceSink
from ir.core.case import CaseState
from ir.core.derived import record_data
from ir.core.errors import IrError, StorageError
from ir.core.events import Event, EventHandler
from ir.core.evidence import CaptureProgress, EvidenceStore
from ir.core.journal import Journal, Record
from ir.core.records import Kind


class Recorder:
    """Writes journal records (one writer at a time) and emits the matching events."""

    def __init__(self, journal: Journal, case_id: str, on_event: EventHandler) -> None:
        self.journal = journal
        self.case_id = case_id
        self.on_event = on_event
        self._lock = threading.Lock()
        self.last: Record
        self._failpoint = _parse_failpoint(os.environ.get("IR_FAILPOINT", ""))

    def write(self, kind: str, data: Mapping[str, Any], step: str | None = None) -> Record:
        """Append and fsync one record, then emit it as an event."""
        with self._lock:
            torn = bool(self._failpoint and self._failpoint[3] == "torn")
            if torn and self.at_failpoint(kind, step):
                self.journal.tear(kind, data)  # half a record on disk, as a power cut mid-write leaves it
                _die()
            rec = self.journal.append(kind, data)
            self.last = rec
            if not torn and self.at_failpoint(kind, step):
                if self._failpoint and self._failpoint[3] == "pause":
                    _pause(Path(os.environ["IR_FAILPOINT_FILE"]))
                else:
                    _die()
        self.on_event(Event(kind=kind, data=rec.data, step=step, case=self.case_id, seq=rec.seq, ts=rec.ts))
        return rec

    def at_failpoint(self, kind: str, step: str | None) -> bool:
        """Crash-test hook: True at the n-th record (or evidence part) that matches the failpoint."""
        if self._failpoint and self._failpoint[0] == kind and self._failpoint[1] in (step, "*"):
            self._failpoint[2] -= 1
            return bool(self._failpoint[2] == 0)
        return False


class Failpoint:
    """The test-only `IR_FAILPOINT=KIND:WHERE[:N[:pause]]` hook at a point that is no journal record
    (`delivery:*` is an alert delivery taken off `ir serve`'s queue, before anything is done with it)."""

    def __init__(self, kind: str) -> None:
        spec = _parse_failpoint(os.environ.get("IR_FAILPOINT", ""))
        self._spec = spec if spec and spec[0] == kind else None
        self._lock = threading.Lock()

    def hit(self, where: str) -> None:
        """SIGKILL this process (or, with `:pause`, hold it) at the N-th hit that matches."""
        if self._spec is None:
            return
        with self._lock:
            if self._spec[1] not in (where, "*"):
                return
            self._spec[2] -= 1
            if self._spec[2] != 0:
                return
        if self._spec[3] == "pause":
            _pause(Path(os.environ["IR_FAILPOINT_FILE"]))
        else:
            _die()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _pause(release: Path) -> None:
    """Hold the process (and every lock it has) until a test lets it go by creating `release`."""
    Path(f"{release}.paused").touch()
    while not release.exists():
        time.sleep(0.01)


def _parse_failpoint(spec: str) -> list[Any] | None:
    """`IR_FAILPOINT=KIND:STEP[:N[:torn|pause]]` (tests only): SIGKILL this process at the N-th KIND of STEP.

    KIND is a record type (die right after that record is fsynced; with `:torn`, after writing
    only its first half; with `:pause`, create `$IR_FAILPOINT_FILE.paused` and wait, holding every
    lock, until `$IR_FAILPOINT_FILE` exists) or `evidence.part` (die half way through writing the
    N-th evidence file).
    """
    if not spec:
        return None
    kind, step, count, mode = [*spec.split(":"), "", "", ""][:4]
    return [kind, step or "*", int(count or 1), mode]


def _dying_half_way(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the first half of the stream's first chunk, then die while the part is on disk."""
    for chunk in chunks:
        if chunk:
            yield chunk[: max(1, len(chunk) // 2)]
            break
    _die()  # the store asks for the next chunk only after writing the first half
    yield b""  # never reached


class StepAbandoned(IrError):
    """The step timed out; its late writes are refused so the journal stays in order."""


class CaseEvidence(EvidenceSink):
    """The evidence sink of one step of one case."""

    def __init__(
        self,
        store: EvidenceStore,
        rec: Recorder,
        state: CaseState,
        step_id: str,
        progress: CaptureProgress | None = None,
    ) -> None:
        self.store_ = store
        self.rec = rec
        self.state = state
        self.step_id = step_id
        self.progress = progress
        """Told the bytes streamed so far per artifact (a terminal's progress line), if anyone asks."""
        self._closed = False

    def close(self) -> None:
        """Refuse any further write from this step (it was abandoned)."""
        self._closed = True

    def _guard(self) -> None:
        if self._closed:
            raise StepAbandoned(f"step {self.step_id}: abandoned after its timeout")

    def follow_up(self, what: str, owner: str, why: str) -> None:
        """Journal something that could not be done automatically, with who owns it."""
        self._guard()
        self.rec.write(Kind.FOLLOWUP, {"step": self.step_id, "what": what, "owner": owner, "why": why}, self.step_id)
        self.state.apply(self.rec.last)

    def output(self, line: str) -> None:
        """Journal one line of live output."""
        self._guard()
        self.rec.write(Kind.STEP_OUTPUT, {"step": self.step_id, "line": line}, self.step_id)

    def store(
        self, name: str, chunks: Iterable[bytes], *, source: str, method: str, sensitive: bool = False
    ) -> EvidenceItem:
        """Stream `chunks` into the store and journal the evidence record."""
        self._guard()
        if self.rec.at_failpoint("evidence.part", self.step_id):
            chunks = _dying_half_way(chunks)
        try:
            stored = self.store_.put(chunks, self._reporter(name))
        except StorageError as exc:
            raise StorageError(f"{exc} (step {self.step_id}, evidence {name!r})") from exc
        self._guard()
        data = {
            "step": self.step_id,
            "name": name,
            **stored.as_dict(),
            "source": source,
            "method": method,
            "sensitive": sensitive,
        }
        self.rec.write(Kind.EVIDENCE_ADDED, data, self.step_id)
        self.state.apply(self.rec.last)
        return EvidenceItem(name=name, sha256=stored.sha256, size=stored.size, step=self.step_id)

    def _reporter(self, name: str) -> Callable[[int, bool], None] | None:
        """The store's per-chunk callback for artifact `name`; silent once the step is abandoned."""
        progress = self.progress
        if progress is None:
            return None

        def report(size: int, finished: bool) -> None:
            if not self._closed or finished:
                progress(name, size, finished)

        return report

    def recorded(self, name: str) -> EvidenceItem | None:
        """The item `name` this step already recorded (a resumed step does not capture it again)."""
        for item in self.state.evidence:
            if item.step == self.step_id and item.name == name:
                return EvidenceItem(name=name, sha256=item.sha256, size=item.size, step=self.step_id)
        return None

    def unavailable(self, name: str, reason: str) -> None:
        """Journal that artifact `name` could not be acquired, and why."""
        self._guard()
        self.rec.write(Kind.EVIDENCE_UNAVAILABLE, {"step": self.step_id, "name": name, "reason": reason}, self.step_id)
        self.state.apply(self.rec.last)

    def recorded_unavailable(self, name: str) -> str | None:
        """The reason this step already recorded for `name` being unavailable, if any."""
        for item in self.state.unavailable:
            if item.step == self.step_id and item.name == name:
                return item.reason
        return None

    def derived(self, name: str, path: Path) -> EvidenceItem:
        """Hash `path` (a file this step wrote into the case) and journal its `derived.added` record."""
        self._guard()
        data = record_data(self.store_.case_dir, path, name=name, step=self.step_id)
        self.rec.write(Kind.DERIVED_ADDED, data, self.step_id)
        return EvidenceItem(name=name, sha256=data["sha256"], size=data["size"], step=self.step_id)
