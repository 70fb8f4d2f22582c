"""What formats share to score a detection sample: how many sampled lines are theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ir.timeline.sources.sample import NO, Sample, Score


def line_share(s: Sample, match: Callable[[dict[str, Any]], bool]) -> tuple[int, int]:
    """(matching objects, all objects) among the sampled lines."""
    objects = s.objects
    return sum(1 for o in objects if match(o)), len(objects)


def share_score(hits: int, total: int, what: str, base: int = 60) -> Score:
    """A line format's score from how many sampled lines are its own: any at all passes."""
    if not hits or not total:
        return NO
    return Score(base + (100 - base) * hits // total, f"{hits} of {total} sampled lines are {what}")
