"""Evidence is streamed, hashed in the same pass, stored once, read-only, and checkable."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ir.core.errors import StorageError
from ir.core.evidence import EvidenceStore


def chunks(total: int, size: int = 65536) -> Iterator[bytes]:
    for i in range(0, total, size):
        yield bytes((i // size) % 251 for _ in range(min(size, total - i)))


def test_stored_file_is_content_addressed_and_read_only(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = b"".join(chunks(3_000_000))
    stored = store.put(chunks(3_000_000))
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    path = tmp_path / stored.path
    assert stored.path == f"evidence/sha256/{stored.sha256[:2]}/{stored.sha256}"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert store.check(stored.sha256, stored.size) is None
    assert list((tmp_path / "evidence" / ".tmp").iterdir()) == []


def test_same_bytes_twice_is_one_file_never_overwritten(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = store.put([b"hello"])
    mtime = (tmp_path / first.path).stat().st_mtime_ns
    second = store.put([b"hel", b"lo"])
    assert first == second
    assert (tmp_path / first.path).stat().st_mtime_ns == mtime
    assert store.blobs() == [first.sha256]


def test_a_changed_or_missing_byte_is_reported(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    stored = store.put([b"evidence bytes"])
    path = tmp_path / stored.path
    os.chmod(path, 0o644)
    path.write_bytes(b"evidence bytez")
    assert "content changed" in str(store.check(stored.sha256, stored.size))
    path.unlink()
    assert "evidence file missing" in str(store.check(stored.sha256))


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    def disk_fills_up() -> Iterator[bytes]:
        yield b"x" * 1000
        raise OSError(errno.ENOSPC, "No space left on device")

    store = EvidenceStore(tmp_path)
    with pytest.raises(StorageError, match="no space left on device while writing evidence"):
        store.put(disk_fills_up())
    assert store.blobs() == []
    assert list((tmp_path / "evidence" / ".tmp").iterdir()) == []
