"""Neutralise hostile text from the agent's world before it reaches a terminal, a CSV or a JSON line.

Three things make a line lie to whoever reads it: control characters (ESC starts a terminal
sequence that can rewrite the screen or the clipboard, BEL rings, 8-bit C1 bytes such as 0x9b
are a CSI on some terminals), bidirectional overrides (U+202E shows `exe.txt` for `txt.exe`), and
spreadsheet formulas (`=HYPERLINK(...)` runs when a CSV export is opened).
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# C0 controls except tab and newline, DEL, C1 controls (0x80-0x9f, incl. the 8-bit CSI), and the
# bidirectional marks, embeddings, overrides and isolates.
_CONTROL = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{_BIDI}]")
# What JSON leaves raw but a terminal or a JavaScript reader may act on: DEL, C1, bidi, U+2028/9.
_JSON_UNSAFE = re.compile(f"[\\x7f-\\x9f{_BIDI}\\u2028\\u2029]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def neutralise(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control and bidi character shown as a visible escape such as `\\x1b`."""
    out = _CONTROL.sub(_escape, text)
    if not keep_newlines:
        out = out.replace("\n", "\\n")
    return out


def csv_cell(text: str) -> str:
    """`text` safe for a CSV cell: controls (tab and newline too) escaped, a formula start quoted with `'`."""
    if text.lstrip(" ").startswith(_FORMULA_START):  # some spreadsheets skip leading spaces
        text = "'" + text
    return neutralise(text).replace("\t", "\\t")


def json_safe(line: str) -> str:
    """A serialised JSON line with DEL, C1, bidi and line-separator characters as `\\uXXXX` escapes.

    JSON writers escape only C0 controls; the others would reach a terminal raw. They can occur
    only inside strings, so the escaped line is the same JSON value.
    """
    if line.isascii() and "\x7f" not in line:  # the common case, checked at C speed
        return line
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
