"""Credential actions on the simulated cloud, find_minted on real CloudTrail, revoke_http on a local server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from ir.actions.minted import read_cloudtrail, walk
from ir.core.case import RunStatus
from tests.conftest import REPO, SHARED_DATA, make_workspace
from tests.unit.test_engine import Harness

_DEMO = (REPO / "demo" / "world.yaml").read_text()
DEMO_WORLD = _DEMO[_DEMO.index("# The agent's cloud identity") :]  # the demo's cloud and hosts, no container
AGENT = """\
agents:
  support-bot:
    owner: secops@example.com
    purpose: triages customer support email
    backend: simulated
    credentials:
      - {type: aws.iam_user, user_name: agent-support-bot}
      - {type: aws.iam_role, role_name: support-bot-runtime}
      - {type: aws.secret, secret_id: agent/support-bot/openai}
      - {type: http.token, name: llm-vendor-key, owner: platform@example.com, revoke_url: "URL",
         token_env: IR_TEST_VENDOR_ADMIN}
"""


@pytest.fixture
def vendor() -> Iterator[dict[str, Any]]:
    """A provider's revocation endpoint on 127.0.0.1 that records what it was sent."""
    seen: dict[str, Any] = {"calls": [], "status": 204}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen["calls"].append({"path": self.path, "auth": self.headers.get("Authorization")})
            self.send_response(seen["status"])
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["url"] = f"http://127.0.0.1:{server.server_port}/v1/keys/llm-vendor-key/revoke"
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def harness(tmp_path: Path, url: str) -> Harness:
    """The simulated cloud and hosts, but real HTTP to the local vendor endpoint."""
    from ir.backends.http import HttpClient

    ws = make_workspace(tmp_path / "ws", agents=AGENT.replace('"URL"', f'"{url}"'), world=DEMO_WORLD)
    h = Harness(ws)
    h.backends.http = lambda _backend: HttpClient()  # type: ignore[method-assign]
    return h


