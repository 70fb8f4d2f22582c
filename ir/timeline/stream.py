"""The parent's half of the pipeline: merge, fold, analyse, write — mostly moving bytes.

Every source's sorted runs of records are merged (`merge.merged_blocks`); a tool call seen in
several sources (same call id, within `DEDUP_WINDOW_NS`) becomes one event whose `evidence` lists
the other raw records; the analyser tags each event in time order from its facts; untimed events
come last, placed. An event nothing changed leaves as the line its worker rendered; one that only
gained tags has them put in its line (`records.spliced`); any other change reads the event back
(`records.materialize`), changes, redacts and renders it again — as the pipeline always wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ir.core.redaction import might_hold_secret, redact, redact_text
from ir.timeline.analyse import Analyzer, Tags
from ir.timeline.detect import TOOL_KINDS, event_info, might_hold, texts
from ir.timeline.merge import DEDUP_MAX, DEDUP_WINDOW_NS, SortedSource, merged, merged_blocks
from ir.timeline.model import Event
from ir.timeline.records import (
    AT,
    CALL,
    INFO,
    KEY,
    KIND,
    LINE,
    SECRET,
    TS,
    Record,
    materialize,
    rank_of,
    render,
    sidx_of,
    spliced,
)
from ir.timeline.untimed import Untimed

SPLICED = frozenset({"jsonl", "timesketch"})
"""Formats whose lines take tags in place (`records.spliced`)."""
_ANALYSED = TOOL_KINDS | {"cloud_api_call", "net_egress"}


def redacted(e: Event) -> Event:
    """The event with secret-named tool fields, known secret shapes and values masked (those its
    worker did not mask already), and its tags' reasons."""
    hold = e.pop(SECRET, None)
    if hold is None:
        hold = might_hold(e)
    if hold:  # one test of the three texts at once (the common case: none holds anything), then each
        message, tool_text, target = texts(e)
        if might_hold_secret(message):
            e["message"] = redact_text(message)
        if tool_text and might_hold_secret(tool_text):
            e["tool"] = redact(e["tool"])
        if target and might_hold_secret(target):
            e["target"] = redact_text(target)
    for t in e["tags"]:
        t["why"] = redact_text(t["why"])
    return e


