"""Events as records: what a worker hands the parent for each event, its output line rendered.

Where an event is parsed (a worker process, or this one), it becomes a record: a tuple holding
its sort key, what the analyser needs from it (`detect.event_info`, worked out from the event
alone), and its output line in the format asked for, rendered with the event's own secrets
masked. The parent merges records, analyses them in time order and, for every event it does not
change, writes the line as it is. The few it changes (tags added, a clock offset, a tool call
folded in from another source, a cause linked) are read back into an event dict (`materialize`)
and rendered again, exactly as before.

Sorted runs of records are written to files as marshal blocks, each after a small head (its first
and last time, its events per minute: what `partition` needs to split the timeline without
reading every block); the files stay in a private temporary folder of this process and its workers.
"""

from __future__ import annotations

import csv
import io
import marshal
import os
import struct
from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

import msgspec
import orjson

from ir.core.redaction import might_hold_secret, redact, redact_text
from ir.core.text import json_safe
from ir.timeline.detect import MINUTE_NS, Facts, event_info, might_hold, texts
from ir.timeline.export import TIMESKETCH_FIELDS, csv_row, table_line, timesketch_row
from ir.timeline.model import ARGS_TEXT, CLEAN, Event, dumps, iso, iso_bytes

TS, KEY, KIND, CALL, INFO, LINE, EVJ, ORIG, AT = range(9)
"""A record: (time, tie-breaking key, kind, tool call id or None, analyser facts, output line or
None, the event as JSON when the line is not, the event before redaction as JSON when redaction
changed it, where in the line its (empty) tags are, or -1). Records sort as tuples: time, then
`KEY` (source name's rank, seq, source index, order read), which is unique — the order
heapq.merge of the sources' sorted runs gave."""
Record = tuple[Any, ...]
SECRET = "_secret"
"""On a materialized event: True when its texts must still be redacted (False: the worker did)."""
BLOCK = 1024
"""Records per marshal block in a run file."""
_SEQ_BITS, _SIDX_BITS, _NTH_BITS = 48, 20, 44
SEQ_SHIFT, SEQ_MAX = _SIDX_BITS + _NTH_BITS, (1 << _SEQ_BITS) - 1
"""`key(rank, seq, sidx, nth) == key(rank, 0, sidx, 0) | seq << SEQ_SHIFT | nth` for 0 <= seq <= SEQ_MAX."""
_LENGTHS = struct.Struct("<QQ")
"""Before each block of a run file: the lengths of its head and of the block."""
_DECODE = msgspec.json.Decoder()


def key(rank: int, seq: int, sidx: int, nth: int) -> int:
    """The tie-breaking key after the time: the source name's rank, the event's seq, the source's
    index, the order in which the source yielded it — one integer, compared at C speed."""
    seq = min(max(seq, 0), (1 << _SEQ_BITS) - 1) if type(seq) is int else 0
    return (((rank << _SEQ_BITS | seq) << _SIDX_BITS | sidx) << _NTH_BITS) | nth


def sidx_of(tie: int) -> int:
    """The source index inside a record's `KEY`."""
    return (tie >> _NTH_BITS) & ((1 << _SIDX_BITS) - 1)


def rank_of(tie: int) -> int:
    """The source name's rank inside a record's `KEY`."""
    return tie >> (_NTH_BITS + _SIDX_BITS + _SEQ_BITS)


def record(e: Event, facts: Facts | None, tie: int, fmt: str | None) -> Record:
    """One event as a record, its line rendered in `fmt` (None: the event as JSON) with its own
    secrets masked; `facts` are `detect.tool_facts(e)` for a tool event (worked out once)."""
    kind = e["kind"]
    tool = e.get("tool")
    call = str(tool["call_id"]) if tool and tool.get("call_id") else None
    e.pop(ARGS_TEXT, None)
    if e.pop(CLEAN, False):
        shown = e
    elif not tool and not isinstance(e.get("target"), str):  # the message its only text: `might_hold` without a step
        shown = _redacted_copy(e) if might_hold_secret(e["message"]) else e
    else:
        shown = _redacted_copy(e) if might_hold(e) else e
    orig = kept(dumps(e)) if shown is not e else None
    if fmt is None:
        return (e["ts"], tie, kind, call, event_info(e, facts), None, kept(dumps(shown)), orig, -1)
    info = event_info(e, facts)
    ts = e["ts"]
    if fmt == "jsonl" and "datetime" not in shown:
        evj = None
        line = _jsonl_line(shown, ts)
    else:
        evj = None if fmt == "jsonl" else kept(dumps(shown))
        line = render(shown, fmt)
    needle = _TAGS.get(fmt)
    at = -1
    if needle is not None and not shown["tags"]:
        # The event's own tags come late in its line: searched for from the end, then the part
        # before them for another (nested objects of its own with the same keys: no splicing).
        at = line.rfind(needle)
        if at >= 0 and line.find(needle, 0, at) < 0:
            at += 7  # (`"tags":`) where the empty tags are
        else:
            at = -1
    return (ts, tie, kind, call, info, line, evj, orig, at)


