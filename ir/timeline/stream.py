"""The parent's half of the pipeline: merge, fold, analyse, write — mostly moving bytes.

Every source's sorted runs of records are merged (`merge.merged_blocks`); a tool call seen in
several sources (same call id, within `DEDUP_WINDOW_NS`) becomes one event whose `evidence` lists
the other raw records; the analyser tags each event in time order from its facts; untimed events
come last, placed. An event nothing changed leaves as the line its worker rendered; one that was
changed is read back (`records.materialize`), changed, redacted and rendered again — as the
pipeline always wrote it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from ir.core.redaction import might_hold_secret, redact, redact_text
from ir.timeline.analyse import Analyzer
from ir.timeline.detect import event_info, might_hold, texts
from ir.timeline.merge import DEDUP_MAX, DEDUP_WINDOW_NS, SortedSource, merged_blocks
from ir.timeline.model import Event
from ir.timeline.records import CALL, INFO, KEY, KIND, LINE, SECRET, TS, Record, materialize, rank_of, render, sidx_of
from ir.timeline.untimed import Untimed

Released = tuple[Record, Event | None]
"""A record leaving the merge, with its event when the parent already holds it as a dict."""


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
    """One pass over the merged sources (`lines` or `events`, once)."""

    def __init__(self, sources: list[SortedSource], analyzer: Analyzer, untimed: Untimed, fmt: str | None) -> None:
        self.sources = sources
        self.analyzer = analyzer
        self.untimed = untimed
        self.fmt = fmt
        self._offsets = [src.offset_ns for src in sources]
        self._r: Record = ()
        self._e: Event | None = None

    def _offset(self, r: Record) -> int:
        return self._offsets[sidx_of(r[KEY])] if r[KEY] >= 0 else 0

    def _event(self) -> Event:
        """The event being analysed, as a dict (read back from its record the first time)."""
        if self._e is None:
            self._e = materialize(self._r, self._offset(self._r))
        return self._e

    def lines(self, fmt: str) -> Iterator[bytes]:
        """Every event's output line in `fmt`, in time order, tagged and redacted."""
        apply = self.analyzer.apply
        own = fmt == self.fmt
        for r, e in self._released():
            self._r, self._e = r, e
            untimed = e is not None and bool(e.get("untimed"))
            tags = apply(r[TS], r[KIND], r[INFO] if e is None else event_info(e, None), untimed, self._event)
            e = self._e
            if e is None and not tags and own and r[LINE] is not None:
                yield r[LINE]
                continue
            e = self._finish(tags)
            yield render(e, fmt)

    def events(self) -> Iterator[Event]:
        """Every event as a dict, in time order, tagged and redacted."""
        apply = self.analyzer.apply
        for r, e in self._released():
            self._r, self._e = r, e
            untimed = e is not None and bool(e.get("untimed"))
            tags = apply(r[TS], r[KIND], r[INFO] if e is None else event_info(e, None), untimed, self._event)
            yield self._finish(tags)

    def _finish(self, tags: list[dict[str, str]]) -> Event:
        e = self._event()
        if tags:
            e["tags"] = tags
        return redacted(e)

    def _released(self) -> Iterator[Released]:
        """Records in time order, a tool call seen again in another source folded into the first
        (which is then held as a dict), then the untimed events, placed."""
        pending: deque[Record] = deque()
        by_call: dict[tuple[str, str], Record] = {}
        folded: dict[int, Event] = {}
        last: int | None = None
        for batch in merged_blocks(self.sources):
            for r in batch:
                call = r[CALL]
                if call is not None:
                    ck = (call, r[KIND])
                    first = by_call.get(ck)
                    if first is not None and rank_of(first[KEY]) != rank_of(r[KEY]):
                        self._fold(first, r, folded)
                        continue
                ts = r[TS]
                while pending and (pending[0][TS] < ts - DEDUP_WINDOW_NS or len(pending) >= DEDUP_MAX):
                    out = pending.popleft()
                    if out[CALL] is not None:
                        by_call.pop((out[CALL], out[KIND]), None)
                    last = out[TS]
                    yield out, folded.pop(id(out), None) if folded else None
                pending.append(r)
                if call is not None:
                    by_call.setdefault(ck, r)
        while pending:
            out = pending.popleft()
            last = out[TS]
            yield out, folded.pop(id(out), None) if folded else None
        for e in self.untimed.place(last):
            yield (e["ts"], -1, e["kind"], None, None, None, None, None), e

    def _fold(self, first: Record, r: Record, folded: dict[int, Event]) -> None:
        """The same tool call from another source: its raw record is evidence of the first, and
        fills in the first's arguments or result when those are missing."""
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
