"""SIGKILL of `ir serve` after it said 202, then a restart: nothing accepted is lost or done twice.

The kill lands at an exact point: the test-only `IR_FAILPOINT=…:pause` holds the server there
(creating `$IR_FAILPOINT_FILE.paused`), the test sees the 202 and the hold, then SIGKILLs it by
its pid. `delivery:*` holds a worker as it takes the delivery off the queue, before anything is
done with it; `step.intent:isolate` holds the case's run inside a step, after its intent record.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.alerting import SERVE_TOKEN, am_body, bearer, cases, journal, serve_workspace, world
from tests.conftest import ir_cmd
from tests.services import Served, start_ir_serve

ENV = {"IR_SERVE_TOKEN": SERVE_TOKEN}


def held(release: Path, served: Served) -> None:
    """Wait until the failpoint holds the server (it created `release.paused`)."""
    served.wait_until("the failpoint held ir serve", Path(f"{release}.paused").exists)


def deliveries(ws: Path) -> list[tuple[int, str, int]]:
    """(id, state, duplicates) of each delivery in the inbox."""
    with closing(sqlite3.connect(ws / ".ir" / "inbox.sqlite")) as db:
        return [(int(i), str(s), int(d)) for i, s, d in db.execute("SELECT id, state, duplicates FROM deliveries")]


def steps(case: Path) -> dict[str, str]:
    """Each step's last result status."""
    return {r["data"]["step"]: r["data"]["status"] for r in journal(case) if r["type"] == "step.result"}


def restart_until_settled(ws: Path, folder: Path) -> Served:
    """`ir serve` again, without the failpoint, until every alert row is settled."""
    served = start_ir_serve(ws, folder, ENV)
    served.wait_until(
        "every alert settled", lambda: bool(served.alert_rows()) and all(r[1] != "new" for r in served.alert_rows())
    )
    return served


def test_a_kill_right_after_the_202_loses_nothing_and_a_restart_contains_once(tmp_path: Path, signers: Any) -> None:
    ws = serve_workspace(tmp_path / "ws")
    signers(ws, "ir-service", role="service")
    release = tmp_path / "release"
    hold = {"IR_FAILPOINT": "delivery:*:1:pause", "IR_FAILPOINT_FILE": str(release)}
    first = start_ir_serve(ws, tmp_path / "first", ENV | hold)
    body = am_body("bot-00", "aaaa000000000001")
    assert first.call("POST", "/v1/alerts/alertmanager", body, bearer()) == (202, {"inbox_id": 1, "status": "accepted"})
    assert first.call("POST", "/v1/alerts/alertmanager", body, bearer()) == (
        200,
        {"inbox_id": 1, "status": "duplicate"},
    )
    held(release, first)
    assert first.kill() == -9
    assert deliveries(ws) == [(1, "new", 1)]  # accepted, and nothing done with it yet
    assert cases(ws) == [] and first.alert_rows() == []

    second = restart_until_settled(ws, tmp_path / "second")
    assert second.stop() == 0
    assert "Traceback" not in second.output()
    assert second.alert_rows() == [("1.0", "contained", "firing")]
    assert deliveries(ws) == [(1, "done", 1)]
    (case,) = cases(ws)
    assert journal(case)[0]["data"]["trigger"]["inbox"] == "1.0"
    assert steps(case)["freeze"] == "succeeded" and steps(case)["keys"] == "succeeded"
    assert world(ws)["containers"]["bot-00"]["status"] == "paused"

    # a third start finds nothing unfinished: the journal does not move, no second case
    before = (case / "journal.jsonl").read_bytes()
    third = start_ir_serve(ws, tmp_path / "third", ENV)
    assert third.call("GET", "/healthz")[1] == {"ok": True, "inbox": {"alerts": {"contained": 1}}}
    assert third.stop() == 0
    assert cases(ws) == [case] and (case / "journal.jsonl").read_bytes() == before
    verified = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_kill_in_the_middle_of_a_run_resumes_that_case_after_a_restart(tmp_path: Path, signers: Any) -> None:
    ws = serve_workspace(tmp_path / "ws")
    signers(ws, "ir-service", role="service")
    release = tmp_path / "release"
    hold = {"IR_FAILPOINT": "step.intent:isolate:1:pause", "IR_FAILPOINT_FILE": str(release)}
    first = start_ir_serve(ws, tmp_path / "first", ENV | hold)
    status = first.call("POST", "/v1/alerts/alertmanager", am_body("bot-00", "bbbb000000000002"), bearer())
    assert status == (202, {"inbox_id": 1, "status": "accepted"})
    held(release, first)
    assert first.kill() == -9
    (case,) = cases(ws)
    cut = journal(case)
    assert cut[-1]["type"] == "step.intent" and cut[-1]["data"]["step"] == "isolate"
    assert not any(r["type"] == "run.ended" for r in cut)
    assert deliveries(ws) == [(1, "processing", 0)] and first.alert_rows() == [("1.0", "new", "firing")]

    second = restart_until_settled(ws, tmp_path / "second")
    assert second.stop() == 0
    assert "Traceback" not in second.output()
    assert cases(ws) == [case]  # the same case, resumed: not a second run
    assert second.alert_rows() == [("1.0", "contained", "firing")]
    records = journal(case)
    assert records[: len(cut)] == cut
    assert [r["data"]["trigger"]["inbox"] for r in records if r["type"] == "run.started"] == ["1.0"]
    assert [r["data"]["actor"] for r in records if r["type"] == "run.resumed"] == ["ir-service"]
    assert steps(case)["isolate"] == "succeeded" and steps(case)["keys"] == "succeeded"
    waiting = {r["data"]["step"] for r in records if r["type"] == "approval.waiting"}
    assert waiting == {"console", "secrets", "minted-console"}
    assert world(ws)["containers"]["bot-00"]["status"] == "paused"
    assert [k["status"] for k in world(ws)["iam"]["users"]["agent-bot-00"]["access_keys"]] == ["Inactive"]
    verified = ir_cmd("verify", case.name, "--strict", cwd=ws)
    assert verified.returncode == 0, verified.stdout + verified.stderr
