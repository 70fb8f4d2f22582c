"""The `ir serve` ASGI app: authenticate, store in the inbox, answer. Nothing else.

    POST /v1/alerts/{source}          202 {"inbox_id", "status": "accepted"} · 200 duplicate
                                      401 auth · 404 unknown source · 413 over 1 MiB · 400 bad body · 503 inbox
    POST /v1/cases/{case_id}/approvals  an approver's own token; 202 with what `approve` returned
    GET  /v1/cases/{case_id}          `status(case_id)`; any approval or source bearer token
    GET  /healthz                     {"ok": true, "inbox": {...}}
    GET  /metrics                     Prometheus text

A delivery is committed to the inbox before the 202 (the inbox fsyncs); normalising, resolving
and routing happen after, in the pipeline `on_accepted` wakes. Authorization and signature
headers are never stored, and no log line carries a header value.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ir.alerts.auth import Verdict, bearer_principal, check_bearer, check_signature, delivery_key
from ir.alerts.inbox import Inbox, InboxError
from ir.alerts.metrics import UNKNOWN_SOURCE, Metrics
from ir.core.alert_settings import AlertSettings
from ir.core.errors import AgentBusy, ApprovalRefused, CaseError, CaseLocked, InputError, IrError
from ir.core.playbook import STEP_ID
from ir.core.text import neutralise

log = logging.getLogger("ir.serve")

MAX_BODY = 1 << 20
"""An alert body larger than 1 MiB is refused (413); no sender in alerts.md comes near it."""
MAX_APPROVAL_BODY = 64 << 10
MAX_DEPTH = 64
"""Arrays and objects nested deeper than this are refused before parsing (a hostile body can nest
far enough to exhaust the parser's stack)."""
RETRY_AFTER_S = 5
VIA = "serve"
"""The inbox's `via` for deliveries that came over HTTP."""
ALL_STEPS = "*"
"""`approve`'s steps for `{"all": true}`: every step that waits."""
CASE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

KEEP_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "x-github-delivery",
        "x-github-event",
        "x-request-id",
    }
)
KEEP_PREFIXES = ("ce-", "x-amz-", "x-amzn-", "x-grafana-")
NEVER_KEEP = ("authorization", "signature", "token", "secret", "cookie", "password", "credential", "key", "auth")
"""A header whose name holds one of these is never stored, even under a kept prefix."""
MAX_HEADER_VALUE = 1024

Decoder = Callable[[bytes], object]
Approve = Callable[[str, list[str], str, str], Mapping[str, Any]]
"""`approve(case_id, steps, by, reason)`: steps are step ids, or `[ALL_STEPS]`; `by` is the principal
whose token authenticated. Raises LookupError for an unknown case, ApprovalRefused (403), AgentBusy,
CaseLocked or CaseError (409), InputError (400)."""
Status = Callable[[str], Mapping[str, Any]]
"""`status(case_id)`: the case as JSON; raises LookupError for an unknown case."""


class BodyError(ValueError):
    """A body that is not one strict UTF-8 JSON document; the message is the reason the sender sees."""


_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
"""A JSON string (skipped whole, so brackets inside strings do not count) or one bracket."""


