"""Hostile values: mutated real captures never crash a parser, and every record dropped says why.

Each real fixture (and the shared real samples when present) is mutated a few thousand times in
all: a value replaced by a list, an object, an int, null, a huge int or a deeply nested value;
lines cut, dropped or broken with invalid UTF-8. Each mutant is parsed with its format forced.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ir.timeline.export import write
from ir.timeline.pipeline import build
from ir.timeline.sources import PARSERS, detect
from ir.timeline.sources.base import SourceStats
from tests.conftest import SHARED_DATA

FIXTURES = Path(__file__).parents[1] / "fixtures" / "timeline"
DEEP: Any = 1
for _ in range(3000):
    DEEP = [DEEP]
HOSTILE: list[Any] = [
    [],
    ["a", {"b": 1}],
    {},
    {"x": [1, 2]},
    0,
    -1,
    None,
    True,
    2**127 + 1,
    -(2**70),
    1.5e308,
    "",
    "\u202e\x1b[2J",
    "2026-13-45T99:99:99Z",
]

LINES = {
    "jsonl": [
        {"ts": "2026-11-20T03:12:01.104Z", "agent": "support-bot", "session": "s-4821", "tool": "email.read",
         "call_id": "c1", "arguments": {"folder": "inbox"}, "result": "3 messages", "success": True},
        {"ts": 1763608321, "tool": "http.get", "call_id": "c2", "arguments": "{\"url\": \"https://x.test/a\"}"},
        {"ts": "2026-11-20T03:12:02Z", "tool": "http.get", "call_id": "c2", "result": "ok"},
    ],
    "docker": [
        {"log": "starting\n", "stream": "stdout", "time": "2026-11-20T03:00:00.000000001Z"},
        {"log": json.dumps({"ts": "2026-11-20T03:00:01Z", "tool": "shell", "arguments": {"cmd": "ls"}}) + "\n",
         "stream": "stdout", "time": "2026-11-20T03:00:01.5Z"},
        {"log": "par", "stream": "stderr", "time": "2026-11-20T03:00:02Z"},
        {"log": "tial\n", "stream": "stderr", "time": "2026-11-20T03:00:03Z"},
    ],
    "claude": [
        {"type": "queue-operation", "operation": "enqueue", "timestamp": "2026-11-20T03:00:00.000Z"},
        {"type": "assistant", "uuid": "u1", "sessionId": "s", "cwd": "/w", "timestamp": "2026-11-20T03:00:00.000Z",
         "message": {"content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]}},
        {"type": "user", "uuid": "u2", "sessionId": "s", "timestamp": "2026-11-20T03:00:01.000Z",
         "message": {"content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"text": "a"}]}]}},
    ],
    "codex": [
        {"timestamp": "2026-11-20T03:00:02Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "shell", "arguments": '{"command":["ls"]}', "call_id": "c9"}},
        {"timestamp": "2026-11-20T03:00:03Z", "type": "response_item",
         "payload": {"type": "function_call_output", "call_id": "c9", "output": "README.md"}},
    ],
}  # fmt: skip


def captures(tmp: Path) -> Iterator[tuple[str, Path]]:
    """(format, file) for every real capture the tests can read, plus small lines for the others."""
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and path.suffix != ".md":
            fmt = detect(path)
            assert fmt, f"{path} is not detected"
            yield fmt, path
    otel = SHARED_DATA / "otel-any-agent"
    if otel.is_dir():
        for path in sorted(otel.glob("*_trace.json"))[:3]:
            yield "otel", path
    trail = SHARED_DATA / "cloudtrail-invictus"
    if trail.is_dir():
        yield "cloudtrail", min(trail.iterdir(), key=lambda p: p.stat().st_size)
    for fmt, lines in LINES.items():
        path = tmp / f"{fmt}.jsonl"
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
        yield fmt, path


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):
            yield from _paths(v, (*at, i))


def _replace(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[at[0]] = _replace(value[at[0]], at[1:], new)
    return copy


def _dumps(value: Any) -> bytes:
    try:
        return json.dumps(value).encode()
    except (ValueError, RecursionError):  # 1.5e308 is fine; a too-deep value is written by hand
        return b"[" * 3000 + b"1" + b"]" * 3000


def mutate(data: bytes, rng: random.Random, big: bool = True) -> bytes:
    """One hostile variant of a capture (`big`: integers beyond 64 bits among the values)."""
    values = [*HOSTILE, DEEP] if big else [v for v in HOSTILE if not isinstance(v, int) or abs(v) < 2**63]
    choice = rng.random()
    lines = data.split(b"\n")
    if choice < 0.15:  # cut somewhere
        return data[: rng.randrange(len(data) + 1)]
    if choice < 0.25:  # invalid UTF-8 or a stray byte inside a line
        at = rng.randrange(len(data) + 1)
        return data[:at] + rng.choice([b"\xff\xfe", b"\xc3", b"\x00", b'"', b"}"]) + data[at:]
    if choice < 0.3 and len(lines) > 1:  # a line dropped or doubled
        i = rng.randrange(len(lines))
        return b"\n".join(lines[:i] + ([lines[i]] * 2 if rng.random() < 0.5 else []) + lines[i + 1 :])
    try:
        doc = json.loads(data)
        pieces = None
    except ValueError:
        doc, pieces = None, lines
    if pieces is not None:  # JSON lines: mutate one line's value
        usable = [i for i, p in enumerate(pieces) if p.strip()]
        if not usable:
            return data
        i = rng.choice(usable)
        try:
            line = json.loads(pieces[i])
        except ValueError:
            return data
        at = rng.choice(list(_paths(line)))
        pieces = [*pieces[:i], _dumps(_replace(line, at, rng.choice(values))), *pieces[i + 1 :]]
        return b"\n".join(pieces)
    at = rng.choice(list(_paths(doc)))
    return _dumps(_replace(doc, at, rng.choice(values)))


def test_mutated_captures_never_crash_and_every_drop_has_a_reason(tmp_path: Path) -> None:
    rng = random.Random(12)
    found = list(captures(tmp_path))
    rounds = max(1, 3000 // len(found))
    for fmt, path in found:
        data = path.read_bytes()
        target = tmp_path / f"mutant{path.suffix or '.json'}"
        for n in range(rounds):
            mutant = mutate(data, rng)
            target.write_bytes(mutant)
            stats = SourceStats(str(target), fmt)
            try:
                events = list(PARSERS[fmt](target, stats))
                for e in events:
                    json.dumps(e, default=str)
            except Exception as exc:  # the failure names the capture and keeps the mutant
                keep = tmp_path / f"crash-{fmt}-{n}{path.suffix}"
                keep.write_bytes(mutant)
                pytest.fail(f"{fmt} parser crashed on a mutant of {path.name} ({keep}): {exc!r}")
            assert all(": " in ref and ref.split(": ", 1)[1] for ref in stats.bad_refs), stats.bad_refs
            assert stats.bad >= len(stats.bad_refs)
            if fmt == "cloudtrail":  # one event per record: what is not an event is a bad record
                assert stats.records == len(events) + stats.bad or stats.records == 0, (path.name, stats)


def test_mutants_go_through_the_whole_pipeline_and_export(tmp_path: Path) -> None:
    """Detection, detectors, redaction and export on mutants too. Integers beyond 64 bits are left
    out here: keeping them exact through detectors and export is the msgspec work (issue 12 item 4)."""
    rng = random.Random(7)
    for fmt, path in list(captures(tmp_path)):
        for n in range(20):
            target = tmp_path / f"whole-{fmt}-{n}{path.suffix or '.json'}"
            target.write_bytes(mutate(path.read_bytes(), rng, big=False))
            out = io.StringIO()
            timeline = build([target])
            write(timeline.events(), out, "jsonl")
            timeline.summary()
            target.unlink()
