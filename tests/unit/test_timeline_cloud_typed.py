"""The typed fast paths of the CloudTrail and OTel parsers give what the general path gives: every
JSON line below is read by `parse` (typed when it can be) and compared with `to_event` of the same
line decoded as a dict (the general path), events and bad-record reasons alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ir.timeline.model import CLEAN
from ir.timeline.sources import cloudtrail, otel
from ir.timeline.sources.base import SourceStats
from ir.timeline.sources.jsontext import loads

BIG = 2**100
RECORD: dict[str, Any] = {
    "eventTime": "2026-11-26T02:59:59Z",
    "eventSource": "s3.amazonaws.com",
    "eventName": "GetObject",
    "sourceIPAddress": "10.20.0.5",
    "userAgent": "aws-cli/2.15.0",
    "requestParameters": {"bucketName": "customer-data", "key": "k0"},
    "eventID": "e0",
    "userIdentity": {"type": "IAMUser", "userName": "bot", "accessKeyId": "AKIAAGENT"},
}
RECORDS = [
    RECORD,
    {**RECORD, "userIdentity": {"arn": "arn:x", "sessionContext": {"sessionIssuer": {"userName": "role"}}}},
    {**RECORD, "userIdentity": {"arn": "arn:x", "userName": "", "sessionContext": None}},
    {**RECORD, "userIdentity": None, "requestParameters": None, "eventSource": None},
    {**RECORD, "requestParameters": {"password": "hunter2hunter2", "bucketName": "b"}},
    {**RECORD, "requestParameters": {"name": "api-token-store", "n": BIG}},
    {**RECORD, "errorCode": "AccessDenied", "readOnly": True, "awsRegion": "eu-west-1", "requestID": "r"},
    {**RECORD, "errorCode": {"code": BIG}},  # (crashed the run before: orjson refuses 128-bit integers)
    {**RECORD, "eventTime": "2026-11-26T02:59:59", "eventName": ""},
    {**RECORD, "eventTime": "2026-11-26T02:59:59"},
    {**RECORD, "sourceIPAddress": 5, "readOnly": "yes"},
    {**RECORD, "userIdentity": "root"},
    {**RECORD, "userIdentity": {"sessionContext": {"sessionIssuer": []}}},
]
SPAN: dict[str, Any] = {
    "name": "execute_tool fs.read",
    "context": {"trace_id": BIG, "span_id": 7},
    "start_time": 1795661999239616512,
    "attributes": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "fs.read", "gen_ai.tool.call.id": "o1"},
}
SPANS = [
    SPAN,
    {**SPAN, "parent": {"span_id": "0af7651916cd43dd"}, "status": {"status_code": "ERROR"}},
    {**SPAN, "attributes": {**SPAN["attributes"], "gen_ai.tool.call.arguments": '{"q": "token=abcdefgh12345678"}'}},
    {**SPAN, "attributes": {**SPAN["attributes"], "gen_ai.tool.call.id": "sk-abcdefghijklmnopqrstuv"}},
    {
        **SPAN,
        "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"},
        "resource": {"attributes": {"service.name": "a"}},
    },
    {**SPAN, "start_time": "2026-11-26T03:00:00Z", "context": {}},
    {**SPAN, "start_time": -1},
    {**SPAN, "start_time": None},
    {**SPAN, "attributes": {"x": 1}},
    {**SPAN, "parent": "root"},
]


def _without_clean(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if k != CLEAN} for e in events]


@pytest.mark.parametrize("n", range(len(RECORDS)))
def test_a_cloudtrail_line_reads_as_the_general_path_reads_it(tmp_path: Path, n: int) -> None:
    path = tmp_path / "trail.jsonl"
    lines = [json.dumps(RECORD), json.dumps(RECORDS[n])]  # (the first line decides: JSON lines)
    path.write_text("\n".join(lines) + "\n")
    fast = SourceStats(str(path), "cloudtrail")
    got = _without_clean(list(cloudtrail.parse(path, fast)))
    general = SourceStats(str(path), "cloudtrail")
    expected = []
    for seq, line in enumerate(lines, 1):
        general.records += 1
        made = cloudtrail.to_event(loads(line), f"cloudtrail:{path.name}", seq - 1, f"{path}:{seq}", general)
        if made is not None:
            general.assumed_utc += bool(made.get("assumed_utc"))
            expected.append(made)
    assert got == expected
    assert fast.as_dict() == general.as_dict()


@pytest.mark.parametrize("n", range(len(SPANS)))
def test_an_sdk_span_line_reads_as_the_general_path_reads_it(tmp_path: Path, n: int) -> None:
    path = tmp_path / "spans.jsonl"
    lines = [json.dumps(SPAN), json.dumps(SPANS[n])]
    path.write_text("\n".join(lines) + "\n")
    fast = SourceStats(str(path), "otel")
    got = list(otel.parse(path, fast))
    general = SourceStats(str(path), "otel")
    expected = []
    for seq, line in enumerate(lines, 1):
        general.records += 2  # (a line and its span, as parse counts them)
        span = loads(line)
        resource = span.get("resource") or {}
        made = otel.to_event(
            span, resource.get("attributes") or {}, f"otel:{path.name}", seq - 1, f"{path}:{seq}#span", general
        )
        if made is not None:
            expected.append(made)
    assert got == expected
    assert fast.as_dict() == general.as_dict()


def test_long_tool_results_are_not_kept_for_their_verdict(tmp_path: Path) -> None:
    """Distinct 100 KB tool results (a page an agent fetched) are never the same twice: keeping
    each one's secret-word verdict held every result of the file in memory (30 MB for 300 spans,
    about 1 GB for 10,000)."""
    import gc
    import tracemalloc

    path = tmp_path / "spans.jsonl"
    with path.open("w") as fh:
        for i in range(100):
            attributes = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "http.get",
                "gen_ai.tool.call.id": f"o{i}",
                "gen_ai.tool.call.result": f"{i}" + "page text " * 10_000,
            }
            span = {"name": "execute_tool http.get", "context": {"trace_id": 1, "span_id": i + 1}}
            fh.write(json.dumps({**span, "start_time": 1_795_662_000_000_000_000 + i, "attributes": attributes}) + "\n")
    gc.collect()
    tracemalloc.start()
    try:
        stats = SourceStats(str(path), "otel")
        calls = held = 0
        for e in otel.parse(path, stats):  # (each event let go at once, as the pipeline's record does)
            calls += e["kind"] == "tool_call"
            held = max(held, tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert calls == 100
    assert held < 5_000_000, f"{held / 1e6:.1f} MB held while parsing"