def decode_body(body: bytes) -> object:
    """`body` as JSON: strict UTF-8, no NaN/Infinity, no duplicate keys, nested at most MAX_DEPTH."""
    if not body.strip():
        raise BodyError("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body is not UTF-8 (invalid byte at offset {exc.start})") from None
    depth = 0
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if char in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise BodyError(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif char in ("]", "}"):
            depth -= 1
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BodyError(f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # two parsers may keep different ones: an agent id must mean one thing
            raise BodyError(f"body is not JSON we accept: duplicate key {neutralise(key[:64])!r} in an object")
        out[key] = value
    return out


def _no_constant(name: str) -> object:
    raise BodyError(f"body is not JSON: {name} is not a JSON number")


def kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers worth storing with a delivery (content type, sender, delivery ids, CloudEvents
    `ce-*`, `x-amz-*`, `x-grafana-*`), never a credential or a signature."""
    kept: dict[str, str] = {}
    for raw_name, value in headers:
        name = raw_name.lower()
        if any(part in name for part in NEVER_KEEP):
            continue
        if name in KEEP_HEADERS or name.startswith(KEEP_PREFIXES):
            kept[name] = value[:MAX_HEADER_VALUE]
    return kept


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


def _unauthorized(verdict: Verdict) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="ir serve"'} if verdict.bearer else {}
    return _error(401, verdict.detail, headers)


async def _read_capped(request: Request, cap: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `cap` (what is past the cap is never kept)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class _Receiver:
    """The endpoints, over one workspace's settings, inbox and the pipeline's callbacks."""

    def __init__(
        self,
        settings: AlertSettings,
        inbox: Inbox,
        on_accepted: Callable[[int], None],
        approve: Approve | None,
        status: Status | None,
        metrics: Metrics,
        decode: Decoder,
    ) -> None:
        self.settings, self.inbox, self.metrics, self.decode = settings, inbox, metrics, decode
        self.on_accepted, self.approve_fn, self.status_fn = on_accepted, approve, status

    async def alert(self, request: Request) -> Response:
        """POST /v1/alerts/{source}."""
        name = request.path_params["source"]
        source = self.settings.sources.get(name)
        if source is None:
            self.metrics.rejected(UNKNOWN_SOURCE, "unknown_source")
            log.info("alerts/%s: 404 unknown source", neutralise(name[:64]))
            return _error(404, "unknown source")
        self.metrics.received(name)
        if source.auth is not None and not (verdict := check_bearer(source.auth, request.headers)).ok:
            return self._refused(name, verdict)
        body = await _read_capped(request, MAX_BODY)
        if body is None:
            self.metrics.rejected(name, "too_large")
            log.info("alerts/%s: 413 body over %d bytes", name, MAX_BODY)
            return _error(413, f"body larger than {MAX_BODY} bytes")
        if source.auth is not None and not (verdict := check_signature(source.auth, request.headers, body)).ok:
            return self._refused(name, verdict)
        try:
            self.decode(body)
        except ValueError as exc:
            self.metrics.rejected(name, "bad_body")
            log.info("alerts/%s: 400 %s", name, exc)
            return _error(400, str(exc))
        try:
            accepted = await run_in_threadpool(
                self.inbox.accept,
                source=name,
                fmt=source.format,
                body=body,
                delivery_key=delivery_key(request.headers),
                headers=kept_headers(request.headers.items()),
                via=VIA,
            )
        except InboxError as exc:
            self.metrics.rejected(name, "inbox_error")
            log.error("alerts/%s: 503 %s", name, exc)
            return _error(503, "the alert inbox could not be written; retry", {"Retry-After": str(RETRY_AFTER_S)})
        if accepted.duplicate:
            self.metrics.duplicate(name)
            log.info("alerts/%s: 200 duplicate of inbox %d", name, accepted.id)
            return JSONResponse({"inbox_id": accepted.id, "status": "duplicate"}, status_code=200)
        log.info("alerts/%s: 202 accepted inbox %d", name, accepted.id)
        try:
            self.on_accepted(accepted.id)
        except Exception as exc:  # committed already: the worker finds it in the inbox on its next pass
            log.error("alerts/%s: inbox %d accepted, but waking the worker failed: %s", name, accepted.id, exc)
        return JSONResponse({"inbox_id": accepted.id, "status": "accepted"}, status_code=202)

    def _refused(self, name: str, verdict: Verdict) -> Response:
        reason = verdict.reason or "bad_token"
        self.metrics.rejected(name, reason)
        log.info("alerts/%s: 401 %s", name, reason)
        return _unauthorized(verdict)

    async def approvals(self, request: Request) -> Response:
        """POST /v1/cases/{case_id}/approvals: who approved is the token's principal, never the body."""
        by, verdict = bearer_principal(self.settings.approvals.tokens.items(), request.headers)
        if by is None:
            log.info("approvals: 401 %s", verdict.reason)
            return _unauthorized(verdict)
        case_id = request.path_params["case_id"]
        if not CASE_REF.match(case_id) or ".." in case_id:
            return _error(404, "no such case")
        if self.approve_fn is None:
            return _error(501, "approvals over HTTP are not available in this server")
        body = await _read_capped(request, MAX_APPROVAL_BODY)
        if body is None:
            return _error(413, f"body larger than {MAX_APPROVAL_BODY} bytes")
        try:
            steps, reason = _approval_request(self.decode(body))
        except ValueError as exc:
            return _error(400, str(exc))
        log.info("approvals: %s approves %s in case %s", by, ",".join(steps), case_id)
        return await self._call(case_id, 202, self.approve_fn, case_id, steps, by, reason)

    async def case(self, request: Request) -> Response:
        """GET /v1/cases/{case_id}: any approval token or any source's bearer token."""
        tokens = [*self.settings.approvals.tokens.items()]
        for source in self.settings.sources.values():
            tokens += [(name, name) for name in (source.auth.bearer if source.auth else ())]
        who, verdict = bearer_principal(tokens, request.headers)
        if who is None:
            return _unauthorized(verdict)
        case_id = request.path_params["case_id"]
        if not CASE_REF.match(case_id) or ".." in case_id:
            return _error(404, "no such case")
        if self.status_fn is None:
            return _error(501, "case status is not available in this server")
        return await self._call(case_id, 200, self.status_fn, case_id)

    async def _call(self, case_id: str, ok: int, fn: Callable[..., Mapping[str, Any]], *args: Any) -> Response:
        try:
            result = await run_in_threadpool(fn, *args)
        except LookupError:
            return _error(404, f"no such case {case_id}")
        except ApprovalRefused as exc:
            log.info("case %s: 403 %s", case_id, exc)
            return _error(403, str(exc))
        except (AgentBusy, CaseLocked, CaseError) as exc:
            return _error(409, str(exc))
        except InputError as exc:
            return _error(400, str(exc))
        except IrError as exc:
            log.error("case %s: %s", case_id, exc)
            return _error(500, str(exc))
        return JSONResponse(dict(result), status_code=ok)

    async def healthz(self, _request: Request) -> Response:
        """GET /healthz: the inbox answers (no path, no secret)."""
        try:
            counts = await run_in_threadpool(self.inbox.counts)
        except (InboxError, sqlite3.Error):
            return JSONResponse({"ok": False, "inbox": "unavailable"}, status_code=503)
        return JSONResponse({"ok": True, "inbox": {"alerts": counts}})

    async def metrics_text(self, _request: Request) -> Response:
        """GET /metrics."""
        return Response(self.metrics.render(), media_type=self.metrics.content_type)


def _approval_request(data: object) -> tuple[list[str], str]:
    """`{"steps": [...], "reason": "..."}` or `{"all": true, "reason": "..."}` → (steps, reason)."""
    if not isinstance(data, dict):
        raise ValueError('expected {"steps": [STEP, ...], "reason": TEXT} or {"all": true}')
    unknown = sorted(set(data) - {"steps", "all", "reason"})
    if unknown:
        raise ValueError(f"unknown field {neutralise(unknown[0][:64])!r} (who approves is the token's principal)")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 2000:
        raise ValueError("reason must be text of at most 2000 characters")
    steps, every = data.get("steps"), data.get("all", False)
    if every is not True and every is not False:
        raise ValueError('"all" must be true or false')
    if every:
        if steps is not None:
            raise ValueError('give "steps" or "all", not both')
        return [ALL_STEPS], reason
    if not isinstance(steps, list) or not steps:
        raise ValueError('"steps" must be a non-empty list of step ids (or give "all": true)')
    for step in steps:
        if not isinstance(step, str) or not re.match(STEP_ID, step):
            raise ValueError(f"{neutralise(str(step)[:64])!r} is not a step id")
    return list(dict.fromkeys(steps)), reason


def create_app(
    settings: AlertSettings,
    inbox: Inbox,
    *,
    on_accepted: Callable[[int], None],
    approve: Approve | None = None,
    status: Status | None = None,
    metrics: Metrics | None = None,
    decode: Decoder = decode_body,
) -> Starlette:
    """The receiver for one workspace. `on_accepted(inbox_id)` is called after each 202 on the event
    loop, so it must not block (put the id on a queue). `decode` raises ValueError with the reason a
    body is refused (400)."""
    receiver = _Receiver(settings, inbox, on_accepted, approve, status, metrics or Metrics(settings.sources), decode)
    app = Starlette(
        routes=[
            Route("/v1/alerts/{source}", receiver.alert, methods=["POST"]),
            Route("/v1/cases/{case_id}/approvals", receiver.approvals, methods=["POST"]),
            Route("/v1/cases/{case_id}", receiver.case, methods=["GET"]),
            Route("/healthz", receiver.healthz, methods=["GET"]),
            Route("/metrics", receiver.metrics_text, methods=["GET"]),
        ]
    )
    app.state.metrics = receiver.metrics
    return app
