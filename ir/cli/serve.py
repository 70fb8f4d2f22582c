"""`ir serve`: receive alerts over HTTP into the workspace's inbox (a thin layer over ir.alerts)."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click

from ir.cli.support import guarded, workspace_of
from ir.core.text import neutralise

log = logging.getLogger("ir.serve")

Seam = tuple[
    Callable[[int], None],
    Callable[[str, list[str], str, str], Mapping[str, Any]] | None,
    Callable[[str], Mapping[str, Any]] | None,
    Callable[[], None],
    Callable[[], None],
]


def _worker(ws: Any, inbox: Any, metrics: Any) -> Seam:
    """The alert worker: `(on_accepted, approve, status, start, stop)` over the pipeline."""
    from ir.alerts.worker import Worker
    from ir.cli.alerts import runtime

    hook: list[Any] = []
    _inbox, pipeline, executor = runtime(
        ws, on_event=lambda request, event: hook[0].on_event(request, event) if hook else None, inbox=inbox
    )
    pipeline.on_case_started = metrics.case_started
    worker = Worker(pipeline, executor, threads=2, frozen=metrics.frozen)
    hook.append(worker)

    def approve(case_id: str, steps: list[str], by: str, reason: str) -> Mapping[str, Any]:
        return worker.approve(case_id, [] if steps == ["*"] else steps, by, reason)

    return worker.notify, approve, worker.status, worker.start, worker.stop


class _OneLine(logging.Formatter):
    """`ir serve: message`, control characters shown as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        return "ir serve: " + neutralise(record.getMessage())


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (not loopback: every source needs auth).",
)
@click.option(
    "--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one, printed)."
)
@click.option(
    "--tls-cert", type=click.Path(dir_okay=False, exists=True), help="Serve HTTPS with this certificate (PEM)."
)
@click.option("--tls-key", type=click.Path(dir_okay=False, exists=True), help="The certificate's private key (PEM).")
@click.option(
    "--tls-client-ca",
    type=click.Path(dir_okay=False, exists=True),
    help="Require client certificates issued by this CA (mutual TLS).",
)
@click.pass_context
@guarded
def serve_cmd(
    ctx: click.Context, host: str, port: int, tls_cert: str | None, tls_key: str | None, tls_client_ca: str | None
) -> None:
    """Receive alerts over HTTP: POST /v1/alerts/SOURCE into the workspace's inbox, until stopped."""
    from ir.alerts.inbox import Inbox
    from ir.alerts.metrics import Metrics
    from ir.alerts.receive import create_app
    from ir.alerts.server import check_bind, serve, unset_secrets

    ws = workspace_of(ctx)
    settings = ws.settings.alerts
    check_bind(settings, host)  # before anything is opened
    _log_to_stderr()
    for line in unset_secrets(settings):
        click.echo(f"warning: {line}", err=True)
    inbox = Inbox(ws.path(settings.inbox))
    metrics = Metrics(settings.sources)
    on_accepted, approve, status, start, stop = _worker(ws, inbox, metrics)
    app = create_app(settings, inbox, on_accepted=on_accepted, approve=approve, status=status, metrics=metrics)

    def stop_on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)  # uvicorn re-raises it after its graceful shutdown
    try:
        start()
        serve(
            app,
            host,
            port,
            settings=settings,
            announce=click.echo,
            tls_certfile=tls_cert,
            tls_keyfile=tls_key,
            tls_ca_certs=tls_client_ca,
            require_client_cert=tls_client_ca is not None,
        )
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        inbox.close()
    click.echo("ir serve: stopped")
