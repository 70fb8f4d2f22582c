"""Neutralise hostile text from the agent's world before it reaches a terminal."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and C1 controls (0x80-0x9f, incl. the 8-bit CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character shown as a visible escape such as `\\x1b`."""
    out = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if not keep_newlines:
        out = out.replace("\n", "\\n")
    return out
