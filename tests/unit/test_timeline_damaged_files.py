"""Damaged inputs say what is wrong with them: a gzip cut short is read up to the cut (and said to
be truncated), one cut before anything could be read, a corrupt gzip and a file that cannot be
opened are skipped with that reason — never called "empty", never a crash."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from ir.timeline.pipeline import build
from ir.timeline.sources import base, detect_file


def tool_lines(count: int) -> bytes:
    return "".join(
        json.dumps({"ts": f"2026-11-20T03:{i // 60:02d}:{i % 60:02d}Z", "tool": "fs.read", "call_id": f"c{i}"}) + "\n"
        for i in range(count)
    ).encode()


def test_a_truncated_gzip_is_read_up_to_the_cut(tmp_path: Path) -> None:
    packed = gzip.compress(tool_lines(2000))
    path = tmp_path / "tools.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    assert detect_file(path).format == "jsonl"
    timeline = build([path])
    events = list(timeline.events())
    assert 100 < len(events) < 2000
    assert [e["tool"]["call_id"] for e in events] == [f"c{i}" for i in range(len(events))]
    [stats] = timeline.summary()["sources"]
    assert stats["bad_refs"] == [f"{path}: truncated gzip (the lines before it were read)"]


def test_a_gzip_cut_before_its_data_or_corrupt_is_skipped_saying_so(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(tool_lines(5))[:10])  # the header only
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(gzip.compress(b"")[:10] + bytes(range(7, 250)))
    assert detect_file(cut).why == "truncated gzip"
    assert detect_file(corrupt).why.startswith("unreadable: corrupt gzip (Error -3 while decompressing data")
    timeline = build([corrupt], format_override="jsonl")  # named, it is read as far as it goes
    assert list(timeline.events()) == []
    assert timeline.summary()["sources"][0]["bad_refs"][0].startswith(f"{corrupt}: unreadable: corrupt gzip")


def test_a_file_that_cannot_be_opened_is_unreadable_not_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tools.jsonl"
    path.write_bytes(tool_lines(3))
    opened = base.open_maybe_gzip

    def refuse(candidate: Path) -> Any:
        if candidate == path:
            raise PermissionError(13, "Permission denied", str(candidate))
        return opened(candidate)

    monkeypatch.setattr(base, "open_maybe_gzip", refuse)  # tests run as root, for whom chmod denies nothing
    assert detect_file(path).why == "unreadable: Permission denied"
    assert detect_file(tmp_path / "missing.jsonl").why == "unreadable: No such file or directory"
