"""What every source parser shares: robust line reading, per-source statistics, bad-record counting."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import orjson

from ir.core.redaction import could_hold_secret
from ir.timeline.model import Event, dumps, event

MAX_LINE = 16 * 1024 * 1024
"""Longer lines are counted as bad and skipped without being held in memory."""
MAX_DOCUMENT = 512 * 1024 * 1024
"""Whole-document formats (OTLP JSON, CloudTrail delivery files) larger than this are refused."""
KEEP_BAD_REFS = 20


@dataclass
class SourceStats:
    """What parsing one file found: records read, events made, bad records (with where), zone-less times."""

    path: str
    format: str
    records: int = 0
    events: int = 0
    bad: int = 0
    bad_refs: list[str] = field(default_factory=list)
    assumed_utc: int = 0

    def bad_record(self, ref: str, why: str) -> None:
        """Count a record that could not be used; the first few are kept with their place."""
        self.bad += 1
        if len(self.bad_refs) < KEEP_BAD_REFS:
            self.bad_refs.append(f"{ref}: {why}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "format": self.format,
            "records": self.records,
            "events": self.events,
            "bad": self.bad,
            "bad_refs": self.bad_refs,
            "assumed_utc": self.assumed_utc,
        }


def open_maybe_gzip(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip."""
    fh = path.open("rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return fh


def head(path: Path, size: int = 65536) -> bytes:
    """The first bytes of a file (decompressed), for format detection."""
    try:
        with open_maybe_gzip(path) as fh:
            return fh.read(size)
    except (OSError, EOFError):
        return b""


def lines(path: Path, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every line that is not blank; over-long lines are counted bad and skipped."""
    try:
        with open_maybe_gzip(path) as fh:
            if isinstance(fh, gzip.GzipFile):  # line by line: a cut stream still gives every line before the cut
                yield from _gzip_lines(fh, path, stats)
            else:
                yield from _plain_lines(fh, path, stats)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        stats.bad_record(str(path), f"unreadable: {exc}")


READ_BYTES = 1 << 20
"""Bytes read at a time from a plain file (its lines split out in C)."""


def _plain_lines(fh: BinaryIO, path: Path, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    """`_gzip_lines` read a block at a time: the same lines, numbers and bad records."""
    lineno = 0
    rest = b""  # the start of a line the next block ends
    skipping = False  # inside a line longer than MAX_LINE (counted bad when it passed the limit)
    while block := fh.read(READ_BYTES):
        pieces = block.split(b"\n")
        tail = pieces.pop()
        for k, piece in enumerate(pieces):
            if k == 0:
                if skipping:
                    skipping = False
                    continue
                if rest:
                    piece, rest = rest + piece, b""
            lineno += 1
            if len(piece) > MAX_LINE:
                stats.bad_record(f"{path}:{lineno}", f"line longer than {MAX_LINE} bytes skipped")
                continue
            line = piece + b"\n"
            if not line.isspace():
                yield lineno, line
        if skipping:
            continue
        rest = rest + tail if not pieces else tail
        if len(rest) > MAX_LINE:
            lineno += 1
            stats.bad_record(f"{path}:{lineno}", f"line longer than {MAX_LINE} bytes skipped")
            rest, skipping = b"", True
    if rest and not skipping:
        lineno += 1
        if not rest.isspace():
            yield lineno, rest


def _gzip_lines(fh: BinaryIO, path: Path, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    lineno = 0
    while True:
        chunk = fh.readline(MAX_LINE + 1)
        if not chunk:
            return
        lineno += 1
        if len(chunk) > MAX_LINE and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = fh.readline(MAX_LINE)
            stats.bad_record(f"{path}:{lineno}", f"line longer than {MAX_LINE} bytes skipped")
            continue
        if not chunk.isspace():
            yield lineno, chunk


Loads = Callable[[bytes], Any]
_DECODE = msgspec.json.Decoder()


def loads(raw: bytes | str) -> Any:
    """A JSON document with big integers kept exact (msgspec); when it is not valid JSON, orjson's
    error is raised (ValueError), whose first words have always been the bad-record reason."""
    try:
        return _DECODE.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):  # orjson's reasons (msgspec: invalid UTF-8 raises)
        return orjson.loads(raw)
    except RecursionError:
        raise ValueError("too deeply nested") from None


def json_lines(path: Path, stats: SourceStats, loads: Loads = loads) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON object) for each line; invalid JSON or UTF-8 is counted bad."""
    for lineno, raw in lines(path, stats):
        stats.records += 1
        try:
            value = loads(raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: stdlib json on deep nesting
            stats.bad_record(f"{path}:{lineno}", f"not JSON ({str(exc).split(':')[0]})")
            continue
        if not isinstance(value, dict):
            stats.bad_record(f"{path}:{lineno}", "not a JSON object")
            continue
        yield lineno, value


def json_document(path: Path, stats: SourceStats, loads: Loads = loads) -> Any:
    """A whole-file JSON document, or None (counted bad) when it cannot be read."""
    try:
        if path.stat().st_size > MAX_DOCUMENT:
            stats.bad_record(str(path), f"larger than {MAX_DOCUMENT} bytes")
            return None
        with open_maybe_gzip(path) as fh:
            return loads(fh.read())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        stats.bad_record(str(path), f"unreadable: {exc}")
    except (ValueError, RecursionError) as exc:
        stats.bad_record(str(path), f"not JSON ({str(exc).split(':')[0]})")
    return None


def as_text(value: Any, limit: int = 4096) -> str:
    """A value as text for messages and detectors, cut at `limit` characters."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = dumps(value).decode()
        except (TypeError, ValueError, RecursionError):  # nesting beyond the encoders: shown, not fatal
            try:
                text = json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)
            except RecursionError:
                text = "(too deeply nested to show)"
    return text if len(text) <= limit else text[:limit] + "…"


def whole(value: Any) -> str | None:
    """A value as text, whole (`as_text` without the cut), or None when no encoder writes it."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    try:
        return dumps(value).decode()
    except (TypeError, ValueError, RecursionError):
        return None


def clean(*pieces: str | None) -> bool | None:
    """Whether no text put together from these pieces (with spaces, quotes, JSON punctuation) can
    hold a secret (`redaction.could_hold_secret`); None when a piece has no text. A parser that
    builds an event's message, tool and target only from such pieces sets `model.CLEAN` to it."""
    if None in pieces:
        return None
    return not could_hold_secret("\0".join(pieces))  # type: ignore[arg-type]


NO_STEMS = (type(None), bool, int, float)
"""Values whose JSON holds no letters but `e` of an exponent, `true`, `false`, `null`: no stem."""


def shown(value: Any, limit: int = 60) -> str:
    """A value as a bad-record reason shows it: Python's repr for short text and plain numbers (as
    reasons always read), cut at `limit`; anything else as compact JSON, cut (never a huge repr)."""
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    if value is None or isinstance(value, bool | float) or (isinstance(value, int) and abs(value) < 10**18):
        return repr(value)
    return as_text(value, limit)


def maybe_json(value: Any) -> Any:
    """Parse a JSON string (tool arguments are often one); anything else is returned as is."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _DECODE.decode(value)
        except (msgspec.DecodeError, RecursionError):
            try:
                return orjson.loads(value)  # what msgspec refuses and orjson reads, as before
            except orjson.JSONDecodeError:
                return value
    return value


def tool_event(
    *,
    kind: str,
    name: str,
    call_id: Any,
    when: tuple[int, bool],
    raw: Any,
    source: str,
    seq: int,
    ref: str,
    arguments: Any = None,
    result: Any = None,
    actor: dict[str, Any] | None = None,
    links: dict[str, Any] | None = None,
    **tool_extra: Any,
) -> Event:
    """A tool_call or tool_result event; the message shows the arguments, or `-> result`."""
    tool = {"name": name, "call_id": call_id, "arguments": arguments, "result": result, **tool_extra}
    shown = as_text(arguments, 160) if kind == "tool_call" else f"-> {as_text(result, 160)}"
    return event(
        ts=when[0],
        ts_raw=raw,
        source=source,
        seq=seq,
        kind=kind,
        action=name,
        raw_ref=ref,
        actor=actor,
        tool=tool,
        links=links,
        message=f"{name} {shown}",
        assumed_utc=when[1],
    )
