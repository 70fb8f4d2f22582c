"""SVG snapshots of the case at a glance: the header and containment panel (on the evidence
screen) and the decision form at 80×24, on a case recorded once (fixed ids and times).

Update after an intended change with `pytest tests/tui/test_case_view_snapshots.py --snapshot-update`,
then look at the SVGs in tests/tui/__snapshots__/ before committing them.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ir.tui.screens.decision import DecisionScreen
from ir.tui.screens.evidence import EvidenceScreen
from ir.tui.widgets.case_header import CaseHeader
from tests.tui.test_snapshots import app_on, fixed_workspace, opened

FIXTURE = Path(__file__).parents[1] / "fixtures" / "cases" / "20261121T183607Z-support-bot-agent-compromise-cd70"
NOW = datetime(2026, 11, 21, 20, 41, 30, tzinfo=UTC)
"""The case opened at 18:36:07: the header says 2h 05m ago."""


@pytest.fixture
def recorded_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(workspace, case): the demo workspace at its fixed path holding the recorded case; now is fixed."""
    ws = fixed_workspace(tmp_path)
    case = ws / "cases" / FIXTURE.name
    shutil.copytree(FIXTURE, case)
    monkeypatch.setattr(CaseHeader, "clock", staticmethod(lambda: NOW))
    return ws, case


def test_case_header_and_containment_panel(snap_compare: Any, recorded_case: tuple[Path, Path]) -> None:
    ws, case = recorded_case
    assert snap_compare(app_on(ws), terminal_size=(110, 50), run_before=opened(EvidenceScreen(case)))


def test_decision_form_at_80x24(snap_compare: Any, recorded_case: tuple[Path, Path]) -> None:
    ws, case = recorded_case
    assert snap_compare(app_on(ws), terminal_size=(80, 24), run_before=opened(DecisionScreen(case)))
