"""The case journal: append-only JSON lines, each hash-chained to the one before it.

A record is `{seq, ts, type, data, prev, hash}`; `hash` is the sha256 of the canonical JSON of
the record without `hash` (which includes `prev`). Every append is flushed and fsynced before
`append` returns, so an intent record is on disk before the call it announces.

A torn last line (the process died mid-write) is reported and ignored by `verify`; when a
writer reopens the case it moves the torn bytes to a side file and records that it did, so
nothing is lost and the chain stays whole. Damage anywhere else is tampering.

A record is written whole or not at all: when the disk is full or failing (ENOSPC, EIO) in the
middle of a write, the file is cut back to the last whole record and the writer refuses any
further append, so the case verifies up to the record before the one that failed.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ir.core.errors import CaseLocked, JournalError, StorageError
from ir.core.records import Kind
from ir.core.redaction import redact

GENESIS = "0" * 64
JOURNAL_FILE = "journal.jsonl"
LOCK_FILE = ".lock"


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def utc_now() -> str:
    """Current UTC time as ISO 8601 with microseconds and `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(body: Mapping[str, Any]) -> str:
    """The chain hash of a record body (everything but `hash`)."""
    return hashlib.sha256(canonical(dict(body))).hexdigest()


@dataclass(frozen=True)
class Record:
    """One journal line."""

    seq: int
    ts: str
    type: str
    data: Mapping[str, Any]
    prev: str
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed part of the record."""
        return {"seq": self.seq, "ts": self.ts, "type": self.type, "data": self.data, "prev": self.prev}


@dataclass
class Verification:
    """The outcome of checking a journal: records read, problems found, torn tail."""

    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    torn: str | None = None
    torn_offset: int | None = None

    @property
    def ok(self) -> bool:
        """True when no record was edited, reordered or removed."""
        return not self.problems

    @property
    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last good record."""
        if not self.records:
            return (0, GENESIS)
        last = self.records[-1]
        return (last.seq, last.hash)


def _parse_line(raw: bytes, lineno: int, path: Path) -> Record:
    try:
        obj = json.loads(raw)
    except ValueError:
        raise JournalError(f"{path}:{lineno}: not a JSON record") from None
    if not isinstance(obj, dict) or set(obj) != {"seq", "ts", "type", "data", "prev", "hash"}:
        raise JournalError(f"{path}:{lineno}: not a journal record (fields differ)")
    if not isinstance(obj["data"], dict) or not isinstance(obj["type"], str) or not isinstance(obj["seq"], int):
        raise JournalError(f"{path}:{lineno}: not a journal record (type, seq or data of the wrong kind)")
    return Record(**obj)


def read(path: Path) -> Verification:
    """Read and check a journal file; problems name the first bad line."""
    result = Verification()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        result.problems.append(f"{path}: journal missing")
        return result
    lines = raw.split(b"\n")
    complete = lines[:-1]
    tail = lines[-1]
    prev, expect_seq, offset = GENESIS, 1, 0
    for lineno, line in enumerate(complete, start=1):
        try:
            rec = _parse_line(line, lineno, path)
        except JournalError as exc:
            result.problems.append(str(exc))
            return result
        if rec.seq != expect_seq:
            result.problems.append(
                f"{path}:{lineno}: seq {rec.seq} where {expect_seq} was expected (record removed or reordered)"
            )
            return result
        if rec.prev != prev:
            result.problems.append(f"{path}:{lineno}: seq {rec.seq} does not chain to the record before it")
            return result
        if record_hash(rec.body()) != rec.hash:
            result.problems.append(
                f"{path}:{lineno}: seq {rec.seq} ({rec.type}) was altered: its hash does not match its content"
            )
            return result
        result.records.append(rec)
        prev, expect_seq = rec.hash, expect_seq + 1
        offset += len(line) + 1
    if tail:
        result.torn = f"{path}:{len(complete) + 1}: torn last line ({len(tail)} bytes) ignored"
        result.torn_offset = offset
    return result


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (a full disk may accept only part of a write)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:  # no progress and no error: report it as the full disk it is
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def storage_problem(exc: OSError) -> str:
    """`no space left on device` and the like, lower case, for one-line messages."""
    return (exc.strerror or str(exc)).lower()


def is_open(case_dir: Path) -> bool:
    """Whether some process holds the case's lock right now (a run in progress)."""
    try:
        fd = os.open(case_dir / LOCK_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we took
    return False


class Journal:
    """The writer of one case's journal. Holds an exclusive lock on the case while open.

    In a tabletop exercise's sandbox workspace (its `ir.yaml` names the exercise), every record
    written carries `exercise: <id>` in its data, so nothing rehearsed passes for a real case.
    """

    def __init__(self, case_dir: Path, file: str = JOURNAL_FILE) -> None:
        self.case_dir = case_dir
        self.path = case_dir / file
        self.exercise: str | None = None
        """The exercise id stamped on every record (None outside an exercise)."""
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._prev = GENESIS
        self._seq = 0
        self._size = 0
        self._failed: str | None = None
        self.records: list[Record] = []

    def open(self, *, create: bool = False) -> Journal:
        """Lock the case, check the chain, set aside a torn tail, and open for appending."""
        from ir.core.workspace import exercise_of  # the workspace module reads YAML; journals rarely need it

        self._lock()
        self.exercise = exercise_of(self.case_dir)
        if create:
            if self.path.exists():
                raise JournalError(f"{self.path}: already exists")
            self.path.touch(mode=0o644)
        checked = read(self.path)
        if not checked.ok:
            self.close()
            raise JournalError(checked.problems[0] + "; refusing to continue this case")
        self.records = checked.records
        self._seq, self._prev = checked.head
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._size = checked.torn_offset if checked.torn_offset is not None else os.fstat(self._fd).st_size
        if checked.torn_offset is not None:
            self._set_aside_torn_tail(checked.torn_offset)
        return self

    def _lock(self) -> None:
        fd = os.open(self.case_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise CaseLocked(f"{self.case_dir}: case is open in pid {holder}; wait for it or stop it") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _set_aside_torn_tail(self, offset: int) -> None:
        raw = self.path.read_bytes()[offset:]
        digest = hashlib.sha256(raw).hexdigest()
        side = self.case_dir / f"journal.torn-{digest[:12]}"
        side.write_bytes(raw)
        os.truncate(self.path, offset)
        self.append(Kind.JOURNAL_TORN_TAIL, {"bytes": len(raw), "sha256": digest, "saved_as": side.name})

    def stamped(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """`data` as it will be written: with `exercise` in an exercise's sandbox (a decision is
        signed over exactly what is stored, so it asks for this before signing)."""
        if self.exercise is None or "exercise" in data:
            return dict(data)
        return {**data, "exercise": self.exercise}

    def _encode(self, type_: str, data: Mapping[str, Any]) -> tuple[Record, bytes]:
        if self._fd is None:
            raise JournalError(f"{self.path}: journal is not open for writing")
        if self._failed is not None:
            raise StorageError(f"{self._failed}; no further record is written by this process")
        body = {
            "seq": self._seq + 1,
            "ts": utc_now(),
            "type": type_,
            "data": redact(self.stamped(data)),
            "prev": self._prev,
        }
        rec = Record(**body, hash=record_hash(body))
        return rec, canonical({**body, "hash": rec.hash}) + b"\n"

    def append(self, type_: str, data: Mapping[str, Any]) -> Record:
        """Redact, chain, write and fsync one record, whole or not at all; returns it."""
        rec, line = self._encode(type_, data)
        assert self._fd is not None
        try:
            write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            raise self._storage_failed(exc, rec) from exc
        self._seq, self._prev, self._size = rec.seq, rec.hash, self._size + len(line)
        self.records.append(rec)
        return rec

    def _storage_failed(self, exc: OSError, rec: Record) -> StorageError:
        """Cut the file back to the last whole record (when the disk lets us) and refuse later appends."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._size)
            os.fsync(self._fd)
            state = f"the journal is whole up to seq {rec.seq - 1}"
        except OSError:
            state = f"the journal may end in a torn line after seq {rec.seq - 1} (resume sets it aside)"
        self._failed = f"{self.path}: {storage_problem(exc)} while appending seq {rec.seq} ({rec.type}); {state}"
        return StorageError(self._failed)

    def tear(self, type_: str, data: Mapping[str, Any]) -> None:
        """Crash tests only (`IR_FAILPOINT=...:torn`): write and fsync the first half of a record."""
        _rec, line = self._encode(type_, data)
        assert self._fd is not None
        write_all(self._fd, line[: len(line) // 2])
        os.fsync(self._fd)

    def close(self) -> None:
        """Close the file and release the case lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)
