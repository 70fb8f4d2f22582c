"""Reading a log a block at a time gives exactly what reading it line by line gave: the same lines,
line numbers and over-long-line reasons, wherever the blocks happen to end."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest

import ir.timeline.sources.base as base
from ir.timeline.sources.base import SourceStats, lines


def _read(path: Path, reader: str, stats: SourceStats) -> list[tuple[int, bytes]]:
    with path.open("rb") as fh:
        return list(base._gzip_lines(fh, path, stats) if reader == "by line" else base._plain_lines(fh, path, stats))


def test_blocks_give_the_lines_that_line_by_line_gave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    path = tmp_path / "log.jsonl"
    pieces = [b"", b" ", b"\t", b"\r", b" \r ", b'{"a":1}', b"x" * 9, b"y" * 31]
    for _ in range(2000):
        data = b"\n".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12)))
        path.write_bytes(data + (b"\n" if rng.random() < 0.5 else b""))
        monkeypatch.setattr(base, "MAX_LINE", rng.choice([1, 3, 8, 30, 100]))
        monkeypatch.setattr(base, "READ_BYTES", rng.choice([1, 2, 3, 7, 64, 1 << 20]))
        by_line, by_block = SourceStats(str(path), "jsonl"), SourceStats(str(path), "jsonl")
        assert _read(path, "by block", by_block) == _read(path, "by line", by_line), data
        assert (by_block.bad, by_block.bad_refs) == (by_line.bad, by_line.bad_refs), data


def test_a_cut_gzip_log_still_gives_every_line_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl.gz"
    whole = gzip.compress(b"".join(b'{"n":%d}\n' % i for i in range(5000)))
    path.write_bytes(whole[: len(whole) // 2])
    stats = SourceStats(str(path), "jsonl")
    read = list(lines(path, stats))
    assert read and [n for n, _ in read] == list(range(1, len(read) + 1))
    assert stats.bad == 1 and stats.bad_refs[0].endswith("truncated gzip (the lines before it were read)")