def kept(encoded: bytes) -> bytes:
    """A copy of encoder output exactly its size, for bytes a record keeps: what orjson returns
    holds its whole buffer (4 KiB or more), which a run of 50,000 records would multiply."""
    return bytes(memoryview(encoded))


def _jsonl_line(shown: Event, ts: int) -> bytes:
    """`render(shown, "jsonl")` in one serialisation: the time is added to the event itself (its
    last key, where `render` joins it on), so `shown` must be the record's own."""
    shown["datetime"] = iso(ts)
    try:
        # (not OPT_APPEND_NEWLINE: what orjson returns keeps its whole buffer, 4 KiB or more, and a
        # record holds its line until the run is written — the copy `+` makes is exactly its size)
        line = orjson.dumps(shown, default=str) + b"\n"
    except TypeError:  # an integer beyond 64 bits (`model.dumps`)
        line = dumps(shown) + b"\n"
    if line.isascii() and b"\x7f" not in line:
        return line
    return json_safe(line.decode()).encode()


_TAGS = {"jsonl": b'"tags":[],"raw_ref":', "timesketch": b'"tags":"","raw_ref":'}
"""An event's empty tags, and the key after them, as its line writes them (quotes unescaped:
structure, never inside a string)."""


def spliced(r: Record, tags: list[dict[str, str]], fmt: str) -> bytes:
    """The record's line with `tags` (reasons already redacted) in place of its empty tags."""
    line: bytes = r[LINE]
    at: int = r[AT]
    if fmt == "jsonl":
        inserted = dumps(tags)
        if not inserted.isascii() or b"\x7f" in inserted:
            inserted = json_safe(inserted.decode()).encode()
    else:
        inserted = dumps(",".join(t["tag"] for t in tags))
    return b"".join((line[:at], inserted, line[at + 2 :]))


def _redacted_copy(e: Event) -> Event:
    """The event with its texts redacted as `pipeline` always did (a copy), or `e` itself when
    redaction changes nothing."""
    message, tool_text, target = texts(e)
    changed: Event | None = None
    if might_hold_secret(message):
        masked = redact_text(message)
        if masked != message:
            changed = {**e, "message": masked}
    if tool_text and might_hold_secret(tool_text):
        tool = redact(e["tool"])
        if tool != e["tool"]:
            changed = {**(changed or e), "tool": tool}
    if target and might_hold_secret(target):
        masked = redact_text(target)
        if masked != target:
            changed = {**(changed or e), "target": masked}
    return changed if changed is not None else e


def render(e: Event, fmt: str) -> bytes:
    """One event's output line in `fmt` (newline included), as `export.write` writes it."""
    if fmt == "jsonl":
        line = b"".join((dumps(e)[:-1], b',"datetime":"', iso_bytes(e["ts"]), b'"}\n'))
        if line.isascii() and b"\x7f" not in line:
            return line
        return json_safe(line.decode()).encode()
    if fmt == "timesketch":
        return (json_safe(dumps(timesketch_row(e)).decode()) + "\n").encode()
    if fmt == "table":
        return (table_line(e) + "\n").encode()
    if fmt == "timesketch-csv":
        return csv_line(e).encode()
    raise ValueError(f"unknown format {fmt!r}")


_CSV_BUFFER = io.StringIO()
_CSV = csv.writer(_CSV_BUFFER)


