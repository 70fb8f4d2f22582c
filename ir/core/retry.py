"""Retry policy arithmetic: a pure delay function over the playbook's `retry:` data."""

from __future__ import annotations

from ir.core.playbook import Retry


def delay_for(policy: Retry, failed_attempts: int) -> float:
    """Seconds to wait after `failed_attempts` failures: exponential, capped at `max_delay`."""
    return float(min(policy.max_delay, policy.delay * (2 ** max(0, failed_attempts - 1))))
