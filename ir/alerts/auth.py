"""Is this request from the source it claims to be? Bearer tokens and body signatures, checked in constant time.

Every secret is read from the environment at check time (so a rotated value takes effect without
a restart) and compared with `hmac.compare_digest`; an unset or empty variable never matches.
Signatures are checked over the raw request bytes, before anything parses them:

| scheme | headers | signed bytes | replay defence |
|---|---|---|---|
| `standard-webhooks` | `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<b64> …` | `id.ts.body` | `window_s` |
| `github` | `X-Hub-Signature-256: sha256=<hex>` | body | none (the delivery id dedupes) |
| `grafana` | `X-Grafana-Alerting-Signature: <hex>` (+ timestamp header) | body, or `ts:body` | `window_s` if timed |

A refusal carries a reason code for metrics (`REASONS`) and never a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from standardwebhooks import Webhook

from ir.core.alert_settings import HmacAuth, SourceAuth

Reason = Literal["missing", "bad_token", "bad_signature", "stale", "not_configured"]
REASONS: tuple[Reason, ...] = ("missing", "bad_token", "bad_signature", "stale", "not_configured")
"""Why a request was refused: credentials absent; a token that matches none; a signature that does
not verify; a signed timestamp outside the replay window; no secret set in the environment."""

GRAFANA_SIGNATURE = "x-grafana-alerting-signature"
GRAFANA_TIMESTAMPS = ("x-grafana-alerting-signature-timestamp", "x-grafana-alerting-timestamp")
"""Grafana lets the sender name its timestamp header; these are the names read, first found wins."""
GITHUB_SIGNATURE = "x-hub-signature-256"
DELIVERY_HEADERS = (("webhook-id", "webhook-id"), ("ce-id", "ce-id"))
"""Headers that name one delivery (a retry repeats it), strongest first, with the key's prefix.
`X-GitHub-Delivery` is not one: GitHub does not sign it, so a captured body and signature could be
replayed under fresh ids; a GitHub-signed delivery is keyed by its body's sha256 instead."""
MAX_KEY = 200


@dataclass(frozen=True)
class Verdict:
    """What a check concluded: `ok`, or the reason code and a one-line detail safe to show the sender."""

    ok: bool
    reason: Reason | None = None
    detail: str = ""
    bearer: bool = False
    """The refusal concerns a bearer token (the answer carries `WWW-Authenticate: Bearer`)."""


OK = Verdict(ok=True)
_DETAIL: dict[Reason, str] = {
    "missing": "missing credentials",
    "bad_token": "wrong token",
    "bad_signature": "bad signature",
    "stale": "signature timestamp outside the replay window",
    "not_configured": "no token configured",
}


def refuse(reason: Reason, *, bearer: bool = False, detail: str = "") -> Verdict:
    """A refusal with the standard detail for `reason` (or a more precise one)."""
    return Verdict(ok=False, reason=reason, detail=detail or _DETAIL[reason], bearer=bearer)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def secrets_of(names: Iterable[str]) -> list[bytes]:
    """The non-empty values of the environment variables `names`, as bytes, read now."""
    return [value.encode() for name in names if (value := os.environ.get(name, ""))]


def bearer_principal(tokens: Iterable[tuple[str, str]], headers: Mapping[str, str]) -> tuple[str | None, Verdict]:
    """Which principal's token ((principal, environment variable) pairs) the `Authorization: Bearer`
    header carries; every configured token is compared, so the time taken does not say which matched."""
    given = _bearer_of(_lower(headers))
    configured = [(who, secret) for who, name in tokens for secret in secrets_of([name])]
    if not configured:
        return None, refuse("not_configured", bearer=True)
    if given is None:
        return None, refuse("missing", bearer=True)
    found: str | None = None
    for who, secret in configured:
        if hmac.compare_digest(secret, given) and found is None:
            found = who
    return (found, OK) if found is not None else (None, refuse("bad_token", bearer=True))


def _bearer_of(headers: Mapping[str, str]) -> bytes | None:
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token.encode("utf-8", "surrogateescape")


def check_bearer(auth: SourceAuth, headers: Mapping[str, str]) -> Verdict:
    """The bearer half of `auth` (OK when the source uses no bearer token); needs no body."""
    if not auth.bearer:
        return OK
    _, verdict = bearer_principal(((name, name) for name in auth.bearer), headers)
    return verdict


