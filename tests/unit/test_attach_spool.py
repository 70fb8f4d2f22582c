"""The attach spool's hand-over when two attachers meet: the one holding the case journals what the
other spooled meanwhile, so a folded alert is in the case as soon as the case is free.

`ir serve` folds alerts from several worker threads: one may hold the case's journal (appending
its own alert) while another finds it locked and spools. The order is fixed with events, not time.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ir.core import attach
from ir.core.journal import read
from tests.unit.test_engine import Harness

HOLD = """\
schema: ir/playbook/v1
id: hold
version: "0.1.0"
title: Freeze, then wait for a person
steps:
  - {id: freeze, title: Freeze, action: container.pause, guidance: freeze}
  - {id: isolate, title: Cut, action: container.isolate_network, guidance: cut, approval: required}
"""


def fold(ws: Path, request: str) -> attach.Attached | None:
    """What the alert pipeline does for a later alert about support-bot."""
    return attach.correlate(
        workspace=ws,
        cases_dir=ws / "cases",
        agent_id="support-bot",
        playbook_id="hold",
        alert={"inbox": request, "source": "alertmanager", "status": "firing"},
        request=f"alert-{request}-support-bot",
        actor="ir-service",
        text=f"alert {request}: joined this open case",
    )


def test_an_alert_spooled_while_another_attacher_held_the_case_is_journalled_by_that_attacher(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = Harness(workspace).run(text=HOLD)
    assert str(summary.status) == "awaiting_approval"
    case = Path(str(summary.case_dir))
    holding, go = threading.Event(), threading.Event()
    real_sign = attach._sign

    def sign_slowly(*args: Any) -> str | None:
        if threading.current_thread().name == "first" and not go.is_set():
            holding.set()  # the first attacher holds the journal, its alert appended
            assert go.wait(30)
        return real_sign(*args)

    monkeypatch.setattr(attach, "_sign", sign_slowly)
    first = threading.Thread(target=fold, args=(workspace, "1.0"), name="first")
    first.start()
    assert holding.wait(30)
    second = fold(workspace, "2.0")
    assert second is not None and second.seq is None  # the case was held: spooled
    assert len(list((case / attach.SPOOL_DIR).glob("*.json"))) == 1
    go.set()
    first.join(30)

    folded = [r.data["alert"]["inbox"] for r in read(case / "journal.jsonl").records if r.type == "alert.correlated"]
    assert folded == ["1.0", "2.0"]
    assert list((case / attach.SPOOL_DIR).glob("*.json")) == []
