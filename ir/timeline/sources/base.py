"""What every source parser shares: robust line reading, per-source statistics, bad-record counting."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import orjson

from ir.core.redaction import could_hold_secret, redact_text
from ir.timeline.model import Event, dumps, event
from ir.timeline.sources.jsontext import loads

MAX_LINE = 16 * 1024 * 1024
"""Longer lines are counted as bad and skipped without being held in memory."""
MAX_DOCUMENT = 512 * 1024 * 1024
"""Whole-document formats (OTLP JSON, CloudTrail delivery files) larger than this are refused."""
KEEP_BAD_REFS = 20
BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte-order mark some Windows tools (PowerShell's Out-File, Notepad) write first."""


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
        """Count a record that could not be used; the first few are kept with their place (secrets
        in what the reason quotes masked: reasons are printed)."""
        self.bad += 1
        if len(self.bad_refs) < KEEP_BAD_REFS:
            self.bad_refs.append(redact_text(f"{ref}: {why}"))

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
    """The first bytes of a file (decompressed, a leading byte-order mark left out), for format detection."""
    return read_head(path, size)[0]


def read_head(path: Path, size: int = 65536) -> tuple[bytes, str | None]:
    """The first `size` bytes of a file (decompressed, a leading byte-order mark left out) and what
    cut the reading short (`truncated gzip`, `unreadable: ...`), or None. What a truncated or
    corrupt gzip gave before the damage is kept."""
    parts: list[bytes] = []
    got, want = 0, size + len(BOM)
    problem = None
    try:
        with open_maybe_gzip(path) as fh:
            read1 = getattr(fh, "read1", fh.read)  # chunk by chunk: a gzip error loses only the last
            while got < want:
                chunk = read1(want - got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
    except READ_ERRORS as exc:
        problem = unreadable(exc)
    data = b"".join(parts)
    return (data[len(BOM) :] if data.startswith(BOM) else data)[:size], problem


def first_line(path: Path, after: int = 0) -> tuple[bytes, bool, bytes]:
    """The file's first non-blank line (decompressed, a leading byte-order mark left out) read to
    its newline but no further than MAX_LINE bytes; whether a newline ended it (False: the file is
    one unterminated line, or its first line is longer than MAX_LINE); and the `after` bytes that
    follow it. Whether a file is JSON lines or one document is decided on this, not on a fixed
    number of bytes (a CloudTrail or chat line can be far longer than any such number)."""
    try:
        with open_maybe_gzip(path) as fh:
            line = fh.readline(MAX_LINE + 1).removeprefix(BOM)
            while line and line.isspace():
                line = fh.readline(MAX_LINE + 1)
            ended = line.endswith(b"\n")
            return line, ended, fh.read(after) if ended and after else b""
    except READ_ERRORS:
        return b"", False, b""


READ_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a file can raise: the system's errors, a gzip cut short, corrupt compressed data."""


def unreadable(exc: BaseException) -> str:
    """Why a file could not be read (further), in a person's words."""
    if isinstance(exc, EOFError):
        return "truncated gzip"
    if isinstance(exc, zlib.error | gzip.BadGzipFile):
        return f"unreadable: corrupt gzip ({exc})"
    return f"unreadable: {getattr(exc, 'strerror', None) or exc}"


def lines(path: Path, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for every line that is not blank; over-long lines are counted bad and skipped."""
    lineno = 0
    try:
        with open_maybe_gzip(path) as fh:
            if isinstance(fh, gzip.GzipFile):
                source = _gzip_lines(fh, path, stats)
                first = next(source, None)  # gzip line by line: a cut stream still gives every line before the cut
                if first is None:
                    return
                lineno, line = first
                if line.startswith(BOM):  # Windows tools write one; it is not part of the line
                    line = line[len(BOM) :]
                if not line.isspace():
                    yield lineno, line
                yield from source
                return
            marked = True  # (until the first line that is not blank: a byte-order mark there is dropped)
            for start, pieces, ended in _plain_blocks(fh, path, stats):  # (one generator per line, not two)
                if marked:
                    marked = _unmark(pieces, ended)
                if ended:
                    for n, piece in enumerate(pieces, start):
                        line = piece + b"\n"
                        if not line.isspace():
                            lineno = n
                            yield n, line
                elif not pieces[0].isspace():
                    lineno = start
                    yield start, pieces[0]
    except READ_ERRORS as exc:
        stats.bad_record(str(path), unreadable(exc) + (" (the lines before it were read)" if lineno else ""))


def line_blocks(path: Path, stats: SourceStats) -> Iterator[tuple[int, list[bytes], bool]]:
    """`lines` a block at a time, for a parser's own loop: (number of the first line, the lines,
    whether their newlines were taken off). Unlike `lines`, a block holds blank lines too (their
    numbers count; the parser skips them, a line counted bad is one). A parser that quotes a line's
    reading error gives it the newline back first: `lines` always gave the line with it."""
    given = False
    try:
        with open_maybe_gzip(path) as fh:
            if isinstance(fh, gzip.GzipFile):
                fh.close()
                for lineno, line in lines(path, stats):  # (reports its own read errors)
                    yield lineno, [line], False
                return
            marked = True
            for start, pieces, ended in _plain_blocks(fh, path, stats):
                if marked:
                    marked = _unmark(pieces, ended)
                given = True
                yield start, pieces, ended
    except READ_ERRORS as exc:
        stats.bad_record(str(path), unreadable(exc) + (" (the lines before it were read)" if given else ""))


def _unmark(pieces: list[bytes], ended: bool) -> bool:
    """Drop a byte-order mark from the first line that is not blank (Windows tools write one; it is
    not part of the line); False once that line is found."""
    for k, piece in enumerate(pieces):
        if not (piece + b"\n" if ended else piece).isspace():
            if piece.startswith(BOM):
                pieces[k] = piece[len(BOM) :]
            return False
    return True


READ_BYTES = 1 << 20
"""Bytes read at a time from a plain file (its lines split out in C)."""


def _plain_lines(fh: BinaryIO, path: Path, stats: SourceStats) -> Iterator[tuple[int, bytes]]:
    """`_gzip_lines` read a block at a time: the same lines, numbers and bad records."""
    for start, pieces, ended in _plain_blocks(fh, path, stats):
        if ended:
            for n, piece in enumerate(pieces, start):
                line = piece + b"\n"
                if not line.isspace():
                    yield n, line
        elif not pieces[0].isspace():
            yield start, pieces[0]


def _plain_blocks(fh: BinaryIO, path: Path, stats: SourceStats) -> Iterator[tuple[int, list[bytes], bool]]:
    """A plain file's lines a block at a time: (number of the first, the lines without their
    newline, whether they had one — only the file's last line can lack it). Blank lines are
    included; a line longer than MAX_LINE is counted bad and given as an empty (blank) line, or,
    when it is too long to hold, not given at all (its number counts)."""
    lineno = 0
    rest = b""  # the start of a line the next block ends
    skipping = False  # inside a line longer than MAX_LINE (counted bad when it passed the limit)
    limit = MAX_LINE
    while block := fh.read(READ_BYTES):
        pieces = block.split(b"\n")
        tail = pieces.pop()
        if pieces:
            if skipping:
                del pieces[0]  # the end of the line counted bad: it has no number of its own
                skipping = False
            elif rest:
                pieces[0] = rest + pieces[0]
            if pieces:
                if max(map(len, pieces)) > limit:
                    for k, piece in enumerate(pieces):
                        if len(piece) > limit:
                            stats.bad_record(f"{path}:{lineno + 1 + k}", f"line longer than {limit} bytes skipped")
                            pieces[k] = b""
                yield lineno + 1, pieces, True
                lineno += len(pieces)
            rest = tail
        elif skipping:
            continue
        else:
            rest += tail
        if len(rest) > limit:
            lineno += 1
            stats.bad_record(f"{path}:{lineno}", f"line longer than {limit} bytes skipped")
            rest, skipping = b"", True
    if rest and not skipping:
        yield lineno + 1, [rest], False


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
            data = fh.read(MAX_DOCUMENT + 1)  # a gzip's own size says nothing of what it holds
        data = data.removeprefix(BOM)
        if len(data) > MAX_DOCUMENT:
            stats.bad_record(str(path), f"larger than {MAX_DOCUMENT} bytes once decompressed")
            return None
        return loads(data)
    except READ_ERRORS as exc:
        stats.bad_record(str(path), unreadable(exc))
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
    reasons always read), cut at `limit`; anything else as compact JSON, cut (never a huge repr).
    Secrets are masked before the cut (a cut secret no longer has the shape that finds it)."""
    if isinstance(value, str):
        text = redact_text(value[: limit + 4096])
        return repr(text[:limit]) + ("…" if len(text) > limit else "")
    if value is None or isinstance(value, bool | float) or (isinstance(value, int) and abs(value) < 10**18):
        return repr(value)
    return quoted(value, limit)


def quoted(value: Any, limit: int) -> str:
    """A value as text for a reason, secrets masked before it is cut at `limit`."""
    return as_text(redact_text(as_text(value, limit + 4096)), limit)


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
