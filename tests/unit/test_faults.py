"""A full or failing disk: records are whole or absent, parts are removed, the error is one line."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ir.core import evidence as evidence_module
from ir.core import journal as journal_module
from ir.core.errors import ExitCode, StorageError
from ir.core.evidence import EvidenceStore, leftover_part_warnings
from ir.core.journal import Journal, read
from tests.tmpfs import fill, small_tmpfs


def failing_write(after: int, code: int) -> Callable[[int, Any], int]:
    """os.write that writes `after` more bytes in all, then fails with `code` (as a dying disk does)."""
    budget = [after]
    real = os.write

    def write(fd: int, data: Any) -> int:
        if budget[0] <= 0:
            raise OSError(code, os.strerror(code))
        written = real(fd, bytes(data[: budget[0]]))
        budget[0] -= written
        return written

    return write


def test_a_full_disk_mid_append_leaves_the_journal_whole_and_refuses_more(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "256k") as disk:
        case = disk / "case"
        case.mkdir()
        with Journal(case).open(create=True) as journal:
            for i in range(3):
                journal.append("note", {"text": f"record {i}"})
            whole = (case / "journal.jsonl").stat().st_size
            fill(disk)
            with pytest.raises(StorageError) as raised:
                journal.append("step.intent", {"step": "freeze", "padding": "x" * 20_000})
            message = str(raised.value)
            assert message == (
                f"{case}/journal.jsonl: no space left on device while appending seq 4 (step.intent); "
                "the journal is whole up to seq 3"
            )
            assert raised.value.exit_code == ExitCode.STORAGE == 5
            assert (case / "journal.jsonl").stat().st_size == whole
            (disk / "filler").unlink()  # even with room again, this process writes nothing more
            with pytest.raises(StorageError, match="no further record is written by this process"):
                journal.append("note", {"text": "after"})
        checked = read(case / "journal.jsonl")
        assert checked.ok and checked.torn is None and checked.head[0] == 3


def test_eio_half_way_through_a_record_is_cut_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Journal(tmp_path).open(create=True) as journal:
        journal.append("note", {"text": "first"})
        monkeypatch.setattr(journal_module.os, "write", failing_write(40, errno.EIO))
        with pytest.raises(StorageError, match=r"input/output error while appending seq 2 \(note\); .* up to seq 1"):
            journal.append("note", {"text": "second, never whole"})
    checked = read(tmp_path / "journal.jsonl")
    assert checked.ok and checked.torn is None and [r.seq for r in checked.records] == [1]


def test_eio_on_fsync_is_a_storage_error_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(_fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with Journal(tmp_path).open(create=True) as journal:
        journal.append("note", {"text": "first"})
        monkeypatch.setattr(journal_module.os, "fsync", fsync)
        with pytest.raises(StorageError, match="input/output error while appending seq 2"):
            journal.append("note", {"text": "not on disk for sure"})
    monkeypatch.undo()
    assert [r.seq for r in read(tmp_path / "journal.jsonl").records] == [1]


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
def test_an_evidence_write_that_fails_removes_its_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    store = EvidenceStore(tmp_path)
    monkeypatch.setattr(journal_module.os, "write", failing_write(3000, code))
    with pytest.raises(StorageError, match=f"{os.strerror(code).lower()} while writing evidence"):
        store.put([b"a" * 2000, b"b" * 2000])
    monkeypatch.undo()
    assert store.parts() == [] and store.blobs() == []


def test_evidence_on_a_full_tmpfs_is_a_storage_error(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "64k") as disk:
        store = EvidenceStore(disk)
        with pytest.raises(StorageError, match="no space left on device while writing evidence"):
            store.put(iter([b"z" * 65536] * 4))
        assert store.parts() == [] and store.blobs() == []
        assert store.put([b"small"]).size == 5  # the space the part held is free again


def test_leftover_parts_are_named_and_removed(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    store.put([b"kept"])
    store.tmp_dir.joinpath("part-123-abc").write_bytes(b"half a filesystem")
    (warning,) = leftover_part_warnings(tmp_path)
    assert "part-123-abc: partial evidence file (17 bytes) left by an interrupted capture" in warning
    assert store.remove_parts() == [{"name": "part-123-abc", "size": 17}]
    assert leftover_part_warnings(tmp_path) == [] and len(store.blobs()) == 1


def test_other_os_errors_keep_their_own_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = EvidenceStore(tmp_path)
    monkeypatch.setattr(journal_module.os, "write", failing_write(0, errno.EBADF))
    with pytest.raises(evidence_module.EvidenceError) as raised:
        store.put([b"x"])
    assert not isinstance(raised.value, StorageError)
