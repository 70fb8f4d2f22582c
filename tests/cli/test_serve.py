"""`ir serve` as a real process on 127.0.0.1 with real HTTP: what a sender and an operator see.

Each test starts `ir serve --port 0` on its own workspace, reads the port from the one line it
prints, talks to it with urllib (proxies off: loopback only), then stops it with SIGTERM by its
pid (while the Popen still owns it) and checks that no token or secret reached its output.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.conftest import ir_cmd, make_workspace

TOKEN = "ir-serve-token-3b9f0c7d1e"
ROTATED = "ir-serve-token-next-a4c2e8"
SW_SECRET = "whsec_" + base64.b64encode(b"guardduty relay secret 32 bytes!").decode()
GH_SECRET = "github-style-shared-secret-6d2a"
ALICE = "alice-approval-token-0f9e8d"
SECRETS = (TOKEN, ROTATED, SW_SECRET, SW_SECRET[6:], GH_SECRET, ALICE)

SETTINGS = """\
alerts:
  sources:
    alertmanager: {format: alertmanager, auth: {bearer: [IR_SERVE_TOKEN, IR_SERVE_TOKEN_NEXT]}}
    guardduty: {format: eventbridge, auth: {hmac: {scheme: standard-webhooks, secret_env: IR_GD_SECRET}}}
    relay: {format: cloudevents, auth: {hmac: {scheme: github, secret_env: IR_RELAY_SECRET}}}
    local: {format: falco}
  approvals: {tokens: {alice: IR_APPROVAL_TOKEN_ALICE}}
"""
ENV = {
    "IR_SERVE_TOKEN": TOKEN,
    "IR_SERVE_TOKEN_NEXT": ROTATED,
    "IR_GD_SECRET": SW_SECRET,
    "IR_RELAY_SECRET": GH_SECRET,
    "IR_APPROVAL_TOKEN_ALICE": ALICE,
}
ALERT = json.dumps(
    {
        "version": "4",
        "receiver": "agent-ir",
        "status": "firing",
        "groupKey": '{}:{alertname="AgentEgressToUnknownHost"}',
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "1a30ba71cca2921f",
                "labels": {"alertname": "AgentEgressToUnknownHost", "agent_id": "support-bot", "severity": "critical"},
                "annotations": {"summary": "Egress to 203.0.113.9:443 not in allow-list"},
                "startsAt": "2026-09-02T13:08:45.828Z",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }
).encode()
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Server:
    """A running `ir serve`."""

    proc: subprocess.Popen[bytes]
    url: str
    ws: Path
    out: Path
    err: Path

    def post(self, path: str, body: bytes | Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.call("POST", path, body, headers)

    def call(
        self, method: str, path: str, body: bytes | Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with NO_PROXY.open(request, timeout=30) as answer:
                status, data, kind = answer.status, answer.read(), answer.headers.get("content-type", "")
                self.last_headers = dict(answer.headers)
        except urllib.error.HTTPError as exc:
            status, data, kind = exc.code, exc.read(), exc.headers.get("content-type", "")
            self.last_headers = dict(exc.headers)
            exc.close()
        return status, json.loads(data) if kind.startswith("application/json") else data.decode()

    def metric(self, sample: str) -> float:
        """The value of one sample line of /metrics (0 when absent)."""
        _, text = self.call("GET", "/metrics")
        found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    def rows(self) -> list[tuple[Any, ...]]:
        """The inbox's deliveries, read from the file by a separate connection."""
        with closing(sqlite3.connect(self.ws / ".ir" / "inbox.sqlite")) as db:
            return db.execute(
                "SELECT id, source, format, delivery_key, body, headers, duplicates FROM deliveries ORDER BY id"
            ).fetchall()


