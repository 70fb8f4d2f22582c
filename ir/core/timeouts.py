"""Step timeouts: run a call in a thread and stop waiting for it when its time is up."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from ir.core.errors import TransientError
from ir.core.recorder import CaseEvidence


class StepTimeout(TransientError):
    """A step ran longer than its `timeout`."""

    transient = False


def call_with_timeout(fn: Callable[[], Any], timeout: float | None, sink: CaseEvidence) -> Any:
    """Run `fn`; past `timeout` seconds abandon it (its later writes to the case are refused)."""
    if timeout is None:
        return fn()
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def target() -> None:
        try:
            box.put((True, fn()))
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            box.put((False, exc))

    threading.Thread(target=target, daemon=True, name="ir-step").start()
    try:
        ok, value = box.get(timeout=timeout)
    except queue.Empty:
        sink.close()
        raise StepTimeout(f"timed out after {timeout:g}s (the call may still complete: resume verifies)") from None
    if ok:
        return value
    raise value
