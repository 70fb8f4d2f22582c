"""The terminal progress reporter: shown on a terminal only, throttled, erased at the end, and
never a channel for escape sequences hidden in a source's name."""

from __future__ import annotations

import io
import os
import pty
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from ir.cli.progress import Progress, capture_progress, cleared_first, source_progress, terminal_progress
from ir.core.evidence import EvidenceStore
from tests.terminal import Screen


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def reporter(clock: Clock, **kw: object) -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(out, clock=clock, **kw), out  # type: ignore[arg-type]


def test_updates_every_millisecond_redraw_at_most_ten_times_a_second() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="events", label="reading", total=True)
    for n in range(1, 3001):  # 3 s of updates, one per millisecond
        clock.now += 0.001
        progress("a.jsonl", n * 10, False)
    assert 20 <= progress.redraws <= 30  # shown from 0.3 s on, at most one draw per 0.1 s
    screen = Screen().feed(out.getvalue()).text.splitlines()
    assert screen[0].startswith("reading a.jsonl  29,")  # the latest count, not every count
    assert "events/s" in screen[0]
    assert screen[1].startswith("total  29,") and "(0/1 done)" in screen[1]


def test_a_quick_job_shows_nothing() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="bytes", label="capturing")
    for n in range(1, 50):
        clock.now += 0.001
        progress("inspect.json", n * 1000, False)
    progress("inspect.json", 50_000, True)
    assert out.getvalue() == ""


def test_one_line_per_source_with_rates_and_a_total_then_erased() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="events", label="reading", total=True)
    progress("claude.jsonl", 0, False)
    progress("cloudtrail.json", 0, False)
    clock.now += 2.0
    progress("claude.jsonl", 100_000, False)  # drawn now
    progress("cloudtrail.json", 50_000, False)  # kept, drawn with the next update
    clock.now += 0.5
    progress("claude.jsonl", 125_000, False)
    lines = Screen().feed(out.getvalue()).text.splitlines()
    assert lines == [
        "reading claude.jsonl  125,000 events  50,000 events/s",
        "reading cloudtrail.json  50,000 events  20,000 events/s",
        "total  175,000 events  70,000 events/s  (0/2 done)",
    ]
    clock.now += 0.5
    progress("cloudtrail.json", 90_000, False)
    progress("claude.jsonl", 130_000, True)  # a finished source leaves the block, counts in the total
    clock.now += 0.25
    progress("cloudtrail.json", 97_500, False)
    assert Screen().feed(out.getvalue()).text.splitlines() == [
        "reading cloudtrail.json  97,500 events  30,000 events/s",
        "total  227,500 events  70,000 events/s  (1/2 done)",
    ]
    progress("cloudtrail.json", 90_000, True)
    assert Screen().feed(out.getvalue()).text == ""  # the last one done: nothing left on screen


def test_output_after_the_block_starts_on_a_clean_line() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="bytes", label="capturing")
    printed: list[str] = []
    show = cleared_first(progress, lambda line: (printed.append(line), out.write(line + "\n")))
    progress("filesystem.tar", 0, False)
    clock.now += 1.0
    progress("filesystem.tar", 52_400_000, False)
    assert Screen().feed(out.getvalue()).text == "capturing filesystem.tar  52.4 MB  52.4 MB/s"
    show("     committed ir-evidence:case")
    assert Screen().feed(out.getvalue()).text == "     committed ir-evidence:case"
    assert printed == ["     committed ir-evidence:case"]


def test_names_with_escape_sequences_are_neutralised() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="events", label="reading")
    hostile = "e\x1b]52;c;eA==\x07\x1b[2J\u202egnp.jsonl"
    progress(hostile, 0, False)
    clock.now += 1.0
    progress(hostile, 10, False)
    written = out.getvalue()
    assert "\x1b]" not in written and "\x07" not in written and "\u202e" not in written
    assert "\x1b[2J" not in written
    shown = "reading e\\x1b]52;c;eA==\\x07\\x1b[2J\\u202egnp.jsonl  10 events  10 events/s"
    assert Screen().feed(written).text == shown


