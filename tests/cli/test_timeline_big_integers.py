"""128-bit integers in tool arguments stay exact through `ir timeline`, in every format.

OTel SDKs write 128-bit ids as integers and tools pass big numbers along; orjson refuses
integers beyond 64 bits when writing ("Integer exceeds 64-bit range") and turns them into
floats when reading. The pipeline writes and reads such values with msgspec instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ir_cmd

BIG = 2**127 + 12345  # 170141183460469231731687303715884117073
FORMATS = ["jsonl", "timesketch", "timesketch-csv", "table"]


def _sources(folder: Path) -> None:
    folder.mkdir()
    span = {
        "name": "execute_tool transfer",
        "context": {"trace_id": BIG, "span_id": 7},
        "start_time": "2026-11-20T03:00:01.000000Z",
        "attributes": {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "transfer",
            "gen_ai.tool.call.id": "o1",
            "gen_ai.tool.call.arguments": {"amount": BIG, "account": "a-1"},
        },
    }
    (folder / "spans.jsonl").write_text(json.dumps(span) + "\n")
    record = {"ts": "2026-11-20T03:00:02Z", "tool": "ledger.add", "call_id": "c1", "arguments": {"n": BIG}}
    embedded = {
        "ts": "2026-11-20T03:00:03Z",
        "tool": "ledger.add",
        "call_id": "c2",
        "arguments": json.dumps({"n": -BIG}),
    }
    (folder / "tools.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(embedded) + "\n")


@pytest.mark.parametrize("fmt", FORMATS)
def test_big_integers_are_exact_in_every_export(tmp_path: Path, fmt: str) -> None:
    _sources(tmp_path / "logs")
    out, summary = tmp_path / "out", tmp_path / "summary.json"
    result = ir_cmd(
        "timeline", str(tmp_path / "logs"), "--format", fmt, "--out", str(out), "--summary-json", str(summary)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = out.read_text()
    assert text.count(str(BIG)) >= 2 and str(-BIG) in text, text  # not 1.7014118346046923e+38
    assert "e+38" not in text
    if fmt == "jsonl":
        events = [json.loads(line) for line in text.splitlines()]
        by_call = {e["tool"]["call_id"]: e for e in events}
        assert by_call["o1"]["tool"]["arguments"]["amount"] == BIG
        assert by_call["c1"]["tool"]["arguments"]["n"] == BIG
        assert by_call["c2"]["tool"]["arguments"]["n"] == -BIG
    assert "3 events" in result.stdout
    assert json.loads(summary.read_text())["events"] == 3


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
def test_big_integers_survive_spilled_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    import io

    from ir.timeline import merge
    from ir.timeline.export import write
    from ir.timeline.pipeline import build

    _sources(tmp_path / "logs")
    monkeypatch.setattr(merge, "RUN", 1)  # every event in a run of its own, written to disk and read back
    buffer = io.StringIO()
    assert write(build([tmp_path / "logs"], workers=workers).events(), buffer, "jsonl") == 3
    amounts = [json.loads(line)["tool"]["arguments"] for line in buffer.getvalue().splitlines()]
    assert {"amount": BIG, "account": "a-1"} in amounts and {"n": BIG} in amounts and {"n": -BIG} in amounts