def check_signature(auth: SourceAuth, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> Verdict:
    """The signature half of `auth` over the raw `body` (OK when the source signs nothing)."""
    if auth.hmac is None:
        return OK
    lowered = _lower(headers)
    clock = time.time() if now is None else now
    if auth.hmac.scheme == "standard-webhooks":
        return _standard_webhooks(auth.hmac, lowered, body, clock)
    if auth.hmac.scheme == "github":
        return _github(auth.hmac, lowered, body)
    return _grafana(auth.hmac, lowered, body, clock)


def verify(auth: SourceAuth, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> Verdict:
    """Both halves: the bearer token (when configured), then the body signature (when configured)."""
    verdict = check_bearer(auth, headers)
    return verdict if not verdict.ok else check_signature(auth, headers, body, now=now)


def _standard_webhooks(spec: HmacAuth, headers: Mapping[str, str], body: bytes, now: float) -> Verdict:
    """Standard Webhooks: the `standardwebhooks` library decodes the `whsec_` secret and signs
    `id.timestamp.body`; the window is ours (`window_s`, where the library fixes 5 minutes)."""
    hooks = []
    for secret in secrets_of(spec.secret_env):
        try:
            hooks.append(Webhook(secret.decode()))
        except Exception:  # not base64, or empty once decoded: a misconfigured secret never matches
            continue
    if not hooks:
        return refuse("not_configured", detail="no signing secret configured")
    msg_id, stamp, signatures = (
        headers.get(h, "").strip() for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not (msg_id and stamp and signatures):
        return refuse("missing", detail="missing webhook-id, webhook-timestamp or webhook-signature")
    when = _timestamp(stamp)
    if when is None:
        return refuse("bad_signature", detail="webhook-timestamp is not a Unix time")
    if abs(now - when) > spec.window_s:
        return refuse("stale")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # the library signs text; such a body cannot carry a valid signature here
        return refuse("bad_signature", detail="bad signature (the body is not UTF-8)")
    given = [_b64(sig) for version, _, sig in (s.partition(",") for s in signatures.split()) if version == "v1"]
    expected = [_b64(h.sign(msg_id, datetime.fromtimestamp(when, UTC), text).partition(",")[2]) for h in hooks]
    return OK if _any_equal(expected, given) else refuse("bad_signature")


def _github(spec: HmacAuth, headers: Mapping[str, str], body: bytes) -> Verdict:
    """GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; no timestamp."""
    secrets = secrets_of(spec.secret_env)
    if not secrets:
        return refuse("not_configured", detail="no signing secret configured")
    header = headers.get(GITHUB_SIGNATURE, "").strip()
    if not header:
        return refuse("missing", detail="missing X-Hub-Signature-256")
    algo, _, hexsig = header.partition("=")
    if algo != "sha256":
        return refuse("bad_signature", detail="X-Hub-Signature-256 must be sha256=<hex>")
    expected = [hmac.new(s, body, hashlib.sha256).hexdigest().encode() for s in secrets]
    return OK if _any_equal(expected, [_ascii(hexsig.lower())]) else refuse("bad_signature")


def _grafana(spec: HmacAuth, headers: Mapping[str, str], body: bytes, now: float) -> Verdict:
    """Grafana 12: bare hex HMAC-SHA256 of the body, or of `ts:body` when a timestamp header is sent."""
    secrets = secrets_of(spec.secret_env)
    if not secrets:
        return refuse("not_configured", detail="no signing secret configured")
    header = headers.get(GRAFANA_SIGNATURE, "").strip()
    if not header:
        return refuse("missing", detail="missing X-Grafana-Alerting-Signature")
    stamp = next((headers[h].strip() for h in GRAFANA_TIMESTAMPS if h in headers), None)
    signed = body
    if stamp is not None:
        when = _timestamp(stamp)
        if when is None:
            return refuse("bad_signature", detail="the Grafana timestamp header is not a Unix time")
        if abs(now - when) > spec.window_s:
            return refuse("stale")
        signed = stamp.encode() + b":" + body
    expected = [hmac.new(s, signed, hashlib.sha256).hexdigest().encode() for s in secrets]
    return OK if _any_equal(expected, [_ascii(header.lower())]) else refuse("bad_signature")


def _timestamp(text: str) -> int | None:
    """Whole Unix seconds (both schemes send an integer), or None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _ascii(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _any_equal(expected: list[bytes], given: list[bytes]) -> bool:
    """Whether any given value equals any expected one; every pair is compared in constant time."""
    matched = False
    for want in expected:
        for got in given:
            matched |= bool(got) and hmac.compare_digest(want, got)
    return matched


def delivery_key(headers: Mapping[str, str]) -> str | None:
    """The sender's name for this delivery (`webhook-id:…`, `ce-id:…`), or None (the
    inbox then keys it by the body's sha256). A very long value is kept as its hash."""
    lowered = _lower(headers)
    for header, prefix in DELIVERY_HEADERS:
        value = lowered.get(header, "").strip()
        if value:
            if len(value) > MAX_KEY:
                value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
            return f"{prefix}:{value}"
    return None
