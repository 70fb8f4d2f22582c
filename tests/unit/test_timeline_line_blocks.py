"""A parser reading a log a block at a time (`line_blocks`) sees the lines `lines` gives, with the
same numbers and bad records: blank lines are the only extra ones, and a byte-order mark is dropped."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import ir.timeline.sources.base as base
from ir.timeline.sources.base import SourceStats, line_blocks, lines


def test_blocks_give_what_lines_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    path = tmp_path / "log.jsonl"
    pieces = [b"", b" ", b"\r", b'{"a":1}', b"x" * 9, b"y" * 31, base.BOM + b'{"b":2}']
    for _ in range(1500):
        data = b"\n".join(rng.choice(pieces) for _ in range(rng.randrange(0, 10)))
        path.write_bytes((base.BOM if rng.random() < 0.3 else b"") + data + (b"\n" if rng.random() < 0.5 else b""))
        monkeypatch.setattr(base, "MAX_LINE", rng.choice([3, 8, 30, 100]))
        monkeypatch.setattr(base, "READ_BYTES", rng.choice([1, 2, 7, 64, 1 << 20]))
        by_line, by_block = SourceStats(str(path), "jsonl"), SourceStats(str(path), "jsonl")
        # (a lone byte-order mark as the last line: `lines` gives it as an empty line, a block as a blank one)
        want = [(n, line.removesuffix(b"\n")) for n, line in lines(path, by_line) if line]
        got = [
            (n, line)
            for first, block in line_blocks(path, by_block)
            for n, line in enumerate(block, first)
            if line and not line.isspace()
        ]
        assert got == want, data
        assert (by_block.bad, by_block.bad_refs) == (by_line.bad, by_line.bad_refs), data