def test_long_names_keep_their_end_and_fit_the_width() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="events", label="reading")
    name = "/very/long/" + "d" * 200 + "/session-42.jsonl"
    progress(name, 0, False)
    clock.now += 1.0
    progress(name, 10, False)
    (line,) = Screen().feed(out.getvalue()).text.splitlines()
    assert len(line) <= 79 and "session-42.jsonl  10 events" in line


def test_many_sources_are_capped_to_a_few_lines() -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="events", label="reading", total=True)
    for i in range(30):
        progress(f"s{i}.jsonl", 0, False)
    clock.now += 1.0
    progress("s0.jsonl", 5, False)
    lines = Screen().feed(out.getvalue()).text.splitlines()
    assert len(lines) == 10 and lines[8] == "... and 22 more" and lines[9].startswith("total  5 events")


def test_quiet_in_pipes_with_json_and_on_dumb_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    assert terminal_progress("bytes", "capturing", stream=io.StringIO()) is None  # not a terminal
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as tty:
        assert isinstance(source_progress(stream=tty), Progress)
        assert capture_progress(stream=tty, quiet=True) is None  # --json
        monkeypatch.setenv("TERM", "dumb")
        assert capture_progress(stream=tty) is None
        monkeypatch.delenv("TERM")
        assert capture_progress(stream=tty) is None
    os.close(master)


def read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode()


def test_a_real_capture_on_a_pseudo_terminal_shows_bytes_then_leaves_a_clean_screen(tmp_path: Path) -> None:
    """The store's own streaming loop drives the reporter; the capture's bytes are unchanged."""
    master, slave = pty.openpty()
    clock = Clock()
    tty = os.fdopen(slave, "w")
    progress = Progress(tty, unit="bytes", label="capturing", clock=clock)

    def stream() -> Iterator[bytes]:
        for _ in range(64):  # 64 MiB arriving over 4 s of the fake clock
            clock.now += 1 / 16
            yield b"\x00" * (1 << 20)

    stored = EvidenceStore(tmp_path / "case").put(stream(), lambda n, done: progress("filesystem.tar", n, done))
    tty.write("     captured filesystem.tar: sha256 " + stored.sha256 + "\n")
    tty.close()
    written = read_all(master)
    os.close(master)
    assert stored.size == 64 << 20
    last = re.findall(r"capturing filesystem\.tar  ([\d.]+) MB  ([\d.]+) MB/s", written)[-1]
    assert float(last[0]) > 60 and 16.5 < float(last[1]) < 17.5  # 1 MiB every 1/16 s: 16.8 MB/s
    assert 25 <= progress.redraws <= 30  # from 0.3 s on, every second chunk (1/8 s apart)
    assert Screen().feed(written).text == f"     captured filesystem.tar: sha256 {stored.sha256}"


def test_a_broken_stream_still_erases_its_line(tmp_path: Path) -> None:
    clock = Clock()
    progress, out = reporter(clock, unit="bytes", label="capturing")

    def stream() -> Iterator[bytes]:
        clock.now += 1.0
        yield b"x" * 100_000
        clock.now += 1.0
        yield b"x" * 100_000
        raise ConnectionResetError("the daemon went away")

    with pytest.raises(Exception, match="daemon went away"):
        EvidenceStore(tmp_path / "case").put(stream(), lambda n, done: progress("logs.txt", n, done))
    assert "capturing logs.txt  200.0 kB" in out.getvalue()
    assert Screen().feed(out.getvalue()).text == ""


def test_a_log_streamed_line_by_line_is_reported_every_64_kib_and_exactly_at_the_end(tmp_path: Path) -> None:
    calls: list[tuple[int, bool]] = []
    lines = (b"2026-11-21T10:00:00.000000000Z " + b"x" * 168 + b"\n" for _ in range(10_000))  # 2 MB
    stored = EvidenceStore(tmp_path / "case").put(lines, lambda n, done: calls.append((n, done)))
    assert stored.size == 2_000_000
    assert calls[-1] == (2_000_000, True) and not any(done for _, done in calls[:-1])
    assert 25 <= len(calls) <= 32  # one per 64 KiB, not one per line
