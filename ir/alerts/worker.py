"""`ir serve`'s background side: deliveries from the receiver to the pipeline, approvals to cases.

The receiver commits a delivery, answers 202 and calls `notify`; a few worker threads take
delivery ids off a queue and run the pipeline on them. At start the workers first finish what
the inbox holds unfinished (a previous `ir serve` killed mid-way), so nothing accepted is lost.
Approvals that arrive over HTTP are queued the same way and resume their case as the approver.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ir.alerts.executor import CaseRequest, Executor
from ir.alerts.pipeline import Pipeline
from ir.core.recorder import Failpoint
from ir.core.records import Kind

log = logging.getLogger("ir.serve")

_STOP = object()


class Worker:
    """Processes deliveries and approvals off a queue, `threads` at a time."""

    def __init__(
        self,
        pipeline: Pipeline,
        executor: Executor,
        *,
        threads: int = 2,
        frozen: Callable[[float], None] | None = None,
    ) -> None:
        self.pipeline, self.executor = pipeline, executor
        self.threads = threads
        self.frozen = frozen
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._pauses: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._pending: set[int] = set()
        self._failpoint = Failpoint("delivery")  # crash tests: a kill right after the 202

    def start(self) -> None:
        """Queue what the inbox left unfinished, then start the worker threads."""
        for delivery in self.pipeline.inbox.unfinished():
            self.notify(delivery.id)
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"ir-alerts-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Let the threads finish their current job and end (what is queued stays in the inbox)."""
        for _ in self._threads:
            self._jobs.put(_STOP)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def notify(self, delivery_id: int) -> None:
        """A delivery was committed: process it soon (never blocks the receiver)."""
        with self._lock:
            if delivery_id in self._pending:
                return
            self._pending.add(delivery_id)
        self._jobs.put(("delivery", delivery_id))

    def approve(self, case_id: str, steps: list[str], by: str, reason: str) -> Mapping[str, Any]:
        """An approval from `by` (authenticated by the receiver), checked now — not a waiting step
        (400), not an approver (403), the agent busy (409) — then the case resumes with it, soon."""
        wanted = self.executor.check_approval(case_id, steps, by)
        case = str(self.executor.status(case_id)["case"])
        self._jobs.put(("approve", case, tuple(wanted), by, reason))
        return {"case": case, "status": "accepted", "approve": wanted, "by": by}

    def status(self, case_id: str) -> Mapping[str, Any]:
        """How a case stands."""
        return self.executor.status(case_id)

    def on_event(self, request: CaseRequest | None, event: Any) -> None:
        """Engine events of headless runs: time from the alert's arrival in the inbox (its
        `trigger.received`, so a delivery finished after a restart counts its whole wait) to its
        agent's container frozen, for the metrics."""
        if request is None or self.frozen is None:
            return
        key = (getattr(event, "case", None) or "", getattr(event, "step", None) or "")
        data = getattr(event, "data", {}) or {}
        if event.kind == Kind.STEP_STARTED and data.get("action") == "container.pause":
            with self._lock:
                self._pauses.add(key)
        elif event.kind == Kind.STEP_RESULT:
            with self._lock:
                paused = key in self._pauses
                self._pauses.discard(key)
            received = _epoch(request.trigger.get("received"))
            if paused and data.get("status") == "succeeded" and received is not None:
                self.frozen(max(0.0, time.time() - received))

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            try:
                self._run(job)
            except Exception as exc:  # one bad job must never stop the worker
                log.error("%s %s failed: %s: %s", job[0], job[1], type(exc).__name__, exc)
                if job[0] == "delivery":
                    self.pipeline.fail(int(job[1]), f"{type(exc).__name__}: {exc}")

    def _run(self, job: tuple[Any, ...]) -> None:
        if job[0] == "delivery":
            delivery_id = int(job[1])
            try:
                self._failpoint.hit(str(delivery_id))
                self.pipeline.process(delivery_id)
            finally:
                with self._lock:
                    self._pending.discard(delivery_id)
            return
        _kind, case_id, steps, by, reason = job
        outcome = self.executor.resume(case_id, actor=by, approve=frozenset(steps), reason=reason)
        log.info("case %s resumed on approval by %s: %s", case_id, by, outcome.status)


def _epoch(iso: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(iso)).timestamp() if iso else None
    except ValueError:
        return None
