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
        want = [(n, line) for n, line in lines(path, by_line) if line]
        got = [
            (n, line + b"\n" if bare else line)
            for first, block, bare in line_blocks(path, by_block)
            for n, line in enumerate(block, first)
            if line and not line.isspace()
        ]
        assert got == want, data
        assert (by_block.bad, by_block.bad_refs) == (by_line.bad, by_line.bad_refs), data


def test_a_cut_docker_line_gives_the_same_reason_plain_or_gzipped(tmp_path: Path) -> None:
    """The reason quotes the JSON reader's error for the line as `lines` gives it (with its
    newline): a string cut at the end of a line is an unescaped control character, in a plain file
    as in its gzip — not `unexpected end of data`, which only the file's last, unended line says."""
    import gzip

    from ir.timeline.sources import docker_logs

    body = b'{"log":"abc\n{"log":"ok\\n","stream":"stdout","time":"2026-11-20T03:00:00Z"}\n{"log":"cut'
    plain, packed = tmp_path / "c.log", tmp_path / "c.log.gz"
    plain.write_bytes(body)
    packed.write_bytes(gzip.compress(body))
    reasons = []
    for path in (plain, packed):
        stats = SourceStats(str(path), "docker")
        assert [e["message"] for e in docker_logs.parse(path, stats)] == ["ok"]
        reasons.append([ref.split(":", 1)[1] for ref in stats.bad_refs])
    assert reasons[0] == reasons[1], reasons
    first, last = reasons[0]
    assert first.startswith("1: not JSON (unexpected control character") and last.startswith(
        "3: not JSON (unexpected end"
    )
