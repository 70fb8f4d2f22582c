"""The receiver app, called in process through ASGI: what it stores, what it answers, whom it believes.

`tests/cli/test_serve.py` runs the same app as `ir serve` over real HTTP; here the pipeline's
callbacks are small recorders, so who approved and what the worker is told can be checked.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ir.alerts.inbox import Accepted, Inbox, InboxError
from ir.alerts.receive import ALL_STEPS, MAX_DEPTH, BodyError, create_app, decode_body, kept_headers
from ir.core.alert_settings import AlertSettings
from ir.core.errors import ApprovalRefused

TOKEN = "am-token-5f1d2c3b4a"
ALICE = "alice-approval-token-77aa"
BOB = "bob-approval-token-88bb"
SETTINGS = AlertSettings.model_validate(
    {
        "sources": {
            "alertmanager": {"format": "alertmanager", "auth": {"bearer": ["T_AM"]}},
            "local": {"format": "falco"},
        },
        "approvals": {"tokens": {"alice": "T_ALICE", "bob": "T_BOB"}},
    }
)
ALERT = b'{"version": "4", "status": "firing", "alerts": [{"labels": {"agent_id": "billing-agent-7"}}]}'


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_AM", TOKEN)
    monkeypatch.setenv("T_ALICE", ALICE)
    monkeypatch.setenv("T_BOB", BOB)


def call(
    app: Any, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """One request through the ASGI interface; returns status, headers, and the JSON (or bytes) body."""

    async def run() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            return pending.pop(0) if pending else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8765),
        }
        await app(scope, receive, send)
        return sent

    sent = asyncio.run(run())
    start, data = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    answer = {k.decode(): v.decode() for k, v in start["headers"]}
    is_json = answer.get("content-type", "").startswith("application/json")
    return start["status"], answer, json.loads(data) if is_json else data


class Recorder:
    """The pipeline's side: which inbox ids it was told about, which approvals it got."""

    def __init__(self) -> None:
        self.woken: list[int] = []
        self.approvals: list[tuple[str, list[str], str, str]] = []

    def on_accepted(self, inbox_id: int) -> None:
        self.woken.append(inbox_id)

    def approve(self, case_id: str, steps: list[str], by: str, reason: str) -> Mapping[str, Any]:
        if case_id == "missing":
            raise LookupError(case_id)
        if by == "bob":
            raise ApprovalRefused("bob is not an approver of step keys (ir.yaml approvers)")
        self.approvals.append((case_id, steps, by, reason))
        return {"case": case_id, "approved": steps, "by": by}

    def status(self, case_id: str) -> Mapping[str, Any]:
        if case_id == "missing":
            raise LookupError(case_id)
        return {"case": case_id, "status": "waiting"}


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    return Inbox(tmp_path / "inbox.sqlite")


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def app(inbox: Inbox, rec: Recorder) -> Any:
    return create_app(SETTINGS, inbox, on_accepted=rec.on_accepted, approve=rec.approve, status=rec.status)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_an_accepted_alert_wakes_the_worker_once_and_its_secrets_are_not_stored(
    app: Any, inbox: Inbox, rec: Recorder
) -> None:
    headers = {
        **bearer(TOKEN),
        "Content-Type": "application/json",
        "webhook-id": "msg_1",
        "X-Hub-Signature-256": "sha256=00",
        "X-Grafana-Alerting-Signature": "ab",
        "X-Grafana-Org": "1",
        "Cookie": "session=x",
        "X-Amz-Security-Token": "FwoGZXIvYXdzE",
        "ce-type": "dev.agent-ir.alert",
    }
    status, _, body = call(app, "POST", "/v1/alerts/alertmanager", ALERT, headers)
    assert (status, body) == (202, {"inbox_id": 1, "status": "accepted"})
    again = call(app, "POST", "/v1/alerts/alertmanager", ALERT, headers)
    assert again[0] == 200 and again[2] == {"inbox_id": 1, "status": "duplicate"}
    assert rec.woken == [1]
    delivery = inbox.delivery(1)
    assert delivery is not None and delivery.body == ALERT and delivery.delivery_key == "webhook-id:msg_1"
    assert delivery.headers == {
        "content-type": "application/json",
        "webhook-id": "msg_1",
        "x-grafana-org": "1",
        "ce-type": "dev.agent-ir.alert",
    }
    assert (delivery.via, delivery.format, delivery.duplicates) == ("serve", "alertmanager", 1)


