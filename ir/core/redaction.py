"""Keep secrets out of everything agent-ir writes: journal, evidence index, screen, logs.

Two nets: known secret shapes (provider key formats, private keys, `password=...`), and the
exact values of secret-looking environment variables of this process, registered at start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "[REDACTED]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}=*"),
)
# NAME=value, name: value, "name": "value" where the name says secret; the name is kept.
# A bare `kind:id` reference such as `aws.secret:agent/x` (no space after the colon) is not one.
_ASSIGNMENT = re.compile(
    r"""(?ix)
    (\b[\w.-]*(?:secret|passw(?:or)?d|token|api[_-]?key|private[_-]?key|credential)[\w-]*
     (?:\s*=\s*["']?|["']?\s*:\s+["']?|"\s*:\s*"))
    ([^\s"',;}&]{6,})
    """
)
_SECRET_ENV_NAME = re.compile(r"(?i)(secret|token|passw|api_?key|private|credential|session)")

_HINTS = (
    "sk-",
    "gho_",
    "ghp_",
    "ghs_",
    "ghu_",
    "ghr_",
    "github_pat_",
    "xox",
    "eyj",
    "bearer",
    "private key",
    "secret",
    "passw",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "private_key",
    "private-key",
    "privatekey",
)
"""Every secret shape contains one of these (lower case): text without any, and without a known
value, is left as is — a substring scan, much cheaper than the patterns themselves."""

_known: set[str] = set()
_known_re: re.Pattern[str] | None = None


def register(values: Iterable[str]) -> None:
    """Remember exact secret values (at least 8 characters) to mask wherever they appear."""
    global _known_re
    for value in values:
        if value and len(value) >= 8:
            _known.add(value)
    if _known:
        _known_re = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def register_environment(environ: Mapping[str, str] | None = None) -> None:
    """Register the values of this process's secret-looking environment variables."""
    env = os.environ if environ is None else environ
    register(value for name, value in env.items() if _SECRET_ENV_NAME.search(name))


def _hinted(text: str) -> bool:
    low = text.lower()
    return any(hint in low for hint in _HINTS)


def might_hold_secret(text: str) -> bool:
    """Cheap test: False means `redact_text` would return `text` unchanged."""
    return _hinted(text) or (_known_re is not None and _known_re.search(text) is not None)


def redact_text(text: str) -> str:
    """`text` with every known secret value and secret shape replaced by a mask."""
    if _known_re is not None:
        text = _known_re.sub(MASK, text)
    if not _hinted(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return _ASSIGNMENT.sub(lambda m: m.group(1) + MASK, text)


def redact(value: Any) -> Any:
    """Redact every string inside a JSON-like value (dict keys are kept as they are)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value
