"""Run the receiver under uvicorn: loopback by default, never elsewhere without auth on every source.

The socket is bound here (so `--port 0` can say which port it got, and a port in use is one
plain error line), then handed to uvicorn, which serves it with h11 until SIGINT or SIGTERM and
shuts down gracefully. uvicorn logs only warnings and errors, never an access line: the receiver
logs one line per request itself, with no header value in it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ir.core.alert_settings import AlertSettings
from ir.core.errors import InputError

GRACEFUL_S = 10
"""How long a shutdown waits for requests in flight (each is at most one inbox commit)."""


def is_loopback(host: str) -> bool:
    """Whether `host` is `localhost` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: AlertSettings, host: str) -> None:
    """Refuse a non-loopback `host` while any source in ir.yaml has no auth profile."""
    if is_loopback(host):
        return
    open_sources = [name for name, source in settings.sources.items() if source.auth is None]
    if open_sources:
        raise InputError(
            f"ir.yaml: alerts.sources.{open_sources[0]} has no auth: ir serve listens on {host} only when "
            "every source has an auth profile (bearer or hmac); add one, or listen on 127.0.0.1"
        )


def unset_secrets(settings: AlertSettings) -> list[str]:
    """One line per source or approver whose secret is in no environment variable (named, never shown)."""
    lines = []
    for name, source in settings.sources.items():
        if source.auth is None:
            continue
        if source.auth.bearer and not any(os.environ.get(env) for env in source.auth.bearer):
            lines.append(f"source {name}: none of {', '.join(source.auth.bearer)} is set: its deliveries are refused")
        if source.auth.hmac and not any(os.environ.get(env) for env in source.auth.hmac.secret_env):
            envs = ", ".join(source.auth.hmac.secret_env)
            lines.append(f"source {name}: none of {envs} is set: its deliveries are refused")
    for who, env in settings.approvals.tokens.items():
        if not os.environ.get(env):
            lines.append(f"approver {who}: {env} is not set: their approvals over HTTP are refused")
    return lines


def serve(
    app: Any,
    host: str,
    port: int,
    *,
    settings: AlertSettings,
    announce: Callable[[str], None],
    tls_certfile: str | None = None,
    tls_keyfile: str | None = None,
    tls_ca_certs: str | None = None,
    require_client_cert: bool = False,
) -> None:
    """Serve `app` on host:port until SIGINT/SIGTERM; `announce` gets the one "listening on" line
    once the socket accepts connections (with the real port when `port` is 0)."""
    check_bind(settings, host)
    if (tls_keyfile or tls_ca_certs or require_client_cert) and not tls_certfile:
        raise InputError("--tls-key and --tls-client-ca need --tls-cert (the server's certificate)")
    if require_client_cert and not tls_ca_certs:
        raise InputError("client certificates need --tls-client-ca (the CA that issued them)")
    # uvicorn is imported here, not at module level: its package loads click, which ir.alerts may not.
    import uvicorn

    config = uvicorn.Config(
        app,
        http="h11",
        ws="none",
        loop="asyncio",
        lifespan="off",
        interface="asgi3",
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_S,
        ssl_certfile=tls_certfile,
        ssl_keyfile=tls_keyfile,
        ssl_ca_certs=tls_ca_certs,
        ssl_cert_reqs=ssl.CERT_REQUIRED
        if require_client_cert
        else ssl.CERT_OPTIONAL
        if tls_ca_certs
        else ssl.CERT_NONE,
    )
    try:
        config.load()
    except (OSError, ssl.SSLError) as exc:
        raise InputError(f"{tls_certfile}: cannot load the TLS certificate, key or CA: {_why(exc)}") from None
    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    scheme = "https" if tls_certfile else "http"
    where = f"[{host.strip('[]')}]" if ":" in host else host
    count = len(settings.sources)
    announce(f"ir serve: listening on {scheme}://{where}:{bound} ({count} source{'' if count == 1 else 's'})")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: one the kernel picks)."""
    sock: socket.socket | None = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        return sock
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise InputError(f"{host}:{port}: cannot listen: {_why(exc)}") from None


def _why(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)).lower()
