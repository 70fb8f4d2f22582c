"""CloudTrail as AWS's tools really write it: lookup-events output (a page, pages as JSON lines, the
Events as JSON lines), EventBridge-delivered calls, a bare array of records; and records whose
parts are the wrong shape, which are bad records with a reason, never a crash."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ir.timeline.export import write
from ir.timeline.pipeline import build
from ir.timeline.sources import cloudtrail, detect
from ir.timeline.sources.base import SourceStats
from ir.timeline.sources.sample import sample
from tests.conftest import SHARED_DATA

FIXTURES = Path(__file__).parents[1] / "fixtures" / "timeline" / "cloudtrail"
LOGIN = ("signin:ConsoleLogin", "my-role", "72.21.198.70")
PUT = ("s3:PutObject", "username", "203.0.113.34")


def seen(path: Path) -> list[tuple[str, str, str]]:
    return [(e["action"], e["actor"]["user"], e["actor"]["ip"]) for e in build([path]).events()]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("awscli-lookup-events-consolelogin.json", [LOGIN]),
        ("awscli-lookup-events-consolelogin.jsonl", [LOGIN]),
        ("lookup-events-pages.jsonl", [LOGIN, LOGIN]),
        ("stepfunctions-docs-eventbridge-s3-putobject.json", [PUT]),
        ("eventbridge-api-calls.jsonl", [LOGIN, PUT]),
        ("records-array.json", [LOGIN, PUT]),
    ],
)
def test_every_packaging_is_detected_and_read(name: str, expected: list[tuple[str, str, str]]) -> None:
    path = FIXTURES / name
    assert detect(path) == "cloudtrail"
    assert cloudtrail.score(sample(path)).points >= 90
    assert seen(path) == expected


def test_lookup_event_keeps_the_record_details() -> None:
    [login] = list(build([FIXTURES / "awscli-lookup-events-consolelogin.json"]).events())
    assert login["ts_raw"] == "2016-01-26T21:42:12Z"  # the record's eventTime, not the page's local EventTime
    assert login["links"]["event_id"] == "654ccbc0-ba0d-486a-9076-dbf7274677a7"
    assert login["actor"]["arn"] == "arn:aws:sts::123456789012:assumed-role/my-role/my-session-name"


def test_eventbridge_put_object_names_its_target() -> None:
    [put] = list(build([FIXTURES / "stepfunctions-docs-eventbridge-s3-putobject.json"]).events())
    assert put["target"] == "username-sfn-tutorial/test.png"
    assert put["actor"]["access_key"] == "AKIAI44QH8DHBEXAMPLE"
    assert put["raw_ref"].endswith("#detail")


def test_a_bare_array_of_real_delivery_records(tmp_path: Path) -> None:
    folder = SHARED_DATA / "cloudtrail-invictus"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent: the shared samples are not on this machine")
    source = next(p for p in sorted(folder.iterdir()) if p.stat().st_size > 100_000)
    records = json.loads(source.read_bytes())["Records"]
    bare = tmp_path / "records.json"
    bare.write_text(json.dumps(records, indent=1))  # `jq .Records`: a bare array, pretty-printed
    assert detect(bare) == "cloudtrail"
    events = list(build([bare]).events())
    assert len(events) == len(records)
    assert {e["links"]["event_id"] for e in events} == {r["eventID"] for r in records}


WRONG_SHAPES = [
    ("userIdentity", ["arn:aws:iam::1:user/x"], "userIdentity is not an object (list)"),
    ("userIdentity", "root", "userIdentity is not an object (str)"),
    ("requestParameters", [1, 2], "requestParameters is not an object (list)"),
]


@pytest.mark.parametrize(("key", "value", "why"), WRONG_SHAPES)
def test_a_part_of_the_wrong_shape_is_a_bad_record_and_the_rest_goes_on(
    tmp_path: Path, key: str, value: object, why: str
) -> None:
    page = json.loads((FIXTURES / "awscli-lookup-events-consolelogin.json").read_text())
    good = json.loads(page["Events"][0]["CloudTrailEvent"])
    bad = {**good, key: value}
    path = tmp_path / "trail.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (good, bad, good)) + "\n")
    timeline = build([path])
    assert len(list(timeline.events())) == 2
    [stats] = timeline.summary()["sources"]
    assert stats["bad"] == 1
    assert stats["bad_refs"] == [f"{path}:2: {why}"]


def test_nested_parts_of_the_wrong_shape(tmp_path: Path) -> None:
    stats = SourceStats("x", "cloudtrail")
    base = {"eventTime": "2026-11-20T03:00:00Z", "eventName": "GetObject", "eventSource": "s3.amazonaws.com"}
    shapes = [
        {**base, "userIdentity": {"sessionContext": "yes"}},
        {**base, "userIdentity": {"sessionContext": {"sessionIssuer": 7}}},
        {**base, "userIdentity": {"userName": ["a", "b"], "arn": {"x": 1}}, "errorCode": {"deep": [1]}},
        {**base, "eventName": ["GetObject"]},
    ]
    made = [cloudtrail.to_event(r, "s", i, f"r{i}", stats) for i, r in enumerate(shapes)]
    assert [m is not None for m in made] == [False, False, True, False]
    assert stats.bad_refs == [
        "r0: sessionContext is not an object (str)",
        "r1: sessionIssuer is not an object (int)",
        "r3: no eventTime or eventName",
    ]
    assert made[2] is not None and made[2]["actor"] == {}
    assert made[2]["message"] == 'None s3:GetObject ERROR {"deep":[1]}'


def test_eventbridge_events_that_carry_no_cloudtrail_record_are_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "bus.jsonl"
    lines = [
        {"detail-type": "GuardDuty Finding", "source": "aws.guardduty", "detail": {"id": "x"}},
        {"detail-type": "AWS API Call via CloudTrail", "detail": "not an object"},
        json.loads((FIXTURES / "stepfunctions-docs-eventbridge-s3-putobject.json").read_text()),
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    stats = SourceStats(str(path), "cloudtrail")
    events = list(cloudtrail.parse(path, stats))
    assert [e["action"] for e in events] == ["s3:PutObject"]
    assert stats.bad_refs == [
        f"{path}:1: EventBridge event not from CloudTrail (GuardDuty Finding)",
        f"{path}:2: EventBridge detail is not an object",
    ]


def test_big_integers_in_a_lookup_event_stay_exact(tmp_path: Path) -> None:
    page = json.loads((FIXTURES / "awscli-lookup-events-consolelogin.json").read_text())
    record = json.loads(page["Events"][0]["CloudTrailEvent"])
    record["requestParameters"] = {"name": "job", "generation": 2**64 + 1, "offset": -(2**127)}
    page["Events"][0]["CloudTrailEvent"] = json.dumps(record)
    path = tmp_path / "lookup.json"
    path.write_text(json.dumps(page))
    out = io.StringIO()
    write(build([path]).events(), out, "jsonl")
    assert '"generation":18446744073709551617' in out.getvalue()
    assert '"offset":-170141183460469231731687303715884105728' in out.getvalue()
    assert '"generation":1.8446744073709552e+19' not in out.getvalue()
