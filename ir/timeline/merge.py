"""Streaming merge: per-source sort with bounded memory, clock offsets, one flat merge of every run.

No source is assumed ordered. Each source is sorted in runs of at most `RUN` records
(`records`: an event's sort key, its facts and its rendered line); runs are written to files
(all of a worker's, every one but the last in this process), so memory stays flat in input size.
Every run of every source is merged at once, in blocks: all records up to the smallest last key
of the blocks in hand are taken and sorted together (in C), so the merge costs no Python step per
event.

Clock offsets are estimated per source from matched pairs: a tool call running an AWS command
and the CloudTrail record of that call (CloudTrail's clock is the reference), or the same call
id seen in two sources. The median difference is reported and, above a second, applied; the raw
time is always kept in `ts_raw`.
"""

from __future__ import annotations

import os
import statistics
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from ir.timeline.detect import Facts
from ir.timeline.model import Event
from ir.timeline.records import Record, blocks, read_run, shifted

RUN = 50_000
"""Events held in memory per source while sorting; a larger source is sorted in spilled runs."""
DEDUP_WINDOW_NS = 2_000_000_000
DEDUP_MAX = 50_000
ANCHORS_MAX = 50_000
APPLY_OFFSET_ABOVE_NS = 1_000_000_000
PRIORITY = ("cloudtrail", "otel", "claude", "codex", "mcp", "jsonl", "docker")


@dataclass
class Anchors:
    """Small per-source facts gathered while sorting, used to estimate clock offsets."""

    calls: dict[tuple[str, str], int] = field(default_factory=dict)
    aws: list[tuple[str, int]] = field(default_factory=list)
    cloud: dict[str, list[int]] = field(default_factory=dict)
    call_keys: bytes | None = b""
    """`hash((call id, kind))` of every record with a call id (an array of int64), or None when
    there were too many to hand over (`may_fold` then says yes)."""

    def keep(self, cloud_wanted: set[str]) -> None:
        """Forget cloud anchors of API names no tool source wants (a worker noted them all)."""
        self.cloud = {name: times for name, times in self.cloud.items() if name in cloud_wanted}

    def note(self, e: Event, facts: Facts | None, cloud_wanted: set[str] | Everything) -> None:
        """Remember what this event can anchor (`facts`: its `detect.tool_facts`, for a tool event)."""
        tool = e.get("tool")
        kind = e["kind"]
        if tool and tool.get("call_id") and len(self.calls) < ANCHORS_MAX:
            self.calls.setdefault((str(tool["call_id"]), kind), e["ts"])
        if kind == "tool_call" and facts is not None and facts[5] and len(self.aws) < ANCHORS_MAX:
            self.aws.extend((op, e["ts"]) for op in facts[5])
        if kind == "cloud_api_call":
            name = e["action"].split(":", 1)[-1]
            times = self.cloud.get(name)
            if times is None:
                if name in cloud_wanted:
                    self.cloud[name] = [e["ts"]]
            elif len(times) < ANCHORS_MAX:  # (wanted when first noted: what is wanted only grows)
                times.append(e["ts"])


class Everything:
    """A `cloud_wanted` that wants every API name (a worker cannot know which the tool sources
    want; the parent keeps only those afterwards, with `Anchors.keep`)."""

    def __contains__(self, name: object) -> bool:
        return True


Run = list[Record] | IO[bytes]
"""A sorted run: in memory, or an open run file (`records.write_run`)."""


class SortedSource:
    """One source's records in sorted runs, its clock anchors, and its clock offset once known."""

    def __init__(self, name: str, anchors: Anchors, runs: list[Run]) -> None:
        self.name = name
        self.format = name.split(":", 1)[0]
        self.anchors = anchors
        self.offset_ns = 0
        self.runs = runs

    @classmethod
    def from_files(cls, name: str, paths: list[str], anchors: Anchors) -> SortedSource:
        """A source whose sorted runs a worker wrote to `paths` (unlinked here once open)."""
        runs: list[Run] = []
        for path in paths:
            runs.append(open(path, "rb"))  # noqa: SIM115 (kept open until the merge reads it)
            os.unlink(path)
        return cls(name, anchors, runs)

    def blocks(self) -> list[Iterator[list[Record]]]:
        """Each run as sorted blocks of records, times corrected by the offset."""
        found = [blocks(run) if isinstance(run, list) else read_run(run) for run in self.runs]
        self.runs = []
        if self.offset_ns:
            offset = self.offset_ns
            return [(shifted(block, offset) for block in run) for run in found]
        return found

    def close(self) -> None:
        """Drop runs that were never read."""
        for run in self.runs:
            if not isinstance(run, list):
                run.close()
        self.runs = []


