"""Time to acknowledge and to contain, from journals the real engine wrote under a test clock."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import ir.core.journal
from ir.actions import default_registry
from ir.backends import WorkspaceBackends
from ir.cli.main import cli
from ir.core.case import pinned_playbook
from ir.core.engine import Engine
from ir.core.events import RunOptions
from ir.core.journal import read
from ir.core.playbook import find_playbook
from ir.core.workspace import find_workspace
from ir.report.times import case_times, duration
from tests.conftest import make_workspace

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def ticking(seconds: float) -> Iterator[str]:
    """A clock that moves `seconds` forward at every journal record."""
    for n in itertools.count():
        yield (T0 + timedelta(seconds=n * seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def contain(ws: Path, monkeypatch: pytest.MonkeyPatch, tick: float, **options: object) -> Path:
    """agent-compromise on the simulated world, every record `tick` seconds after the one before."""
    clock = ticking(tick)
    monkeypatch.setattr(ir.core.journal, "utc_now", lambda: next(clock))
    workspace = find_workspace(ws)
    engine = Engine(registry=default_registry(), backends=WorkspaceBackends(workspace), workspace=workspace.root)
    summary = engine.start(
        loaded=find_playbook(workspace.playbooks_dir, "agent-compromise"),
        agent=workspace.inventory.get("support-bot", "agents.yaml"),
        params={},
        cases_dir=workspace.cases_dir,
        options=RunOptions(actor="tester", **options),  # type: ignore[arg-type]
    )
    assert summary.case_dir is not None
    return Path(summary.case_dir)


def times_of(case: Path) -> tuple[float | None, float | None]:
    records = read(case / "journal.jsonl").records
    t = case_times(records, [(s.id, s.action) for s in pinned_playbook(case).playbook.steps])
    return t.to_acknowledge, t.to_contain


def test_times_and_medians_across_cases_as_the_engine_journalled_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path / "ws")
    fast = contain(ws, monkeypatch, 1.0)
    slow = contain(ws, monkeypatch, 10.0)
    # run.started is record 1 and freeze's step.started record 2: acknowledged one tick after the case opened;
    # freeze (the only containment step for an agent with no cloud credentials) succeeds at record 5
    assert [r.type for r in read(fast / "journal.jsonl").records[:5]] == [
        "run.started",
        "step.started",
        "step.intent",
        "step.output",
        "step.result",
    ]
    assert times_of(fast) == (1.0, 4.0)
    assert times_of(slow) == (10.0, 40.0)

    listed = CliRunner().invoke(cli, ["--workspace", str(ws), "cases", "--metrics", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    by_case = {r["case"]: r for r in rows[:-1]}
    assert by_case[fast.name]["time_to_acknowledge_s"] == 1.0 and by_case[fast.name]["time_to_contain_s"] == 4.0
    assert by_case[slow.name]["time_to_contain_s"] == 40.0 and by_case[slow.name]["first_alert"] is None
    assert rows[-1] == {
        "median_time_to_acknowledge_s": 5.5,
        "median_time_to_contain_s": 22.0,
        "cases": 2,
        "contained": 2,
    }

    human = CliRunner().invoke(cli, ["--workspace", str(ws), "cases", "--metrics"])
    assert human.exit_code == 0, human.output
    assert "acknowledged 10.0s  contained 40.0s" in human.output
    assert "median over 2 incident cases: time to acknowledge 5.5s, time to contain 22.0s (2 contained)" in human.output


def test_a_person_skipping_a_containment_step_means_not_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_workspace(tmp_path / "ws")
    case = contain(ws, monkeypatch, 1.0, skip={"freeze": "later"})
    tta, ttc = times_of(case)
    assert ttc is None and tta is not None  # isolating the network still acted; nothing froze it
    listed = CliRunner().invoke(cli, ["--workspace", str(ws), "cases", "--metrics"])
    assert "contained —" in listed.output and "(0 contained)" in listed.output


@pytest.mark.parametrize(
    ("seconds", "shown"), [(None, "—"), (0.0421, "0.042s"), (4.25, "4.2s"), (125, "2m 05s"), (3723, "1h 02m 03s")]
)
def test_durations_read_at_a_glance(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_release_playbook_has_no_time_to_contain_and_is_left_out_of_the_medians(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ir.report.metrics import CaseMetrics, medians

    ws = make_workspace(tmp_path / "ws")
    case = contain(ws, monkeypatch, 2.0)
    records = read(case / "journal.jsonl").records
    incident = case_times(records, [(s.id, s.action) for s in pinned_playbook(case).playbook.steps])
    release = case_times(records, [("thaw", "container.unpause")])  # the same journal, judged as a release
    assert release.contains is False and release.to_contain is None and incident.to_contain == 8.0
    rows = [CaseMetrics("incident", incident), CaseMetrics("release", release)]
    assert rows[1].line() == "acknowledged 2.0s  contained n/a (release)"
    assert medians(rows).cases == 1 and medians(rows).to_contain == 8.0


def test_the_clock_starts_at_the_first_alert_when_the_case_holds_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ir.core.journal import Record

    ws = make_workspace(tmp_path / "ws")
    records = read(contain(ws, monkeypatch, 1.0) / "journal.jsonl").records
    steps = [("freeze", "container.pause")]
    alerts = [  # journalled by the alert path (any `alert.*` kind); the earliest one counts
        Record(0, "2026-11-20T02:59:30.000000Z", "alert.received", {}, "", ""),
        Record(0, "2026-11-20T02:59:00.000000Z", "alert.received", {}, "", ""),
    ]
    times = case_times([*alerts, *records], steps)
    assert times.first_alert == "2026-11-20T02:59:00.000000Z"
    assert (times.to_acknowledge, times.to_contain) == (61.0, 64.0)
    assert case_times(records, steps).first_alert is None
