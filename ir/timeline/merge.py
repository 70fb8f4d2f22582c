"""Streaming merge: per-source sort with bounded memory, clock offsets, k-way merge, deduplication.

No source is assumed ordered. Each source is sorted in runs of at most `RUN` events; runs
beyond the first are spilled to temporary files, so memory stays flat in input size. The
sorted sources are merged with a heap. A tool call seen in several sources (same call id)
becomes one event whose `evidence` lists the other raw records.

Clock offsets are estimated per source from matched pairs: a tool call running an AWS command
and the CloudTrail record of that call (CloudTrail's clock is the reference), or the same call
id seen in two sources. The median difference is reported and, above a second, applied; the raw
time is always kept in `ts_raw`.
"""

from __future__ import annotations

import heapq
import os
import re
import statistics
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import msgspec

from ir.timeline.model import Event, dumps

RUN = 50_000
"""Events held in memory per source while sorting; a larger source is sorted in spilled runs."""
DEDUP_WINDOW_NS = 2_000_000_000
DEDUP_MAX = 50_000
ANCHORS_MAX = 50_000
APPLY_OFFSET_ABOVE_NS = 1_000_000_000
PRIORITY = ("cloudtrail", "otel", "claude", "codex", "mcp", "jsonl", "docker")
_AWS_CLI = re.compile(r"\baws\s+([a-z0-9-]+)\s+([a-z0-9-]+)")
_S3_CP = {
    "cp": ("PutObject", "GetObject"),
    "sync": ("PutObject",),
    "mv": ("PutObject",),
    "ls": ("ListObjects", "ListObjectsV2"),
}


def key(e: Event) -> tuple[int, str, int]:
    """Sort key: time, then source, then order within the source."""
    return (e["ts"], e["source"], e["seq"])


def aws_operations(e: Event) -> tuple[str, ...]:
    """CloudTrail event names an `aws ...` command in a tool call's arguments would produce."""
    tool = e.get("tool") or {}
    args = tool.get("arguments")
    if isinstance(args, dict):
        if not any(isinstance(v, str | list) and "aws" in str(v) for v in args.values()):
            return ()  # the common case, decided without serialising the arguments
        text = dumps(args).decode()
    else:
        text = args if isinstance(args, str) else dumps(args).decode() if args is not None else ""
    if "aws" not in text:
        return ()
    match = _AWS_CLI.search(text)
    if not match:
        return ()
    service, command = match.groups()
    if service == "s3":
        return _S3_CP.get(command, ())
    return ("".join(part.capitalize() for part in command.split("-")),)


@dataclass
class Anchors:
    """Small per-source facts gathered while sorting, used to estimate clock offsets."""

    calls: dict[tuple[str, str], int] = field(default_factory=dict)
    aws: list[tuple[str, int]] = field(default_factory=list)
    cloud: dict[str, list[int]] = field(default_factory=dict)

    def keep(self, cloud_wanted: set[str]) -> None:
        """Forget cloud anchors of API names no tool source wants (a worker noted them all)."""
        self.cloud = {name: times for name, times in self.cloud.items() if name in cloud_wanted}

    def note(self, e: Event, cloud_wanted: set[str] | Everything) -> None:
        """Remember what this event can anchor."""
        tool = e.get("tool")
        if tool and tool.get("call_id") and len(self.calls) < ANCHORS_MAX:
            self.calls.setdefault((str(tool["call_id"]), e["kind"]), e["ts"])
        if e["kind"] == "tool_call" and len(self.aws) < ANCHORS_MAX:
            facts = e.get("_facts")  # detect.FACTS: worked out already (its last item)
            self.aws.extend((op, e["ts"]) for op in (facts[5] if facts else aws_operations(e)))
        if e["kind"] == "cloud_api_call":
            name = e["action"].split(":", 1)[-1]
            if name in cloud_wanted and len(self.cloud.get(name, [])) < ANCHORS_MAX:
                self.cloud.setdefault(name, []).append(e["ts"])


class Everything:
    """A `cloud_wanted` that wants every API name (a worker cannot know which the tool sources
    want; the parent keeps only those afterwards, with `Anchors.keep`)."""

    def __contains__(self, name: object) -> bool:
        return True


