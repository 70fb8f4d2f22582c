"""A source proves itself with a bearer token or a body signature; everything else is refused with a reason.

Standard Webhooks signatures are made by the real `standardwebhooks` library (`Webhook.sign`);
the GitHub check is pinned to the test vector in GitHub's "Validating webhook deliveries" docs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from ir.alerts.auth import delivery_key, verify
from ir.core.alert_settings import SourceAuth

BODY = (
    b'{"version": "4", "status": "firing", "receiver": "agent-ir", "alerts": [{"status": "firing", '
    b'"labels": {"alertname": "AgentEgressToUnknownHost", "agent_id": "billing-agent-7"}, '
    b'"fingerprint": "1a30ba71cca2921f", "startsAt": "2026-09-02T13:08:45.828Z"}]}'
)
NOW = 1_790_000_000.0
SECRET = "whsec_" + base64.b64encode(b"a 24-byte shared secret!").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"the old secret, rotated").decode()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_A", "tok-alpha-0123456789")
    monkeypatch.setenv("TOKEN_B", "tok-bravo-9876543210")
    monkeypatch.delenv("TOKEN_UNSET", raising=False)
    monkeypatch.setenv("TOKEN_EMPTY", "")
    monkeypatch.setenv("SW_SECRET", SECRET)
    monkeypatch.setenv("SW_OLD", OTHER_SECRET)
    monkeypatch.setenv("GH_SECRET", "It's a Secret to Everybody")
    monkeypatch.setenv("GF_SECRET", "grafana-shared-secret")


def bearer(*names: str) -> SourceAuth:
    return SourceAuth.model_validate({"bearer": list(names)})


def signed(scheme: str, *envs: str, window_s: int = 300) -> SourceAuth:
    return SourceAuth.model_validate({"hmac": {"scheme": scheme, "secret_env": list(envs), "window_s": window_s}})


def reason(auth: SourceAuth, headers: dict[str, str], body: bytes = BODY, now: float = NOW) -> str | None:
    verdict = verify(auth, headers, body, now=now)
    assert verdict.ok == (verdict.reason is None)
    return verdict.reason


# -- bearer tokens ---------------------------------------------------------------------------------


def test_the_right_bearer_token_is_accepted_and_a_wrong_or_missing_one_is_not() -> None:
    auth = bearer("TOKEN_A")
    assert reason(auth, {"Authorization": "Bearer tok-alpha-0123456789"}) is None
    assert reason(auth, {"authorization": "bearer tok-alpha-0123456789"}) is None
    assert reason(auth, {"Authorization": "Bearer tok-alpha-012345678"}) == "bad_token"
    assert reason(auth, {"Authorization": "Bearer tok-bravo-9876543210"}) == "bad_token"
    assert reason(auth, {}) == "missing"
    assert reason(auth, {"Authorization": "Basic dG9rLWFscGhh"}) == "missing"
    assert reason(auth, {"Authorization": "Bearer "}) == "missing"
    verdict = verify(auth, {"Authorization": "Bearer nope"}, BODY)
    assert verdict.bearer and verdict.detail == "wrong token"


def test_a_rotated_token_works_under_either_name_while_both_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = bearer("TOKEN_A", "TOKEN_B")
    assert reason(auth, {"Authorization": "Bearer tok-alpha-0123456789"}) is None
    assert reason(auth, {"Authorization": "Bearer tok-bravo-9876543210"}) is None
    monkeypatch.delenv("TOKEN_A")  # rotation done: the old token stops working at once, no restart
    assert reason(auth, {"Authorization": "Bearer tok-alpha-0123456789"}) == "bad_token"
    assert reason(auth, {"Authorization": "Bearer tok-bravo-9876543210"}) is None


def test_an_unset_or_empty_variable_never_matches_and_none_set_says_so() -> None:
    assert reason(bearer("TOKEN_EMPTY", "TOKEN_A"), {"Authorization": "Bearer tok-alpha-0123456789"}) is None
    verdict = verify(bearer("TOKEN_UNSET", "TOKEN_EMPTY"), {"Authorization": "Bearer x"}, BODY)
    assert (verdict.reason, verdict.detail) == ("not_configured", "no token configured")
    assert reason(bearer("TOKEN_UNSET", "TOKEN_EMPTY"), {}) == "not_configured"


# -- Standard Webhooks -----------------------------------------------------------------------------


def sw_headers(secret: str, body: bytes = BODY, at: float = NOW, msg_id: str = "msg_2LJk9v") -> dict[str, str]:
    """Headers as a Standard Webhooks sender makes them, signed by the reference library."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at)), "webhook-signature": signature}


def test_standard_webhooks_signed_by_the_library_verifies_and_a_tampered_body_does_not() -> None:
    auth = signed("standard-webhooks", "SW_SECRET")
    headers = sw_headers(SECRET)
    assert reason(auth, headers) is None
    assert reason(auth, headers, BODY.replace(b"billing-agent-7", b"billing-agent-8")) == "bad_signature"
    assert reason(auth, {**headers, "webhook-id": "msg_other"}) == "bad_signature"  # the id is signed too
    assert reason(auth, sw_headers(OTHER_SECRET)) == "bad_signature"
    for header in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        assert reason(auth, {k: v for k, v in headers.items() if k != header}) == "missing"


def test_standard_webhooks_accepts_any_of_several_signatures_and_either_rotated_secret() -> None:
    auth = signed("standard-webhooks", "SW_OLD", "SW_SECRET")
    good = sw_headers(SECRET)
    stale_sig = sw_headers(OTHER_SECRET, body=b"{}")["webhook-signature"]
    several = {**good, "webhook-signature": f"v1a,AAAA {stale_sig} {good['webhook-signature']}"}
    assert reason(auth, several) is None
    assert reason(auth, sw_headers(OTHER_SECRET)) is None
    assert reason(signed("standard-webhooks", "SW_SECRET"), {**good, "webhook-signature": stale_sig}) == (
        "bad_signature"
    )


