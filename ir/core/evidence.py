"""Content-addressed, write-once evidence files inside a case folder.

One pass: the stream is written to a temp file while it is hashed, the file is fsynced,
renamed to `evidence/sha256/<hh>/<hash>`, made read-only, and the directory fsynced. The
streamed hash is the authority; an optional read-back re-hashes the stored file to prove it.
The same bytes stored twice are one file; an existing file is never overwritten.

A full or failing disk (ENOSPC, EIO) removes the temp part and raises `StorageError`. A process
killed mid-capture leaves its part in `evidence/.tmp/`: `ir verify` names it and resume removes it.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ir.core.errors import IrError, StorageError
from ir.core.journal import write_all

CHUNK = 1 << 20
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS})
"""Errors that mean the disk is full or failing, not that this one write was wrong."""
REPORT_EVERY = 1 << 16
"""Bytes between two progress reports: every chunk of an export (1 MiB), every ~64 KiB of a log
streamed line by line (a call per 200-byte line cost 1 µs a line, two thirds of the capture)."""
CaptureProgress = Callable[[str, int, bool], None]
"""`(artifact, bytes_so_far, finished)`: told after every chunk written, and once at the end (or
on failure) with `finished`; a reporter throttles itself (the capture never waits for it)."""


class EvidenceError(IrError):
    """Evidence could not be written (disk full, permissions) or does not match its hash."""


@dataclass(frozen=True)
class StoredFile:
    """Where a stored blob lives and what it is."""

    sha256: str
    size: int
    path: str
    """Path relative to the case folder."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def blob_path(sha256: str) -> str:
    """Relative path of a blob inside a case folder."""
    return f"evidence/sha256/{sha256[:2]}/{sha256}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hash_file(path: Path) -> tuple[str, int]:
    """sha256 and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class EvidenceStore:
    """The evidence folder of one case."""

    def __init__(self, case_dir: Path, *, read_back: bool = True) -> None:
        self.case_dir = case_dir
        self.read_back = read_back
        self.tmp_dir = case_dir / "evidence" / ".tmp"

    def put(self, chunks: Iterable[bytes], progress: Callable[[int, bool], None] | None = None) -> StoredFile:
        """Stream `chunks` into the store; returns the blob's hash, size and path.

        `progress(bytes_so_far, finished)` is told after each chunk (at most every `REPORT_EVERY`
        bytes) and once when the stream ends.
        """
        digest, size, reported = hashlib.sha256(), 0, 0
        fd = -1
        streamed = False
        tmp = self.tmp_dir / f"part-{os.getpid()}-{id(chunks):x}"
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            for chunk in chunks:
                if not chunk:
                    continue
                digest.update(chunk)
                size += len(chunk)
                write_all(fd, chunk)
                if progress is not None and size - reported >= REPORT_EVERY:
                    progress(size, False)
                    reported = size
            streamed = True
            if progress is not None:
                progress(size, True)
            os.fsync(fd)
            os.close(fd)
            fd = -1
            sha = digest.hexdigest()
            rel = blob_path(sha)
            final = self.case_dir / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                tmp.unlink()
            else:
                os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                os.rename(tmp, final)
                _fsync_dir(final.parent)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)
            where = f"{tmp.parent}: {(exc.strerror or str(exc)).lower()} while writing evidence"
            if exc.errno in STORAGE_ERRNOS:
                raise StorageError(f"{where} ({size} bytes streamed); the partial file was removed") from exc
            raise EvidenceError(f"{where}: {exc}") from exc
        except BaseException:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        finally:
            if progress is not None and not streamed:  # the stream broke off: the reporter lets go of it
                progress(size, True)
        if self.read_back:
            again, again_size = hash_file(final)
            if (again, again_size) != (sha, size):
                raise EvidenceError(f"{final}: read-back hash {again} differs from streamed hash {sha}")
        return StoredFile(sha256=sha, size=size, path=rel)

    def check(self, sha256: str, size: int | None = None) -> str | None:
        """None when the blob is present and intact, otherwise what is wrong."""
        path = self.case_dir / blob_path(sha256)
        if not path.is_file():
            return f"{path}: evidence file missing"
        actual, actual_size = hash_file(path)
        if actual != sha256:
            return f"{path}: content changed (sha256 now {actual})"
        if size is not None and actual_size != size:
            return f"{path}: size {actual_size} where {size} was recorded"
        return None

    def blobs(self) -> list[str]:
        """Hashes of every blob present in the store."""
        root = self.case_dir / "evidence" / "sha256"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.glob("*/*") if p.is_file())

    def parts(self) -> list[Path]:
        """Temp parts an interrupted capture left behind (never referenced by the journal)."""
        if not self.tmp_dir.is_dir():
            return []
        return sorted(p for p in self.tmp_dir.iterdir() if p.is_file())

    def remove_parts(self) -> list[dict[str, Any]]:
        """Delete leftover parts; returns `{name, size}` of each, for the `evidence.parts_removed` record.

        Only a writer holding the case lock may call this: a part is then never a live capture.
        """
        removed = []
        for part in self.parts():
            size = part.stat().st_size
            part.unlink()
            removed.append({"name": part.name, "size": size})
        return removed


def leftover_part_warnings(case_dir: Path) -> list[str]:
    """One `ir verify` warning per temp part an interrupted capture left in the case."""
    return [
        f"{part}: partial evidence file ({part.stat().st_size} bytes) left by an interrupted capture; "
        "`ir resume` removes it"
        for part in EvidenceStore(case_dir).parts()
    ]
