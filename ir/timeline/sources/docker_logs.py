"""Docker logs: the daemon's json-file format, and `docker logs --timestamps` text (case evidence).

json-file lines are `{"log": "text\n", "stream": "stdout", "time": "RFC3339Nano"}`; lines over
16 KB arrive in pieces and only the last ends in a newline, so pieces are joined per stream.
Rotated files can repeat lines: (time, stream, text) seen before is dropped. `time` is when the
daemon read the line. A line that is itself a tool-call log record becomes a tool event.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import orjson

from ir.timeline.model import Event, parse_time
from ir.timeline.sources import toollog
from ir.timeline.sources.base import SourceStats, as_text, line_blocks, lines
from ir.timeline.sources.jsontext import loads
from ir.timeline.sources.sample import NO, Sample, Score
from ir.timeline.sources.scoring import line_share, share_score

FORMAT = "docker"
TEXT_LINE = re.compile(rb"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (.*?)\r?\n?$", re.S)
SEEN_LIMIT = 100_000


def _line_event(
    text: str, ts_raw: str, when: tuple[int, bool], stream: str, source: str, seq: int, ref: str, stats: SourceStats
) -> Event | None:
    body = text.rstrip("\n")
    if body.startswith("{"):
        try:
            obj = loads(body)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and toollog.is_tool_record(obj):
            made = toollog.to_event(obj, source, seq, ref, stats, when=when, ts_raw=ts_raw)
            if made is not None:
                made["actor"]["stream"] = stream
            return made
    line: Event = {  # what model.event builds, written out
        "ts": when[0],
        "ts_raw": ts_raw,
        "source": source,
        "seq": seq,
        "kind": "container_log",
        "actor": {"stream": stream},
        "action": stream,
        "target": None,
        "tool": None,
        "links": {},
        "tags": [],
        "raw_ref": ref,
        "message": body if len(body) <= 400 else as_text(body, 400),
    }
    if when[1]:
        line["assumed_utc"] = True
    return line


class Line(msgspec.Struct):
    """A json-file record as the daemon writes it; any other shape takes the general path."""

    log: str
    time: str
    stream: str = "stdout"


_LINE = msgspec.json.Decoder(Line)


def _general(raw: bytes, where: str, stats: SourceStats) -> tuple[str, str, str] | None:
    """(log, stream, time) of a line that is not a json-file record as the daemon writes it, read
    the general way with the reasons it always gave (None: counted bad)."""
    try:
        obj = loads(raw)
    except (ValueError, RecursionError) as exc:
        stats.bad_record(where, f"not JSON ({str(exc).split(':')[0]})")
        return None
    if not isinstance(obj, dict):
        stats.bad_record(where, "not a JSON object")
        return None
    log, stream, ts_raw = obj.get("log"), str(obj.get("stream", "stdout")), obj.get("time")
    if not isinstance(log, str) or not isinstance(ts_raw, str):
        stats.bad_record(where, "not a json-file log record")
        return None
    return log, stream, ts_raw


def parse(path: Path, stats: SourceStats) -> Iterator[Event]:
    """json-file logs: split lines joined, rotation duplicates dropped."""
    source = f"{FORMAT}:{path.name}"
    at = f"{path}:"
    pending: dict[str, tuple[str, str, int]] = {}
    seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
    decode = _LINE.decode
    for first, block, bare in line_blocks(path, stats):  # (a block at a time: no generator step per line)
        stats.records += len(block)  # (less the blank lines, below)
        for lineno, raw in enumerate(block, first):
            try:
                line = decode(raw)
                log, stream, ts_raw = line.log, line.stream, line.time
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                if not raw or raw.isspace():
                    stats.records -= 1
                    continue
                found = _general(raw + b"\n" if bare else raw, f"{at}{lineno}", stats)  # (its reason as always)
                if found is None:
                    continue
                log, stream, ts_raw = found
            if stream in pending:
                first_text, first_time, first_line = pending.pop(stream)
                log, ts_raw, start = first_text + log, first_time, first_line
            else:
                start = lineno
            if log[-1:] != "\n":
                pending[stream] = (log, ts_raw, start)
                continue
            key = (ts_raw, stream, log)
            if key in seen:
                continue
            seen[key] = None
            if len(seen) > SEEN_LIMIT:
                seen.popitem(last=False)
            when = parse_time(ts_raw)
            if when is None:
                stats.bad_record(f"{at}{start}", f"bad time {ts_raw!r}")
                continue
            body = log.rstrip("\n")
            if body[:1] == "{" or len(body) > 400 or when[1]:
                made = _line_event(log, ts_raw, when, stream, source, start, f"{at}{start}", stats)
                if made is not None:
                    yield made
                continue
            yield {  # `_line_event` of a short plain line, written out: this runs for most lines
                "ts": when[0],
                "ts_raw": ts_raw,
                "source": source,
                "seq": start,
                "kind": "container_log",
                "actor": {"stream": stream},
                "action": stream,
                "target": None,
                "tool": None,
                "links": {},
                "tags": [],
                "raw_ref": f"{at}{start}",
                "message": body,
            }
    for stream, (log, ts_raw, start) in pending.items():  # a last piece with no newline: the file was cut
        when = parse_time(ts_raw)
        if when is not None:
            made = _line_event(log, ts_raw, when, stream, source, start, f"{at}{start}", stats)
            if made is not None:
                yield made


def parse_text(path: Path, stats: SourceStats) -> Iterator[Event]:
    """`docker logs --timestamps` output: `RFC3339Nano text` per line."""
    source = f"{FORMAT}:{path.name}"
    for lineno, raw in lines(path, stats):
        stats.records += 1
        match = TEXT_LINE.match(raw)
        if not match:
            stats.bad_record(f"{path}:{lineno}", "no leading timestamp")
            continue
        ts_raw = match.group(1).decode()
        text = match.group(2).decode("utf-8", "replace")
        when = parse_time(ts_raw)
        if when is None:
            stats.bad_record(f"{path}:{lineno}", f"bad time {ts_raw!r}")
            continue
        made = _line_event(text, ts_raw, when, "stdout", source, lineno, f"{path}:{lineno}", stats)
        if made is not None:
            yield made


def _is_json_file_line(obj: dict[str, Any]) -> bool:
    return {"log", "stream", "time"} <= obj.keys()


def score(s: Sample) -> Score:
    """Docker json-file lines: `log`, `stream` and `time` on each."""
    hits, total = line_share(s, _is_json_file_line)
    return share_score(hits, total, "Docker json-file log lines", base=70)


def score_text(s: Sample) -> Score:
    """`docker logs --timestamps` text: an RFC 3339 time, a space, the line."""
    if not s.raw_lines:
        return NO
    hits = sum(1 for raw in s.raw_lines if raw[:1] != b"{" and TEXT_LINE.match(raw + b"\n"))
    return share_score(hits, len(s.raw_lines), "lines starting with an RFC 3339 time")