def test_standard_webhooks_replay_outside_the_window_is_stale_and_the_window_is_ours() -> None:
    headers = sw_headers(SECRET, at=NOW - 301)
    assert reason(signed("standard-webhooks", "SW_SECRET"), headers) == "stale"
    assert reason(signed("standard-webhooks", "SW_SECRET"), sw_headers(SECRET, at=NOW + 301)) == "stale"
    # a 1-hour window accepts what the library's fixed 5 minutes would refuse
    assert reason(signed("standard-webhooks", "SW_SECRET", window_s=3600), sw_headers(SECRET, at=NOW - 1800)) is None
    assert reason(signed("standard-webhooks", "SW_SECRET", window_s=3600), sw_headers(SECRET, at=NOW - 3601)) == (
        "stale"
    )
    assert reason(signed("standard-webhooks", "SW_SECRET"), {**sw_headers(SECRET), "webhook-timestamp": "soon"}) == (
        "bad_signature"
    )


def test_standard_webhooks_without_a_secret_in_the_environment_is_not_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SW_SECRET", "")
    assert reason(signed("standard-webhooks", "SW_SECRET", "TOKEN_UNSET"), sw_headers(SECRET)) == "not_configured"


# -- GitHub ------------------------------------------------------------------------------------------


def test_github_signature_matches_githubs_own_test_vector() -> None:
    auth = signed("github", "GH_SECRET")
    vector = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert reason(auth, {"X-Hub-Signature-256": vector}, b"Hello, World!") is None
    assert reason(auth, {"X-Hub-Signature-256": vector}, b"Hello, World?") == "bad_signature"
    assert reason(auth, {"X-Hub-Signature-256": vector.replace("sha256=", "sha1=")}, b"Hello, World!") == (
        "bad_signature"
    )
    assert reason(auth, {"X-Hub-Signature": "sha1=0000"}, b"Hello, World!") == "missing"
    assert reason(signed("github", "TOKEN_A"), {"X-Hub-Signature-256": vector}, b"Hello, World!") == "bad_signature"


# -- Grafana -----------------------------------------------------------------------------------------


def grafana_sig(body: bytes, stamp: str | None = None) -> str:
    signed_bytes = body if stamp is None else stamp.encode() + b":" + body
    return hmac.new(b"grafana-shared-secret", signed_bytes, hashlib.sha256).hexdigest()


def test_grafana_signs_the_body_or_timestamp_colon_body() -> None:
    auth = signed("grafana", "GF_SECRET")
    assert reason(auth, {"X-Grafana-Alerting-Signature": grafana_sig(BODY)}) is None
    assert reason(auth, {"X-Grafana-Alerting-Signature": grafana_sig(BODY)}, BODY + b" ") == "bad_signature"
    assert reason(auth, {}) == "missing"
    stamp = str(int(NOW) - 10)
    timed = {"X-Grafana-Alerting-Signature": grafana_sig(BODY, stamp), "X-Grafana-Alerting-Signature-Timestamp": stamp}
    assert reason(auth, timed) is None
    # the signature over the body alone does not survive a timestamp being added (or the other way)
    assert reason(auth, {**timed, "X-Grafana-Alerting-Signature": grafana_sig(BODY)}) == "bad_signature"
    assert reason(auth, {"X-Grafana-Alerting-Signature": grafana_sig(BODY, stamp)}) == "bad_signature"


def test_grafana_replay_outside_the_window_is_stale() -> None:
    stamp = str(int(NOW) - 900)
    timed = {"X-Grafana-Alerting-Signature": grafana_sig(BODY, stamp), "X-Grafana-Alerting-Timestamp": stamp}
    assert reason(signed("grafana", "GF_SECRET"), timed) == "stale"
    assert reason(signed("grafana", "GF_SECRET", window_s=1000), timed) is None


# -- both, and the delivery key ----------------------------------------------------------------------


def test_a_source_with_a_token_and_a_signature_needs_both() -> None:
    auth = SourceAuth.model_validate({"bearer": "TOKEN_A", "hmac": {"scheme": "github", "secret_env": "GH_SECRET"}})
    sig = "sha256=" + hmac.new(b"It's a Secret to Everybody", BODY, hashlib.sha256).hexdigest()
    assert reason(auth, {"Authorization": "Bearer tok-alpha-0123456789", "X-Hub-Signature-256": sig}) is None
    assert reason(auth, {"X-Hub-Signature-256": sig}) == "missing"
    assert reason(auth, {"Authorization": "Bearer tok-alpha-0123456789"}) == "missing"


def test_the_delivery_key_is_the_senders_delivery_id() -> None:
    assert delivery_key({"Webhook-Id": " msg_1 ", "ce-id": "x"}) == "webhook-id:msg_1"
    # GitHub does not sign its delivery id: a replay under a fresh id must still be a duplicate
    assert delivery_key({"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}) is None
    assert delivery_key({"ce-id": "audit_9f1c"}) == "ce-id:audit_9f1c"
    assert delivery_key({"content-type": "application/json", "webhook-id": ""}) is None
    long = delivery_key({"webhook-id": "x" * 5000})
    assert long is not None and long.startswith("webhook-id:sha256:") and len(long) < 100


def test_wall_clock_is_the_default_now() -> None:
    assert verify(signed("standard-webhooks", "SW_SECRET"), sw_headers(SECRET, at=time.time()), BODY).ok
