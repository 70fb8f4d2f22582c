"""The hash chain detects any edited, reordered or removed line; a torn tail is set aside, not lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ir.core import redaction
from ir.core.errors import CaseLocked, JournalError
from ir.core.journal import Journal, read


def journal_with(tmp_path: Path, n: int = 4) -> Path:
    with Journal(tmp_path).open(create=True) as j:
        for i in range(n):
            j.append("note", {"i": i, "text": f"record {i}"})
    return tmp_path / "journal.jsonl"


def test_a_clean_journal_verifies_and_reports_its_head(tmp_path: Path) -> None:
    path = journal_with(tmp_path)
    checked = read(path)
    assert checked.ok and checked.torn is None
    assert [r.seq for r in checked.records] == [1, 2, 3, 4]
    assert checked.head == (4, checked.records[-1].hash)
    assert checked.records[1].prev == checked.records[0].hash


def test_every_single_byte_edit_is_detected(tmp_path: Path) -> None:
    path = journal_with(tmp_path, 3)
    original = path.read_bytes()
    for offset in range(0, len(original) - 1, 7):
        if original[offset : offset + 1] == b"\n":
            continue
        edited = bytearray(original)
        edited[offset] = ord("X") if edited[offset] != ord("X") else ord("Y")
        path.write_bytes(bytes(edited))
        assert not read(path).ok, f"edit at byte {offset} went unnoticed"
    path.write_bytes(original)
    assert read(path).ok


def test_removed_and_reordered_lines_name_the_line(tmp_path: Path) -> None:
    path = journal_with(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + lines[2] + lines[3])
    assert read(path).problems == [f"{path}:2: seq 3 where 2 was expected (record removed or reordered)"]
    path.write_bytes(lines[0] + lines[2] + lines[1] + lines[3])
    assert "removed or reordered" in read(path).problems[0]


def test_recomputed_hash_without_chain_is_caught(tmp_path: Path) -> None:
    path = journal_with(tmp_path)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["data"]["text"] = "forged"
    from ir.core.journal import record_hash

    rec["hash"] = record_hash({k: rec[k] for k in ("seq", "ts", "type", "data", "prev")})
    lines[1] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    assert read(path).problems == [f"{path}:3: seq 3 does not chain to the record before it"]


def test_torn_last_line_is_reported_ignored_and_set_aside_on_reopen(tmp_path: Path) -> None:
    path = journal_with(tmp_path, 2)
    with path.open("ab") as fh:
        fh.write(b'{"seq":3,"ts":"2026')
    checked = read(path)
    assert checked.ok and len(checked.records) == 2
    assert checked.torn == f"{path}:3: torn last line (19 bytes) ignored"
    with Journal(tmp_path).open() as j:
        j.append("note", {"after": "crash"})
    after = read(path)
    assert after.ok and after.torn is None
    assert [r.type for r in after.records] == ["note", "note", "journal.torn_tail", "note"]
    saved = tmp_path / after.records[2].data["saved_as"]
    assert saved.read_bytes() == b'{"seq":3,"ts":"2026'


def test_damage_in_the_middle_refuses_to_continue(tmp_path: Path) -> None:
    path = journal_with(tmp_path)
    path.write_bytes(path.read_bytes().replace(b"record 1", b"record 9"))
    with pytest.raises(JournalError, match=r"journal.jsonl:2: seq 2 \(note\) was altered.*refusing to continue"):
        Journal(tmp_path).open()


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    journal_with(tmp_path, 1)
    with Journal(tmp_path).open(), pytest.raises(CaseLocked, match="case is open in pid"):
        Journal(tmp_path).open()


def test_secrets_are_redacted_before_they_are_written(tmp_path: Path) -> None:
    redaction.register(["canary-value-1234567"])
    with Journal(tmp_path).open(create=True) as j:
        j.append(
            "note",
            {
                "text": "key sk-abcdefghijklmnopqrstuvwxyz012345 and canary-value-1234567",
                "cmd": "curl -H 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz'",
                "env": "DB_PASSWORD=hunter2hunter2",
            },
        )
    raw = (tmp_path / "journal.jsonl").read_text()
    for secret in (
        "sk-abcdefghijklmnopqrstuvwxyz012345",
        "canary-value-1234567",
        "abcdefghijklmnopqrstuvwxyz'",
        "hunter2hunter2",
    ):
        assert secret not in raw
    assert "DB_PASSWORD=[REDACTED]" in raw
    assert read(tmp_path / "journal.jsonl").ok
