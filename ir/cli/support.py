"""What every `ir` command shares: one-line errors with exit codes, the workspace, the actor."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from ir.core.errors import ExitCode, IrError
from ir.core.text import neutralise


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print one plain error line on stderr and exit with `code`."""
    click.echo(f"ir: error: {neutralise(message)}", err=True)
    sys.exit(int(code))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ir errors into one line on stderr and the documented exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except IrError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", ExitCode.INTERRUPTED)
        except OSError as exc:  # a write the core does not wrap (a derived file, a new case folder)
            from ir.core.evidence import STORAGE_ERRNOS

            code = ExitCode.STORAGE if exc.errno in STORAGE_ERRNOS else ExitCode.STEP_FAILED
            problem = (exc.strerror or str(exc)).lower()
            fail(f"{exc.filename}: {problem}" if exc.filename else problem, code)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def workspace_of(ctx: click.Context) -> Any:
    from ir.core.workspace import find_workspace

    ws = find_workspace(ctx.obj.get("workspace"))
    if ws.ignored and not ctx.obj.get("ignored_warned"):  # once per command: a bad signer must not stop a run
        ctx.obj["ignored_warned"] = True
        for _principal, note in ws.ignored:
            click.echo(f"warning: {neutralise(note)}", err=True)
    return ws


def actor_of(explicit: str | None) -> str:
    if explicit:
        return explicit
    return os.environ.get("IR_USER") or getpass.getuser()
