"""The OpenSSH allowed_signers grammar (ssh-keygen(1), ALLOWED SIGNERS), read the way ssh-keygen reads it.

A line is `principals [options] keytype base64 [comment]`. `principals` is a comma-separated
list of patterns (`*`, `?`, and `!pattern` to exclude), quoted or not; `options` is a
comma-separated list of `cert-authority`, `namespaces="…"`, `valid-after="…"` and
`valid-before="…"` (times `YYYYMMDD[HHMM[SS]]`, UTC with a trailing `Z`, else local time).
A line agent-ir cannot honour as ssh-keygen would — a certificate authority, an RSA, DSA or
FIDO (`sk-`) key, an unknown option — raises `LineSkipped`: the caller skips it with a warning,
and it never lends its key to anything else. agent-ir's own `role=service` in the comment marks
a service key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

SUPPORTED_TYPES = frozenset({"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"})
_OTHER_TYPES = frozenset(
    {"ssh-rsa", "ssh-dss", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com"}
)
_OPTIONS = frozenset({"cert-authority", "namespaces", "valid-after", "valid-before"})
_FIELD = re.compile(r'(?:[^\s"]|"[^"]*")+')
_OPTION = re.compile(r'([A-Za-z-]+)(?:="([^"]*)")?(?:,|$)')
_TIME = re.compile(r"(\d{8})(\d{4}(\d{2})?)?(Z)?")


class LineSkipped(ValueError):
    """A line that is not used; `str()` says why in a few words."""


@dataclass(frozen=True)
class Entry:
    """One usable allowed_signers line."""

    principals: tuple[str, ...]
    """Principal patterns, as written (`!` excludes)."""
    key: str
    """`TYPE BASE64`."""
    namespaces: tuple[str, ...] | None = None
    """The namespaces the key may sign in (None: any)."""
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    service: bool = False
    """agent-ir's `role=service` marker: the key may checkpoint, never decide."""


def is_key_type(word: str) -> bool:
    """Whether `word` names an OpenSSH public key type (supported here or not)."""
    return word in SUPPORTED_TYPES or word in _OTHER_TYPES or word.endswith("-cert-v01@openssh.com")


def parse_line(line: str) -> Entry:
    """One non-comment, non-blank allowed_signers line; LineSkipped when agent-ir will not use it."""
    fields = _FIELD.findall(line)
    if len(fields) < 3:
        raise LineSkipped("not an allowed_signers line (principals [options] TYPE KEY)")
    principals = tuple(p for p in fields[0].strip('"').split(",") if p)
    options: dict[str, str | None] = {}
    at = 1
    if not is_key_type(fields[1]):
        options, at = parse_options(fields[1]), 2
    if at + 1 >= len(fields) or not is_key_type(fields[at]):
        raise LineSkipped("not an allowed_signers line (principals [options] TYPE KEY)")
    kind = fields[at]
    if "cert-authority" in options:
        raise LineSkipped("cert-authority lines (certificate authorities) are not supported by agent-ir")
    if kind not in SUPPORTED_TYPES:
        raise LineSkipped(f"{kind} keys cannot be verified by agent-ir (use ssh-ed25519 or ecdsa-sha2-nistp*)")
    if not principals:
        raise LineSkipped("no principal")
    namespaces, after, before = options.get("namespaces"), options.get("valid-after"), options.get("valid-before")
    return Entry(
        principals=principals,
        key=f"{kind} {fields[at + 1]}",
        namespaces=tuple(n.strip() for n in namespaces.split(",")) if namespaces is not None else None,
        valid_after=parse_time(after) if after else None,
        valid_before=parse_time(before) if before else None,
        service="role=service" in fields[at + 2 :],
    )


def parse_options(text: str) -> dict[str, str | None]:
    """`name[="value"],…` as a dict; LineSkipped on anything else or an option we do not know."""
    options: dict[str, str | None] = {}
    pos = 0
    while pos < len(text):
        match = _OPTION.match(text, pos)
        if match is None or match.end() == pos:
            raise LineSkipped(f"unreadable options {text!r}")
        name = match.group(1).lower()
        if name not in _OPTIONS:
            raise LineSkipped(f"unknown option {name!r}")
        options[name] = match.group(2)
        pos = match.end()
    return options


def parse_time(text: str) -> datetime:
    """A valid-after/valid-before time: `YYYYMMDD[HHMM[SS]][Z]` (UTC with Z, else local time)."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise LineSkipped(f"unreadable time {text!r} (YYYYMMDD[HHMM[SS]][Z])")
    digits = match.group(1) + (match.group(2) or "0000")
    digits += "" if match.group(3) else "00"
    try:
        when = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        raise LineSkipped(f"unreadable time {text!r}") from None
    return when.replace(tzinfo=UTC) if match.group(4) else when.astimezone()


def principal_matches(patterns: tuple[str, ...], principal: str) -> bool:
    """Whether `principal` matches the pattern list (as OpenSSH's match_pattern_list: a `!` match vetoes)."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _glob(pattern[1:] if negated else pattern).fullmatch(principal):
            if negated:
                return False
            matched = True
    return matched


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)
