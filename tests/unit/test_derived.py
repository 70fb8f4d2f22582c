"""Derived case files: recording them, and what a reader is told when one does not match."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.core.derived import record_data, verified_problem
from ir.core.evidence import EvidenceError
from ir.core.journal import Journal


def test_a_derived_file_that_cannot_be_read_is_one_error_line(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match=r"gone\.jsonl: derived file unreadable, not recorded: No such file"):
        record_data(tmp_path, tmp_path / "gone.jsonl", name="gone.jsonl", step="timeline")


def test_a_reader_is_told_why_a_case_file_is_not_shown(tmp_path: Path) -> None:
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text('{"ts": 1}\n')
    journal = Journal(tmp_path).open(create=True)
    assert verified_problem(tmp_path, "timeline.jsonl") == (
        "timeline.jsonl is not recorded in the journal; not shown — run ir verify"
    )
    rec = journal.append("derived.added", record_data(tmp_path, timeline, name="timeline.jsonl", step="timeline"))
    journal.close()
    assert verified_problem(tmp_path, "timeline.jsonl") is None
    timeline.unlink()
    assert verified_problem(tmp_path, "timeline.jsonl") == (
        f"timeline.jsonl was removed after it was recorded (journal seq {rec.seq}); not shown — run ir verify"
    )