class SortedSource:
    """One source's events in time order, spilled to disk beyond RUN events.

    `spill_dir` (a worker's): every run, the last too, goes to a named file there, which
    `files()` hands over for `from_files` in the parent to merge."""

    def __init__(
        self,
        name: str,
        events: Iterable[Event],
        anchors: Anchors,
        cloud_wanted: set[str] | Everything,
        run: int | None = None,
        spill_dir: str | None = None,
        prepare: Callable[[Event], None] | None = None,
    ) -> None:
        self.name = name
        self.format = name.split(":", 1)[0]
        self.anchors = anchors
        self.offset_ns = 0
        self._memory: list[Event] = []
        self._spills: list[IO[bytes]] = []
        self._dir = spill_dir
        size = run or RUN
        buffer: list[Event] = []
        note = anchors.note
        append = buffer.append
        for e in events:
            if prepare is not None:
                prepare(e)
            note(e, cloud_wanted)
            append(e)
            if len(buffer) >= size:
                self._spill(buffer)
                buffer = []
                append = buffer.append
        buffer.sort(key=key)
        if (self._spills or spill_dir) and buffer:
            self._spill(buffer)
        else:
            self._memory = buffer

    @classmethod
    def from_files(cls, name: str, paths: list[str], anchors: Anchors) -> SortedSource:
        """A source whose sorted runs a worker wrote to `paths` (unlinked here once open)."""
        made = cls(name, (), anchors, set())
        for path in paths:
            made._spills.append(open(path, "rb"))  # noqa: SIM115 (kept open until the merge reads it)
            os.unlink(path)
        return made

    def files(self) -> list[str]:
        """The named files of the runs (a worker's), closed for the parent to open."""
        for fh in self._spills:
            fh.close()
        return [str(fh.name) for fh in self._spills]

    def _spill(self, run: list[Event]) -> None:
        run.sort(key=key)
        fh: IO[bytes]
        if self._dir:
            fh = tempfile.NamedTemporaryFile(prefix="ir-run-", dir=self._dir, delete=False)  # noqa: SIM115
        else:
            fh = tempfile.TemporaryFile(prefix="ir-run-")  # noqa: SIM115 (kept open until the merge reads it)
        fh.write(b"".join([dumps(e) + b"\n" for e in run]))
        fh.seek(0)
        self._spills.append(fh)

    @staticmethod
    def _read(fh: IO[bytes]) -> Iterator[Event]:
        decode = msgspec.json.Decoder().decode  # integers beyond 64 bits come back exact
        for line in fh:
            yield decode(line)
        fh.close()

    def __iter__(self) -> Iterator[Event]:
        stream = heapq.merge(*(self._read(fh) for fh in self._spills), key=key) if self._spills else iter(self._memory)
        offset = self.offset_ns
        for e in stream:
            if offset:
                e["ts"] += offset
                e["clock_offset_ns"] = offset
            yield e

    def close(self) -> None:
        """Drop spilled runs that were never read."""
        for fh in self._spills:
            fh.close()


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


def merged(sources: list[SortedSource]) -> Iterator[Event]:
    """Every source's events in one time order, with the same tool call from several sources folded."""
    pending: deque[Event] = deque()
    by_call: dict[tuple[str, str], Event] = {}

    def release(e: Event) -> Event:
        tool = e.get("tool")
        if tool and tool.get("call_id"):
            by_call.pop((str(tool["call_id"]), e["kind"]), None)
        return e

    for e in heapq.merge(*sources, key=key):
        tool = e.get("tool") or {}
        call = (str(tool["call_id"]), e["kind"]) if tool.get("call_id") else None
        if call and call in by_call and by_call[call]["source"] != e["source"]:
            first = by_call[call]
            first.setdefault("evidence", []).append(e["raw_ref"])
            for field_name in ("arguments", "result"):
                if first["tool"].get(field_name) is None and tool.get(field_name) is not None:
                    first["tool"][field_name] = tool[field_name]
                    first.pop("_facts", None)  # worked out from the tool before: again, in the parent
                    first["_secret"] = True
            continue
        while pending and (pending[0]["ts"] < e["ts"] - DEDUP_WINDOW_NS or len(pending) >= DEDUP_MAX):
            yield release(pending.popleft())
        pending.append(e)
        if call:
            by_call.setdefault(call, e)
    while pending:
        yield release(pending.popleft())


def cleanup(sources: list[SortedSource]) -> None:
    """Close every source's spill files."""
    for src in sources:
        src.close()