def test_a_source_without_auth_is_accepted_as_is_and_a_failing_worker_does_not_undo_a_202(inbox: Inbox) -> None:
    def broken(_inbox_id: int) -> None:
        raise RuntimeError("queue closed")

    app = create_app(SETTINGS, inbox, on_accepted=broken)
    status, _, body = call(app, "POST", "/v1/alerts/local", b'{"rule": "Terminal shell in container"}')
    assert (status, body["status"]) == (202, "accepted")
    assert inbox.delivery(body["inbox_id"]) is not None


def test_an_inbox_that_cannot_commit_answers_503_with_retry_after(tmp_path: Path, rec: Recorder) -> None:
    class FullDisk(Inbox):
        def accept(self, **_: Any) -> Accepted:
            raise InboxError(f"{self.path}: the alert inbox could not be written: database or disk is full")

    app = create_app(SETTINGS, FullDisk(tmp_path / "inbox.sqlite"), on_accepted=rec.on_accepted)
    status, headers, body = call(app, "POST", "/v1/alerts/alertmanager", ALERT, bearer(TOKEN))
    assert status == 503 and headers["retry-after"] == "5"
    assert str(tmp_path) not in body["error"]
    assert rec.woken == []


def test_the_approver_is_the_tokens_principal_never_the_body(app: Any, rec: Recorder) -> None:
    path = "/v1/cases/20261121T115153Z-billing-agent-7-agent-compromise-a1b2/approvals"
    ok = call(app, "POST", path, b'{"steps": ["keys", "secrets", "keys"], "reason": "confirmed"}', bearer(ALICE))
    assert ok[0] == 202 and ok[2]["by"] == "alice"
    assert rec.approvals == [(path.split("/")[3], ["keys", "secrets"], "alice", "confirmed")]
    forged = call(app, "POST", path, b'{"steps": ["keys"], "by": "ciso"}', bearer(ALICE))
    assert forged[0] == 400 and "token's principal" in forged[2]["error"]
    every = call(app, "POST", path, b'{"all": true}', bearer(ALICE))
    assert every[0] == 202 and rec.approvals[-1][1] == [ALL_STEPS]
    refused = call(app, "POST", path, b'{"all": true}', bearer(BOB))
    assert refused[0] == 403 and "not an approver" in refused[2]["error"]


@pytest.mark.parametrize(
    ("body", "token", "status"),
    [
        (b'{"all": true}', None, 401),
        (b'{"all": true}', TOKEN, 401),  # a source's token cannot approve
        (b'{"all": true}', "alice-approval-token-77a", 401),
        (b"[]", ALICE, 400),
        (b'{"steps": []}', ALICE, 400),
        (b'{"steps": ["Keys; rm"]}', ALICE, 400),
        (b'{"steps": ["keys"], "all": true}', ALICE, 400),
        (b'{"all": "yes"}', ALICE, 400),
        (b"\xff", ALICE, 400),
    ],
)
def test_approvals_refuse_strangers_and_malformed_requests(
    app: Any, rec: Recorder, body: bytes, token: str | None, status: int
) -> None:
    answer = call(app, "POST", "/v1/cases/c1/approvals", body, bearer(token) if token else {})
    assert answer[0] == status
    if status == 401:
        assert answer[1]["www-authenticate"].startswith("Bearer")
    assert rec.approvals == []


def test_unknown_cases_and_case_ids_that_are_paths_are_404(app: Any) -> None:
    assert call(app, "POST", "/v1/cases/missing/approvals", b'{"all": true}', bearer(ALICE))[0] == 404
    assert call(app, "POST", "/v1/cases/../approvals", b'{"all": true}', bearer(ALICE))[0] == 404
    assert call(app, "GET", "/v1/cases/..", b"", bearer(ALICE))[0] == 404
    assert call(app, "GET", "/v1/cases/missing", b"", bearer(TOKEN))[0] == 404