def csv_line(e: Event) -> str:
    """One event as a Timesketch CSV row, as csv.DictWriter writes it (`\\r\\n` ended)."""
    _CSV_BUFFER.seek(0)
    _CSV_BUFFER.truncate()
    row = csv_row(e)
    _CSV.writerow([row.get(name, "") for name in TIMESKETCH_FIELDS])
    return _CSV_BUFFER.getvalue()


def materialize(r: Record, offset: int, unredacted: bool = False) -> Event:
    """The record's event as a dict: as the worker redacted it (`SECRET` False), or as parsed
    (`unredacted`; `SECRET` None: to be checked and redacted before it leaves); the clock offset
    applied."""
    raw = r[ORIG] if unredacted and r[ORIG] is not None else r[EVJ] if r[EVJ] is not None else r[LINE]
    e: Event = _DECODE.decode(raw)
    e.pop("datetime", None)  # a JSON line's own addition (no event has one)
    if offset:
        e["ts"] += offset
        e["clock_offset_ns"] = offset
    e[SECRET] = None if unredacted else False  # None: find out (`detect.might_hold`) before it leaves
    return e


def write_run(run: list[Record], fh: IO[bytes]) -> None:
    """A sorted run as marshal blocks, each after its lengths and its head (`read_heads`)."""
    for start in range(0, len(run), BLOCK):
        part = run[start : start + BLOCK]
        head = marshal.dumps((part[0][TS], part[-1][TS], minute_counts(part, 0, len(part))))
        block = marshal.dumps(part)
        fh.write(_LENGTHS.pack(len(head), len(block)))
        fh.write(head)
        fh.write(block)


def read_run(fh: IO[bytes]) -> Iterator[list[Record]]:
    """The blocks of a run file, in order; the file is closed at the end."""
    try:
        while True:
            lengths = fh.read(_LENGTHS.size)
            if len(lengths) < _LENGTHS.size:
                return
            size_of_head, size = _LENGTHS.unpack(lengths)
            yield marshal.loads(memoryview(fh.read(size_of_head + size))[size_of_head:])  # (no copy of the block)
    finally:
        fh.close()


Head = tuple[int, int, tuple[int, ...]]
"""A block's first and last time and its events per minute (`minute_counts`)."""


def read_heads(fh: IO[bytes]) -> Iterator[tuple[Head, Callable[[], list[Record]]]]:
    """A run file's blocks as (head, a function reading the block), with `os.pread`: the file's
    offset is never moved (a forked process shares it)."""
    fd = fh.fileno()
    at = 0
    while True:
        lengths = os.pread(fd, _LENGTHS.size, at)
        if len(lengths) < _LENGTHS.size:
            return
        size_of_head, size = _LENGTHS.unpack(lengths)
        head: Head = marshal.loads(os.pread(fd, size_of_head, at + _LENGTHS.size))
        where = at + _LENGTHS.size + size_of_head
        yield head, partial(_pread_block, fd, size, where)
        at = where + size


def _pread_block(fd: int, size: int, at: int) -> list[Record]:
    block: list[Record] = marshal.loads(os.pread(fd, size, at))
    return block


def minute_counts(block: list[Record], start: int, end: int) -> tuple[int, ...]:
    """Events per minute (`ts // MINUTE_NS`) of the sorted `block[start:end]`, flat: (minute,
    count, minute, count, ...) — a bisection per minute, no step per event."""
    found: list[int] = []
    while start < end:
        minute = block[start][TS] // MINUTE_NS
        following = bisect_left(block, ((minute + 1) * MINUTE_NS,), start, end)
        found += (minute, following - start)
        start = following
    return tuple(found)


def blocks(run: list[Record], size: int = BLOCK) -> Iterator[list[Record]]:
    """An in-memory run in blocks."""
    for start in range(0, len(run), size):
        yield run[start : start + size]


def shifted(block: list[Record], offset: int) -> list[Record]:
    """A block of a source whose clock is corrected: times moved, and every line dropped (the
    event is rendered again with its new time; its JSON line is kept to read it back)."""
    return [
        (r[TS] + offset, r[KEY], r[KIND], r[CALL], r[INFO], None, r[LINE] if r[EVJ] is None else r[EVJ], r[ORIG], -1)
        for r in block
    ]