def start_serve(ws: Path, tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    out, err = tmp / "serve.out", tmp / "serve.err"
    full_env = {**os.environ, **ENV, **(env or {})}
    full_env.pop("IR_WORKSPACE", None)
    exe = Path(sys.executable).parent / "ir"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen([str(exe), "serve", *args], cwd=ws, env=full_env, stdout=stdout, stderr=stderr)


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM by pid, only while this Popen still owns it (not yet reaped: the pid cannot be reused)."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    ws = make_workspace(tmp_path / "ws", settings=SETTINGS)
    proc = start_serve(ws, tmp_path, "--port", "0")
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    deadline = time.monotonic() + 60
    while not (found := re.search(r"listening on (http://127\.0\.0\.1:(\d+)) \(4 sources\)", out.read_text())):
        assert proc.poll() is None, err.read_text()
        assert time.monotonic() < deadline, "ir serve never said it was listening"
        time.sleep(0.02)  # waiting for a state (the line), not for time
    assert int(found.group(2)) > 0
    yield Server(proc, found.group(1), ws, out, err)
    assert stop(proc) == 0
    assert out.read_text().splitlines()[-1] == "ir serve: stopped"
    output = out.read_text() + err.read_text()
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_an_alert_is_in_the_inbox_file_when_202_comes_back_and_a_repeat_is_a_duplicate(server: Server) -> None:
    headers = {**bearer(TOKEN), "User-Agent": "Alertmanager/0.28.1", "webhook-id": "am-1"}
    status, body = server.post("/v1/alerts/alertmanager", ALERT, headers)
    assert (status, body) == (202, {"inbox_id": 1, "status": "accepted"})
    ((row_id, source, fmt, key, stored, kept, dups),) = server.rows()
    assert (row_id, source, fmt, key, stored, dups) == (1, "alertmanager", "alertmanager", "webhook-id:am-1", ALERT, 0)
    assert json.loads(kept) == {
        "content-type": "application/json",
        "user-agent": "Alertmanager/0.28.1",
        "webhook-id": "am-1",
    }
    assert TOKEN not in kept

    assert server.post("/v1/alerts/alertmanager", ALERT, headers) == (200, {"inbox_id": 1, "status": "duplicate"})
    # no delivery id: the body's sha256 names it, so an HA pair sending the same bytes is one delivery
    plain = bearer(ROTATED)
    assert server.post("/v1/alerts/alertmanager", ALERT, plain) == (202, {"inbox_id": 2, "status": "accepted"})
    assert server.post("/v1/alerts/alertmanager", ALERT, plain) == (200, {"inbox_id": 2, "status": "duplicate"})
    assert [r[6] for r in server.rows()] == [1, 1]
    assert server.metric('alerts_duplicate_total{source="alertmanager"}') == 2


def test_wrong_or_missing_bearer_tokens_are_401_and_nothing_is_stored(server: Server) -> None:
    for headers, error in (
        ({}, "missing credentials"),
        (bearer("ir-serve-token-3b9f0c7d1f"), "wrong token"),
        ({"Authorization": f"Basic {base64.b64encode(TOKEN.encode()).decode()}"}, "missing credentials"),
    ):
        assert server.post("/v1/alerts/alertmanager", ALERT, headers) == (401, {"error": error})
        assert server.last_headers["www-authenticate"].startswith("Bearer")
    assert server.rows() == []
    assert server.metric('alerts_rejected_total{reason="bad_token",source="alertmanager"}') == 1
    assert server.metric('alerts_rejected_total{reason="missing",source="alertmanager"}') == 2


def test_signed_sources_accept_a_good_signature_and_refuse_a_bad_or_replayed_one(server: Server) -> None:
    now = datetime.now(UTC)

    def signed(body: bytes, msg_id: str, at: datetime) -> dict[str, str]:
        sig = Webhook(SW_SECRET).sign(msg_id, at, body.decode())
        return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": sig}

    assert server.post("/v1/alerts/guardduty", ALERT, signed(ALERT, "gd-1", now))[0] == 202
    tampered = ALERT.replace(b"support-bot", b"billing-bot")
    assert server.post("/v1/alerts/guardduty", tampered, signed(ALERT, "gd-2", now)) == (
        401,
        {"error": "bad signature"},
    )
    old = datetime.fromtimestamp(now.timestamp() - 600, UTC)
    assert server.post("/v1/alerts/guardduty", ALERT, signed(ALERT, "gd-3", old)) == (
        401,
        {"error": "signature timestamp outside the replay window"},
    )
    assert "www-authenticate" not in {k.lower() for k in server.last_headers}

    github = "sha256=" + hmac.new(GH_SECRET.encode(), ALERT, hashlib.sha256).hexdigest()
    delivery = {"X-Hub-Signature-256": github, "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    assert server.post("/v1/alerts/relay", ALERT, delivery)[0] == 202
    assert server.post("/v1/alerts/relay", ALERT + b"\n", delivery) == (401, {"error": "bad signature"})
    replayed = delivery | {"X-GitHub-Delivery": "00000000-0000-0000-0000-000000000000"}  # unsigned: a new id
    assert server.post("/v1/alerts/relay", ALERT, replayed)[0] == 200
    assert [(r[1], r[3]) for r in server.rows()] == [
        ("guardduty", "webhook-id:gd-1"),
        ("relay", "sha256:" + hashlib.sha256(ALERT).hexdigest()),
    ]
    assert server.metric('alerts_rejected_total{reason="stale",source="guardduty"}') == 1
    assert server.metric('alerts_rejected_total{reason="bad_signature",source="relay"}') == 1


def _refused(server: Server, body: Any) -> Any:
    """The server's answer to a body it refuses before reading it all — or "closed": it answers and
    closes while the client is still sending, and the client may see only the closed connection
    (EPIPE, a reset). The metrics below say what the server did either way."""
    try:
        return server.post("/v1/alerts/alertmanager", body, bearer(TOKEN))
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        assert isinstance(reason, BrokenPipeError | ConnectionResetError), exc
        return "closed"


def test_bodies_over_1_mib_are_413_whether_or_not_they_say_their_length(server: Server) -> None:
    big = b'{"pad": "' + b"x" * (2 << 20) + b'"}'
    too_large = (413, {"error": "body larger than 1048576 bytes"})
    assert _refused(server, big) in (too_large, "closed")

    def chunks() -> Iterator[bytes]:  # no Content-Length: urllib sends it chunked
        for start in range(0, len(big), 64 << 10):
            yield big[start : start + (64 << 10)]

    answer = _refused(server, chunks())
    assert answer == "closed" or answer[0] == 413
    assert server.rows() == []
    assert server.post("/v1/alerts/alertmanager", ALERT, bearer(TOKEN))[0] == 202  # still serving
    assert server.metric('alerts_rejected_total{reason="too_large",source="alertmanager"}') == 2


def test_bodies_that_are_not_utf8_json_are_400_with_the_reason(server: Server) -> None:
    cases = {
        b'{"summary": "caf\xe9"}': "body is not UTF-8 (invalid byte at offset 16)",
        b"[" * 10_000 + b"]" * 10_000: "JSON nested deeper than 64 levels",
        b'{"status": "firing",': (
            "body is not JSON: Expecting property name enclosed in double quotes at line 1 column 21"
        ),
    }
    for body, reason in cases.items():
        assert server.post("/v1/alerts/local", body, {"Content-Type": "application/json"}) == (400, {"error": reason})
    assert server.rows() == []
    assert server.metric('alerts_rejected_total{reason="bad_body",source="local"}') == 3


def test_an_unknown_source_is_404_and_does_not_grow_the_metrics(server: Server) -> None:
    for name in ("nope", "alertmanager2", "x" * 300):
        assert server.post(f"/v1/alerts/{name}", ALERT, bearer(TOKEN)) == (404, {"error": "unknown source"})
    assert server.metric('alerts_rejected_total{reason="unknown_source",source="(unknown)"}') == 3
    assert "nope" not in server.call("GET", "/metrics")[1]


def test_healthz_and_metrics_move_with_what_arrives(server: Server) -> None:
    assert server.call("GET", "/healthz") == (200, {"ok": True, "inbox": {"alerts": {}}})
    before = server.metric('alerts_received_total{source="alertmanager"}')
    assert before == 0
    server.post("/v1/alerts/alertmanager", ALERT, bearer(TOKEN))
    server.post("/v1/alerts/alertmanager", ALERT, bearer("guess"))
    assert server.metric('alerts_received_total{source="alertmanager"}') == 2
    assert server.metric('alerts_received_total{source="guardduty"}') == 0
    assert server.metric("alert_to_frozen_seconds_count") == 0


def test_approvals_and_case_status_need_a_token(server: Server) -> None:
    path = "/v1/cases/20261121T115153Z-support-bot-agent-compromise-a1b2"
    assert server.post(path + "/approvals", b'{"all": true}') == (401, {"error": "missing credentials"})
    assert server.post(path + "/approvals", b'{"all": true}', bearer(TOKEN)) == (401, {"error": "wrong token"})
    assert server.call("GET", path) == (401, {"error": "missing credentials"})
    # authenticated, but there is no such case
    assert server.post(path + "/approvals", b'{"all": true}', bearer(ALICE))[0] == 404
    assert server.call("GET", path, headers=bearer(TOKEN))[0] == 404


def test_serve_refuses_a_public_address_while_a_source_has_no_auth(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", settings=SETTINGS)
    result = ir_cmd("serve", "--host", "0.0.0.0", "--port", "0", cwd=ws, env=ENV)
    assert result.returncode == 2
    assert result.stderr == (
        "ir: error: ir.yaml: alerts.sources.local has no auth: ir serve listens on 0.0.0.0 only when every "
        "source has an auth profile (bearer or hmac); add one, or listen on 127.0.0.1\n"
    )
    assert not (ws / ".ir" / "inbox.sqlite").exists()


def test_a_port_in_use_is_one_line(server: Server, tmp_path: Path) -> None:
    port = server.url.rsplit(":", 1)[1]
    other = make_workspace(tmp_path / "other", settings=SETTINGS)
    result = ir_cmd("serve", "--port", port, cwd=other, env=ENV)
    assert result.returncode == 2
    assert result.stderr == f"ir: error: 127.0.0.1:{port}: cannot listen: address already in use\n"


def test_a_missing_secret_is_named_at_start_and_its_deliveries_say_no_token_configured(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", settings=SETTINGS)
    proc = start_serve(ws, tmp_path, "--port", "0", env={"IR_SERVE_TOKEN": "", "IR_SERVE_TOKEN_NEXT": ""})
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"(http://127\.0\.0\.1:\d+)", (tmp_path / "serve.out").read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.err").read_text()
            time.sleep(0.02)
        server = Server(proc, found.group(1), ws, tmp_path / "serve.out", tmp_path / "serve.err")
        assert server.post("/v1/alerts/alertmanager", ALERT, bearer(TOKEN)) == (401, {"error": "no token configured"})
        assert server.metric('alerts_rejected_total{reason="not_configured",source="alertmanager"}') == 1
    finally:
        assert stop(proc) == 0
    assert (
        "warning: source alertmanager: none of IR_SERVE_TOKEN, IR_SERVE_TOKEN_NEXT is set: its deliveries are refused"
        in (tmp_path / "serve.err").read_text()
    )


def make_pki(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all PEM, made with `cryptography`."""
    import ipaddress
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def issue(name: str, issuer: tuple[x509.Name, Any] | None, **ext: Any) -> tuple[x509.Name, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        issuer_name, issuer_key = issuer or (subject, key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        )
        if "san" in ext:
            builder = builder.add_extension(ext["san"], critical=False)
        if "usage" in ext:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ext["usage"]]), critical=False)
        cert = builder.sign(issuer_key, hashes.SHA256())
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return subject, key

    folder.mkdir(parents=True)
    ca = issue("ca", None)
    loopback = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    issue("server", ca, san=loopback, usage=ExtendedKeyUsageOID.SERVER_AUTH)
    issue("client", ca, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    return {p.name: p for p in folder.iterdir()}


def test_mutual_tls_serves_only_clients_with_a_certificate_from_the_ca(tmp_path: Path) -> None:
    import ssl

    pki = make_pki(tmp_path / "pki")
    ws = make_workspace(tmp_path / "ws", settings=SETTINGS)
    args = ["--port", "0", "--tls-cert", str(pki["server.pem"]), "--tls-key", str(pki["server.key"])]
    proc = start_serve(ws, tmp_path, *args, "--tls-client-ca", str(pki["ca.pem"]))
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(r"(https://127\.0\.0\.1:\d+)", (tmp_path / "serve.out").read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.err").read_text()
            time.sleep(0.02)
        trusting = ssl.create_default_context(cafile=str(pki["ca.pem"]))
        anonymous = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=trusting)
        )
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)) as refused:
            anonymous.open(found.group(1) + "/healthz", timeout=30).read()
        assert "CERTIFICATE_REQUIRED" in str(refused.value) or isinstance(refused.value, ConnectionError)
        trusting.load_cert_chain(str(pki["client.pem"]), str(pki["client.key"]))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=trusting)
        )
        request = urllib.request.Request(
            found.group(1) + "/v1/alerts/alertmanager", data=ALERT, method="POST", headers=bearer(TOKEN)
        )
        with opener.open(request, timeout=30) as answer:
            assert (answer.status, json.loads(answer.read())) == (202, {"inbox_id": 1, "status": "accepted"})
    finally:
        assert stop(proc) == 0
