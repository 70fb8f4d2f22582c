"""Odd but possible values in real captures: times at the ends of the calendar, OTLP integers that
are not integers, lone surrogates that Node writes, big integers inside string-encoded records, a
byte-order mark, a gzip that decompresses beyond the size limit. None crashes, none is lost."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from ir.timeline.export import write
from ir.timeline.pipeline import build
from ir.timeline.sources import base, detect

FIXTURES = Path(__file__).parents[1] / "fixtures" / "timeline"
CLAUDE = FIXTURES / "claude"
CLOUDTRAIL = FIXTURES / "cloudtrail"


def rows(path: Path, items: list[object]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_time_beyond_the_calendar_after_its_zone_is_a_bad_record(tmp_path: Path, when: str) -> None:
    path = rows(
        tmp_path / "tools.jsonl",
        [{"ts": when, "tool": "fs.read", "arguments": {}}, {"ts": "2026-11-20T03:00:00Z", "tool": "http.get"}],
    )
    timeline = build([path])
    out = io.StringIO()
    assert write(timeline.events(), out, "jsonl") == 1
    assert json.loads(out.getvalue())["action"] == "http.get"
    [stats] = timeline.summary()["sources"]
    assert stats["bad_refs"] == [f"{path}:1: no usable time ({when!r})"]


def test_an_otlp_integer_that_is_no_integer_is_kept_as_written(tmp_path: Path) -> None:
    long = "9" * 5000  # beyond the digits Python converts from text
    attributes = {
        "gen_ai.operation.name": {"stringValue": "execute_tool"},
        "gen_ai.tool.name": {"stringValue": "transfer"},
        "gen_ai.tool.call.id": {"intValue": "abc"},
        "gen_ai.tool.call.arguments": {"kvlistValue": {"values": [{"key": "amount", "value": {"intValue": long}}]}},
    }
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "execute_tool transfer",
        "startTimeUnixNano": "1763608321000000000",
        "attributes": [{"key": k, "value": v} for k, v in attributes.items()],
    }
    path = tmp_path / "trace.json"
    path.write_text(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    [call] = list(build([path]).events())
    assert call["tool"]["call_id"] == "abc"
    assert call["tool"]["arguments"] == {"amount": long}


def test_a_lone_surrogate_escape_as_node_writes_it_keeps_its_line(tmp_path: Path) -> None:
    real = (CLAUDE / "tool_heavy.jsonl").read_text()
    cut = '"type":"tool_result","content":"Command running'
    assert real.count(cut) == 1
    path = tmp_path / "session.jsonl"
    path.write_text(real.replace(cut, cut.replace('"Command', '"\\ud83d Command')))  # half an emoji
    timeline = build([path])
    results = {e["tool"]["call_id"]: e["tool"]["result"] for e in timeline.events() if e["kind"] == "tool_result"}
    assert results["toolu_018GZVh9ymkrdx1TnR8reg5Y"].startswith("\ufffd Command running in background")
    [stats] = timeline.summary()["sources"]
    assert stats["bad"] == 0 and stats["format"] == "claude"


def test_a_tool_log_whose_only_line_holds_a_lone_surrogate_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "tools.log"
    path.write_text('{"ts": "2026-11-20T03:00:00Z", "tool": "search", "arguments": {"q": "caf\\udce9"}}\n')
    assert detect(path) == "jsonl"
    [call] = list(build([path]).events())
    assert call["tool"]["arguments"] == {"q": "caf\ufffd"}


def test_a_gzip_that_holds_more_than_the_document_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = {
        "eventTime": "2026-11-20T03:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "userIdentity": {"type": "IAMUser", "userName": "bot"},
    }
    body = json.dumps({"Records": [record] * 200}).encode()
    path = tmp_path / "delivery.json.gz"
    path.write_bytes(gzip.compress(body))
    monkeypatch.setattr(base, "MAX_DOCUMENT", 4096)
    assert path.stat().st_size < 4096 < len(body)
    timeline = build([path], format_override="cloudtrail")
    assert list(timeline.events()) == []
    [stats] = timeline.summary()["sources"]
    assert stats["bad_refs"] == [f"{path}: larger than 4096 bytes once decompressed"]


def test_a_byte_order_mark_hides_neither_a_document_nor_a_first_line(tmp_path: Path) -> None:
    records = (CLOUDTRAIL / "records-array.json").read_bytes()
    array = tmp_path / "records.json"
    array.write_bytes(b"\xef\xbb\xbf" + records)
    tools = tmp_path / "tools.jsonl"
    lines = [{"ts": "2026-11-20T03:00:00Z", "tool": "fs.read"}, {"ts": "2026-11-20T03:00:01Z", "tool": "http.get"}]
    tools.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(line) + "\n" for line in lines).encode())
    assert (detect(array), detect(tools)) == ("cloudtrail", "jsonl")
    timeline = build([array, tools])
    assert [e["action"] for e in timeline.events()] == ["signin:ConsoleLogin", "s3:PutObject", "fs.read", "http.get"]
    assert [s["bad"] for s in timeline.summary()["sources"]] == [0, 0]