class Stream:
    """One pass over the merged sources (`chunks` or `events`, once)."""

    def __init__(
        self,
        sources: list[SortedSource],
        analyzer: Analyzer,
        untimed: Untimed,
        fmt: str | None,
        dedup: bool = True,
        runs: list[Iterator[list[Record]]] | None = None,
    ) -> None:
        self.sources = sources
        self.runs = runs
        """The sorted runs to merge, when not every source's whole runs (`partition`: one side of a time)."""
        self.analyzer = analyzer
        self.untimed = untimed
        self.fmt = fmt
        self.dedup = dedup
        """False when no call id is in two sources (`merge.may_fold`): records pass straight on."""
        self._offsets = [src.offset_ns for src in sources]
        self._r: Record = ()
        self._e: Event | None = None
        self._folded: dict[int, Event] = {}

    def _offset(self, r: Record) -> int:
        return self._offsets[sidx_of(r[KEY])] if r[KEY] >= 0 else 0

    def _event(self) -> Event:
        """The event being analysed, as a dict (read back from its record the first time)."""
        if self._e is None:
            self._e = materialize(self._r, self._offset(self._r))
        return self._e

    def chunks(self, fmt: str) -> Iterator[list[bytes]]:
        """Every event's output line in `fmt`, in time order, tagged and redacted, a batch at a time."""
        apply = self.analyzer.apply
        plain = self.analyzer.plain
        folded = self._folded
        own = fmt == self.fmt
        splice = own and fmt in SPLICED
        shown: dict[str, str] = {}  # tags' reasons redacted (they repeat: host, seconds, what was read)
        for batch in self._released():
            out: list[bytes] = []
            append = out.append
            for r in batch:
                e = folded.pop(id(r), None) if folded else None
                if e is None:
                    kind = r[KIND]
                    info = r[INFO]
                    if info is None and kind not in _ANALYSED:
                        tags = plain(r[TS], kind)
                        if tags is None and own and r[LINE] is not None:
                            append(r[LINE])
                            continue
                        self._r, self._e = r, None
                    else:
                        self._r, self._e = r, None
                        tags = apply(r[TS], kind, info, False, self._event)
                        if not tags and own and self._e is None and r[LINE] is not None:
                            append(r[LINE])
                            continue
                    if tags and splice and self._e is None and r[LINE] is not None and r[AT] >= 0:
                        for t in tags:
                            why = t["why"]
                            masked = shown.get(why)
                            if masked is None:
                                masked = redact_text(why)
                                if len(shown) < 10_000:
                                    shown[why] = masked
                            t["why"] = masked
                        append(spliced(r, tags, fmt))
                        continue
                else:
                    self._r, self._e = r, e
                    tags = apply(r[TS], r[KIND], event_info(e, None), bool(e.get("untimed")), self._event)
                append(render(self._finish(tags), fmt))
            yield out

    def events(self) -> Iterator[Event]:
        """Every event as a dict, in time order, tagged and redacted."""
        apply = self.analyzer.apply
        folded = self._folded
        for batch in self._released():
            for r in batch:
                e = folded.pop(id(r), None) if folded else None
                self._r, self._e = r, e
                info = r[INFO] if e is None else event_info(e, None)
                untimed = e is not None and bool(e.get("untimed"))
                yield self._finish(apply(r[TS], r[KIND], info, untimed, self._event))

    def _finish(self, tags: Tags | None) -> Event:
        e = self._event()
        if tags:
            e["tags"] = tags
        return redacted(e)

    def _released(self) -> Iterator[list[Record]]:
        """The timed records (`_timed`), with the untimed events placed: at `--untimed-at` among
        them where that time falls (after those at the same instant), else after the last."""
        anchor = self.untimed.at
        last: int | None = None
        placed = False
        for batch in self._timed():
            if not batch:
                continue
            if anchor is not None and not placed and batch[-1][TS] > anchor:
                cut = next(i for i, r in enumerate(batch) if r[TS] > anchor)
                if cut:
                    yield batch[:cut]
                placed, batch = True, batch[cut:]
                yield from self._untimed(None)
            last = batch[-1][TS]
            yield batch
        if not placed:
            yield from self._untimed(last)

    def _timed(self) -> Iterator[list[Record]]:
        """Records in time order, a batch at a time; a tool call seen again in another source is
        folded into the first (then held as a dict in `_folded`).

        A record is released once DEDUP_WINDOW_NS have passed after it, or when DEDUP_MAX are
        waiting: until then a later record of the same call from another source folds into it.
        Releases are made a batch at a time, and whenever a call id is seen again, first those
        due by then: the same releases, in the same order, as one record at a time."""
        last: int | None = None
        batches = merged_blocks(self.sources) if self.runs is None else merged(self.runs)
        if not self.dedup:  # no call id in two sources: nothing to fold, nothing to hold back
            for batch in batches:
                last = batch[-1][TS]
                yield batch
            return
        pending: list[Record] = []
        by_call: dict[tuple[str, str], Record] = {}
        head = 0

        def release(now: int, most: int) -> list[Record]:
            """Release, oldest first, what is older than `now` less the window, and beyond `most`."""
            nonlocal head
            start = head
            limit = now - DEDUP_WINDOW_NS
            end = len(pending)
            while head < end and (pending[head][TS] < limit or end - head > most):
                out = pending[head]
                if out[CALL] is not None:
                    by_call.pop((out[CALL], out[KIND]), None)
                head += 1
            return pending[start:head]

        for batch in batches:
            ready: list[Record] = []
            for r in batch:
                call = r[CALL]
                if call is not None:
                    ck = (call, r[KIND])
                    if ck in by_call:  # the call again: first what one record at a time had released
                        if last is not None:
                            ready += release(last, DEDUP_MAX)
                        first = by_call.get(ck)
                        if first is not None and rank_of(first[KEY]) != rank_of(r[KEY]):
                            self._fold(first, r)
                            continue
                        ready += release(r[TS], DEDUP_MAX - 1)
                        if first is None:
                            by_call[ck] = r
                    else:
                        by_call[ck] = r
                pending.append(r)
                last = r[TS]
            if last is not None:
                ready += release(last, DEDUP_MAX)
            if head > 4096:
                del pending[:head]
                head = 0
            if ready:
                yield ready
        if head < len(pending):
            yield pending[head:]

    def _untimed(self, last: int | None) -> Iterator[list[Record]]:
        """The untimed events, placed (`last`: the last timed event's time): records of their own,
        each event in `_folded`."""
        held: list[Record] = []
        for e in self.untimed.place(last):
            r = (e["ts"], -1, e["kind"], None, None, None, None, None, -1)
            self._folded[id(r)] = e
            held.append(r)
        if held:
            yield held

    def _fold(self, first: Record, r: Record) -> None:
        """The same tool call from another source: its raw record is evidence of the first, and
        fills in the first's arguments or result when those are missing."""
        folded = self._folded
        e = folded.get(id(first))
        if e is None:
            e = folded[id(first)] = materialize(first, self._offset(first), unredacted=True)
        again = materialize(r, self._offset(r), unredacted=True)
        tool: dict[str, Any] = again.get("tool") or {}
        e.setdefault("evidence", []).append(again["raw_ref"])
        for field_name in ("arguments", "result"):
            if e["tool"].get(field_name) is None and tool.get(field_name) is not None:
                e["tool"][field_name] = tool[field_name]
                e[SECRET] = True  # its tool changed: redact it as a whole
