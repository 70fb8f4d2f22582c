"""The explorer's on-disk index: filters give exactly the rows a line-by-line reading would."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
import pytest

from ir.tui import timeline_index
from ir.tui.timeline_index import TimelineIndex

WORDS = ("email.read", "fs.read", "HTTP.post", "Secret", "café", "x42", "tag")


def write_timeline(path: Path, count: int) -> list[bytes | None]:
    """Events with mixed case, repeated words, tags, and some unparseable lines (None in the list)."""
    rng = random.Random(7)
    lines: list[bytes | None] = []
    with path.open("wb") as fh:
        for i in range(count):
            if i % 37 == 5:
                fh.write(b'{"ts": 1, "kind": "tool_call", "message": "x42 broken\n')  # truncated JSON: not indexed
                lines.append(None)
                continue
            words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 6)))
            tags = [{"tag": "secret_read", "why": "x"}] if i % 11 == 0 else []
            raw = orjson.dumps({"ts": i, "kind": ("tool_call", "container_log")[i % 2], "message": words, "tags": tags})
            fh.write(raw + b"\n")
            lines.append(raw)
    return lines


def expected(lines: list[bytes | None], kind: str | None, tag: str | None, text: str | None) -> list[int]:
    rows, row = [], 0
    for raw in lines:
        if raw is None:
            continue
        event = orjson.loads(raw)
        ok = (kind is None or event["kind"] == kind) and (tag is None or f'"tag":"{tag}"'.encode() in raw)
        if ok and (text is None or text.lower().encode() in raw.lower()):
            rows.append(row)
        row += 1
    return rows


@pytest.mark.parametrize("block", [64, 1000, 8 * 1024 * 1024])  # tiny blocks: hits and lines across block edges
@pytest.mark.parametrize(
    ("kind", "tag", "text"),
    [
        (None, None, "x42"),
        (None, None, "secret"),  # matches "Secret" in messages and "secret_read" in tags
        (None, None, "CAFÉ"),  # the query is folded as text (É → é), the lines as bytes
        ("tool_call", None, "http.post"),
        (None, "secret_read", None),
        ("container_log", "secret_read", "email"),
        ("tool_call", None, None),
        (None, None, "no such words"),
    ],
)
def test_filters_match_a_line_by_line_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int, kind: str | None, tag: str | None, text: str | None
) -> None:
    monkeypatch.setattr(timeline_index, "BLOCK", block)
    path = tmp_path / "timeline.jsonl"
    lines = write_timeline(path, 600)
    index = TimelineIndex(path)
    try:
        assert len(index) == sum(1 for raw in lines if raw is not None)
        assert list(index.select(kind=kind, tag=tag, text=text)) == expected(lines, kind, tag, text)
    finally:
        index.close()