CALL_KEYS_MAX = 2_000_000
"""More call ids than this in a source: not handed over (memory stays flat), dedup kept on."""


def may_fold(sources: list[SortedSource], ranks: list[int]) -> bool:
    """Whether a tool call of one source can be folded into one of another: some call id (with its
    kind) is in sources of two different names. When none is, the dedup window has nothing to do
    (hashes equal for equal calls: a collision only keeps it on). Only the smaller names' keys are
    held in a set; the largest's are only looked up."""
    by_rank: dict[int, list[bytes]] = {}
    for src, rank in zip(sources, ranks, strict=True):
        keys = src.anchors.call_keys
        src.anchors.call_keys = b""
        if keys is None:
            return True
        if keys:
            by_rank.setdefault(rank, []).append(keys)
    if len(by_rank) < 2:
        return False
    names = sorted(by_rank.values(), key=lambda found: sum(len(keys) for keys in found))
    seen: set[int] = set()
    for n, found in enumerate(names):
        for keys in found:
            if not seen.isdisjoint(memoryview(keys).cast("q")):
                return True
        if n < len(names) - 1:
            for keys in found:
                seen.update(memoryview(keys).cast("q"))
    return False


def estimate_offsets(sources: list[SortedSource]) -> dict[str, dict[str, Any]]:
    """Per source: the median offset to the reference clock from matched pairs, and whether it was applied."""
    report: dict[str, dict[str, Any]] = {}
    clouds = [s for s in sources if s.format == "cloudtrail"]
    ranked = sorted(sources, key=lambda s: PRIORITY.index(s.format) if s.format in PRIORITY else len(PRIORITY))
    for index, src in enumerate(ranked):
        if src.format == "cloudtrail":
            continue
        diffs: list[int] = []
        basis = ""
        for op, ts in src.anchors.aws:
            near = [c for cloud in clouds for c in cloud.anchors.cloud.get(op, []) if abs(c - ts) < 600_000_000_000]
            if near:
                diffs.append(min(near, key=lambda c: abs(c - ts)) - ts)
        if diffs:
            basis = "aws commands matched to CloudTrail"
        else:
            for ref in ranked[:index]:
                shared = src.anchors.calls.keys() & ref.anchors.calls.keys()
                if shared:
                    diffs = [ref.anchors.calls[k] + ref.offset_ns - src.anchors.calls[k] for k in shared]
                    basis = f"call ids shared with {ref.name}"
                    break
        if not diffs:
            continue
        median = int(statistics.median(diffs))
        applied = abs(median) > APPLY_OFFSET_ABOVE_NS
        if applied:
            src.offset_ns = median
        report[src.name] = {"offset_ns": median, "pairs": len(diffs), "basis": basis, "applied": applied}
    return report


def merged_blocks(sources: list[SortedSource]) -> Iterator[list[Record]]:
    """Every record of every source, in sorted batches (`merged`)."""
    return merged([run for src in sources for run in src.blocks()])


def merged(runs: list[Iterator[list[Record]]]) -> Iterator[list[Record]]:
    """Every record of sorted runs (each a series of sorted blocks), in sorted batches: each round
    takes, from every run, the records up to the smallest last record of the blocks in hand (no
    record left behind can be smaller) and sorts them together."""
    hand: list[list[Any]] = []  # [block, position, the run's further blocks]
    for run in runs:
        first = next(run, None)
        if first:
            hand.append([first, 0, run])
    while hand:
        bound = min(held[0][-1] for held in hand)
        batch: list[Record] = []
        still: list[list[Any]] = []
        for held in hand:
            block, start, rest = held
            end = bisect_right(block, bound, start)
            if end > start:
                batch += block[start:end] if start or end < len(block) else block
            if end < len(block):
                held[1] = end
                still.append(held)
                continue
            following = next(rest, None)
            if following:
                held[0], held[1] = following, 0
                still.append(held)
        hand = still
        batch.sort()
        yield batch


def cleanup(sources: list[SortedSource]) -> None:
    """Close every source's run files."""
    for src in sources:
        src.close()