def test_case_status_needs_an_approval_or_a_source_token(app: Any) -> None:
    assert call(app, "GET", "/v1/cases/c1")[0] == 401
    assert call(app, "GET", "/v1/cases/c1", b"", bearer("guess"))[0] == 401
    assert call(app, "GET", "/v1/cases/c1", b"", bearer(TOKEN))[2] == {"case": "c1", "status": "waiting"}
    assert call(app, "GET", "/v1/cases/c1", b"", bearer(BOB))[0] == 200


def test_healthz_says_the_inbox_answers_without_naming_its_path(app: Any, inbox: Inbox, tmp_path: Path) -> None:
    status, _, body = call(app, "GET", "/healthz")
    assert (status, body) == (200, {"ok": True, "inbox": {"alerts": {}}})
    inbox.close()
    status, _, body = call(app, "GET", "/healthz")
    assert status == 503 and body == {"ok": False, "inbox": "unavailable"}


def test_metrics_are_per_app_not_process_wide(inbox: Inbox, rec: Recorder) -> None:
    first = create_app(SETTINGS, inbox, on_accepted=rec.on_accepted)
    second = create_app(SETTINGS, inbox, on_accepted=rec.on_accepted)
    call(first, "POST", "/v1/alerts/alertmanager", ALERT, bearer("wrong"))
    first.state.metrics.case_started("auto_then_approve")
    first.state.metrics.frozen(0.3)
    text = call(first, "GET", "/metrics")[2].decode()
    assert 'alerts_rejected_total{reason="bad_token",source="alertmanager"} 1.0' in text
    assert 'cases_started_total{policy="auto_then_approve"} 1.0' in text
    assert 'alert_to_frozen_seconds_bucket{le="0.5"} 1.0' in text
    assert "alerts_rejected_total{" not in call(second, "GET", "/metrics")[2].decode()


# -- the strict body decoder -------------------------------------------------------------------------


def test_nesting_is_capped_and_brackets_inside_strings_do_not_count() -> None:
    assert decode_body(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(BodyError, match=f"nested deeper than {MAX_DEPTH}"):
        decode_body(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(BodyError, match="nested deeper"):
        decode_body(b"[" * 100_000)
    tricky = json.dumps({"summary": "[" * 500 + '\\"{' * 100}).encode()
    assert decode_body(tricky) == {"summary": "[" * 500 + '\\"{' * 100}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n", "empty body"),
        (b'{"a": "caf\xe9"}', "not UTF-8 (invalid byte at offset 10)"),
        (b"\xef\xbb\xbf{}", "not JSON: Unexpected UTF-8 BOM"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1} {"b": 2}', "not JSON: Extra data at line 1 column 10"),
        (b'{"agent_id": "a", "agent_id": "b"}', "duplicate key 'agent_id'"),
        (b'{"a": "\x01"}', "not JSON: Invalid control character"),
    ],
)
def test_bodies_that_are_not_strict_json_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(BodyError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        decode_body(body)


def test_kept_headers_never_include_credentials() -> None:
    kept = kept_headers(
        [
            ("authorization", "Bearer x"),
            ("webhook-signature", "v1,abc"),
            ("x-api-key", "k"),
            ("x-amz-security-token", "t"),
            ("x-amz-sns-message-type", "Notification"),
            ("user-agent", "Alertmanager/0.28.1"),
            ("x-forwarded-for", "10.0.0.1"),
        ]
    )
    assert kept == {"x-amz-sns-message-type": "Notification", "user-agent": "Alertmanager/0.28.1"}


def test_the_inbox_file_holds_the_delivery_after_the_202(app: Any, inbox: Inbox) -> None:
    status, _, body = call(app, "POST", "/v1/alerts/alertmanager", ALERT, bearer(TOKEN))
    assert status == 202
    with closing(sqlite3.connect(inbox.path)) as db:  # a second connection sees it: it was committed
        row = db.execute("SELECT source, body FROM deliveries WHERE id = ?", (body["inbox_id"],)).fetchone()
    assert row == ("alertmanager", ALERT)