def test_simulated_revocation_end_to_end(
    tmp_path: Path, vendor: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IR_TEST_VENDOR_ADMIN", "vendor-admin-token-5e4d3c2b1a")
    h = harness(tmp_path, vendor["url"])
    summary = h.run(approve_all=True)
    assert summary.status == RunStatus.SUCCEEDED, summary.message
    cloud = h.backends.cloud_credentials("simulated")
    for user in ("agent-support-bot", "support-bot-helper"):
        state = cloud.principal("user", user)
        assert {k.status for k in state.access_keys} == {"Inactive"}
        assert "agent-ir-deny-all" in state.inline_policies and state.login_profile is None
    assert vendor["calls"] == [
        {"path": "/v1/keys/llm-vendor-key/revoke", "auth": "Bearer vendor-admin-token-5e4d3c2b1a"}
    ]
    journal = (Path(str(summary.case_dir)) / "journal.jsonl").read_text()
    assert "vendor-admin-token-5e4d3c2b1a" not in journal
    assert [f["what"] for f in summary.follow_ups] == [
        "revoke the old value of aws.secret:agent/support-bot/openai where it was issued"
    ]


def test_access_denied_on_one_principal_is_named_and_the_rest_is_done(tmp_path: Path, vendor: dict[str, Any]) -> None:
    h = harness(tmp_path, vendor["url"])
    h.world.store.inject_fault("set_key_status", "denied", times=1)
    vendor["status"] = 500
    summary = h.run(approve_all=True)
    assert summary.status == RunStatus.FAILED
    assert summary.steps["keys"] == "failed" and summary.steps["deny"] == "succeeded"
    keys = next(e.data for e in h.events if e.kind == "step.result" and e.step == "keys")
    assert keys["outputs"]["deactivated"] == {}
    assert list(keys["outputs"]["failed"]) == ["aws.iam_user:agent-support-bot"]
    assert "set_key_status: injected denied fault" in keys["error"]
    provider = next(e.data for e in h.events if e.kind == "step.result" and e.step == "provider-keys")
    assert provider["status"] == "failed" and provider["outputs"]["failed"] == {"http.token:llm-vendor-key": "HTTP 500"}
    assert {f["what"] for f in summary.follow_ups} >= {"revoke http.token:llm-vendor-key at its provider"}


def test_dry_run_plans_revocation_without_touching_the_cloud(tmp_path: Path, vendor: dict[str, Any]) -> None:
    h = harness(tmp_path, vendor["url"])
    summary = h.run(dry_run=True)
    assert summary.status == RunStatus.PLANNED
    plans = {e.step: e.data["plan"] for e in h.events if e.kind == "step.planned"}
    assert [str(c["resource"]) for c in plans["keys"]["changes"]] == [
        "aws.iam_user:agent-support-bot key AKIAEXAMPLEDEMO00001",
        "aws.iam_user:agent-support-bot key AKIAEXAMPLEDEMO00002",
    ]
    assert plans["minted-keys"]["notes"] == ["depends on an earlier step's output: planned at run time"]
    assert vendor["calls"] == []
    cloud = h.backends.cloud_credentials("simulated")
    assert {k.status for k in cloud.principal("user", "agent-support-bot").access_keys} == {"Active"}


@pytest.fixture
def invictus() -> Path:
    folder = SHARED_DATA / "cloudtrail-invictus"
    if not folder.is_dir():
        pytest.skip(f"{folder} absent: the shared CloudTrail sample is not on this machine")
    return folder


def test_find_minted_on_the_invictus_attack_run(invictus: Path) -> None:
    records = list(read_cloudtrail(invictus))
    assert len(records) == 2900
    found = walk(records, {"bert-jan"}, set())
    assert set(found["users"]) == {
        "malicious-iam-user",
        "stratus-red-team-backdoor-u-user",
        "stratus-red-team-login-profile-user",
        "stratus-red-team-nmfalu-gfjyeaypjt",
    }
    assert found["access_keys"]["stratus-red-team-backdoor-u-user"] == ["AKIATFQR7NSC3ZO6PKAZ"]
    assert "stratus-red-team-login-profile-user" in found["login_profiles"]
    assert any(r.startswith("stratus-red-team") for r in found["roles"])
    assert {e["eventName"] for e in found["found_by"]} >= {
        "CreateUser",
        "CreateAccessKey",
        "CreateLoginProfile",
        "CreateRole",
    }
    assert walk(records, {"someone-else"}, set())["users"] == []


def test_find_minted_follows_a_minted_key_to_what_it_made(tmp_path: Path) -> None:
    def rec(name: str, actor: str, key: str, request: dict[str, Any], response: Any = None, error: Any = None) -> Any:
        return {
            "eventName": name,
            "eventTime": "2026-11-20T03:12:10Z",
            "errorCode": error,
            "userIdentity": {"type": "IAMUser", "userName": actor, "accessKeyId": key},
            "requestParameters": request,
            "responseElements": response,
        }

    records = [
        # the helper (created second in the file, but found on the second pass) makes a role
        rec("CreateRole", "helper", "AKIAHELPER", {"roleName": "escape-hatch"}),
        rec("CreateUser", "agent", "AKIAAGENT", {"userName": "helper"}),
        rec(
            "CreateAccessKey",
            "agent",
            "AKIAAGENT",
            {"userName": "helper"},
            {"accessKey": {"accessKeyId": "AKIAHELPER"}},
        ),
        rec("CreateUser", "agent", "AKIAAGENT", {"userName": "refused"}, error="AccessDenied"),
    ]
    path = tmp_path / "trail.jsonl.gz"
    import gzip

    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in records).encode() + b"\n{broken"))
    found = walk(list(read_cloudtrail(path)), {"agent"}, set())
    assert found["users"] == ["helper"] and found["roles"] == ["escape-hatch"]
    assert found["access_keys"] == {"helper": ["AKIAHELPER"]}
