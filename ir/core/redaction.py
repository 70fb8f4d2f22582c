"""Keep secrets out of everything agent-ir writes: journal, evidence index, screen, logs.

Three nets: values of secret-named fields (`password`, `api_key`, `Authorization`, ... at any depth,
also inside JSON-encoded strings), known secret shapes (provider key formats, private keys,
`password=...`), and the exact values of secret-looking environment variables of this process,
registered at start.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import pairwise
from typing import Any

MASK = "[REDACTED]"
NAMED_MASK = "[redacted: secret-named field]"
"""What replaces the value of a secret-named field: the key stays, the value (and its length) goes."""
MAX_DEPTH = 200
"""Deeper structures are cut (a hostile log can nest far enough to exhaust the stack)."""
DEEP_MASK = f"[not shown: nested deeper than {MAX_DEPTH} levels]"

SECRET_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "session_token",
        "id_token",
        "auth_token",
        "bearer_token",
        "api_key",
        "apikey",
        "x_api_key",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "private_key",
        "secret_key",
        "secret_access_key",
        "aws_secret_access_key",
        "aws_session_token",
        "secret_string",
        "secret_binary",
        "credentials",
    }
)
"""Field names (normalised: lower case, words joined by `_`) whose values are secrets."""
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "apikey",
        "privatekey",
        "sessionkey",
        "authorization",
        "cookie",
    }
)
"""`db_password`, `password_confirmation`, `secret_value`: a name holding one of these words
(after digits are stripped and plurals folded) holds a secret."""
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("session", "key"), ("secret", "key")})
"""Two adjacent words that together name a secret: `api_key_value`, `private_key_pem`, `apiKeys`."""
_NOT_SECRET_NAMES = frozenset(
    {
        "next_token",
        "page_token",
        "next_page_token",
        "continuation_token",
        "pagination_token",
        "sync_token",
        "client_token",
        "client_request_token",
        "idempotency_token",
        "cancellation_token",
        "secrets",
        "secret_read",
        "credential_use_elsewhere",
        "credentials_used",
        "credentials_rotated",
        "session_credential_from_console",
        "http_tokens",
    }
)
"""Names holding a secret word that hold no secret: pagination and idempotency tokens, `secrets`
(in agent-ir's inputs and outputs, a list of secret references to rotate), and agent-ir's own
timeline tags and decision criteria (their values are counts, places and verdicts), and AWS
fields that only describe a credential (`sessionCredentialFromConsole`, EC2's `httpTokens`)."""
_KEEP_NAMES = frozenset({"max_tokens", "prompt_tokens", "token_count", "token_env", "secret_id", "secret_arn"})
"""References and counts that the text net (`name=value`) would otherwise mask."""
_STRUCTURED_WORDS = frozenset({"credential"})
"""A structure under a name whose only secret word is one of these (an inventory's credential
list, CloudTrail's `credentials` with the key id an investigator follows, the timeline's
`credentials_used`) is searched field by field, not masked whole."""
_REFERENCE_WORDS = frozenset(
    {
        *("id", "ids", "arn", "arns", "env", "name", "names", "policy", "policies", "type", "version", "status"),
        *("count", "usage", "length", "ttl", "required", "enabled", "rotation", "expiration", "expiry", "expires"),
        *("used", "changed", "at", "date", "time", "timestamp"),
    }
)
"""A name ending in one of these (`secret_id`, `token_env`, `secret_name`, `tokenExpiration`,
`password_last_used`) names, describes or dates a secret: it holds none."""
_COUNTED_WORDS = frozenset(
    {"max", "prompt", "completion", "total", "input", "output", "cached", "cache", "reasoning", "num", "used", "usage"}
)
"""`tokens` right after one of these (or alone) is a model's token count: `max_tokens`,
`gen_ai.usage.prompt_tokens`. `access_tokens` is not."""
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[-.\s]+")


@lru_cache(maxsize=8192)
def normal_name(name: str) -> str:
    """`API-Key`, `apiKey`, `api.key` -> `api_key`: lower case, words joined by `_`."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name.strip())).lower()


@lru_cache(maxsize=8192)
def name_words(name: str) -> tuple[str, ...]:
    """`passwordConfirm1` -> (`password`, `confirm`): the words of a name, digits stripped, plurals folded."""
    words = (w.strip("0123456789") for w in normal_name(name).split("_"))
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w)


@lru_cache(maxsize=8192)
def is_secret_name(name: str) -> bool:
    """Whether a field called `name` holds a secret value (case, `-_.`, space, camelCase, digits
    and plurals insensitive): any of its words is a secret word, unless the name is a known
    reference, count or pagination token."""
    norm = normal_name(name)
    if norm in SECRET_NAMES:
        return True
    if norm in _NOT_SECRET_NAMES or norm in _KEEP_NAMES or "/" in norm:
        return False
    raw = [w for w in norm.split("_") if w]
    if not raw or raw[-1] in _REFERENCE_WORDS or "count" in raw:
        return False  # `llm.token_count.prompt` counts too
    if raw[-1] == "tokens" and (len(raw) == 1 or raw[-2] in _COUNTED_WORDS):
        return False
    return bool(_secret_words(name))


def _secret_words(name: str) -> set[str]:
    """The secret words of a name (a pair such as `api` `key` counts as `apikey`)."""
    words = name_words(name)
    found = {w for w in words if w in _SECRET_WORDS}
    found.update(a + b for a, b in pairwise(words) if (a, b) in _SECRET_PAIRS)
    return found


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
    (?P<name>\b[\w.-]*(?:secret|passw(?:or)?d|token|api[_-]?key|private[_-]?key|session[_-]?key|credential)[\w-]*)
    (?P<sep>\s*=\s*["']?|["']?\s*:\s+["']?|"\s*:\s*")
    (?P<value>[^\s"',;}&]{6,})
    """
)
_HEADER = re.compile(r"(?im)^(?P<name>\s*(?:proxy-)?authorization|\s*(?:set-)?cookie)(?P<sep>\s*:\s*)\S[^\r\n]*")
"""An HTTP header line carrying credentials: the rest of the line is masked."""
# "key": "value" and "key": 123 in JSON text, also escaped once (JSON inside a JSON string) and
# cut short (a message shows the first 160 characters of the arguments).
_JSON_KEY = re.compile(r"""(?P<bs>\\?)"(?P<key>[^"\\]{1,80})(?P=bs)"\s*:\s*""")
_JSON_STRING = (
    re.compile(r"""\"(?:[^"\\]|\\.)*?(?:"|$)"""),
    re.compile(r"""\\"(?:[^"\\]|\\.)*?(?:\\"|$)"""),
)
"""A JSON string value as written (index 0) and as escaped once inside another string (index 1)."""
_JSON_NUMBER = re.compile(r"-?\d[\d.eE+-]*")
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
    "api.key",
    "api key",
    "credential",
    "private_key",
    "private-key",
    "private.key",
    "privatekey",
    "pwd",
    "passphrase",
    "cookie",
    "authorization",
    "sessionkey",
    "session_key",
    "session-key",
    "session.key",
    "session key",
)
"""Every secret shape contains one of these (lower case): text without any, and without a known
value, is left as is — a substring scan, much cheaper than the patterns themselves."""

_known: set[str] = set()
_known_re: re.Pattern[str] | None = None
_known_plain = True
"""Every registered value is one token (`_PLAIN_VALUE`): it cannot span a space, a quote or JSON punctuation."""
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_\-./+=]+")


def register(values: Iterable[str]) -> None:
    """Remember exact secret values (at least 8 characters) to mask wherever they appear."""
    global _known_re, _known_plain
    for value in values:
        if value and len(value) >= 8:
            _known.add(value)
    if _known:
        _known_re = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))
        _known_plain = all(_PLAIN_VALUE.fullmatch(v) for v in _known)


def known() -> frozenset[str]:
    """The exact secret values registered so far (to hand to worker processes)."""
    return frozenset(_known)


def register_environment(environ: Mapping[str, str] | None = None) -> None:
    """Register the values of this process's secret-looking environment variables."""
    env = os.environ if environ is None else environ
    register(value for name, value in env.items() if _SECRET_ENV_NAME.search(name))


_STEMS = "sk- gh github_pat_ xox eyj bearer private secret pass token api credential pwd cookie authorization session"
_HINT_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (stem, tuple(h for h in _HINTS if h.startswith(stem))) for stem in _STEMS.split()
)
"""The hints grouped by a common stem: text without the stem holds none of its hints (half the scans)."""


_PAIRED = re.compile(r"(?:api|private|session)s?[-._\s\d]*key")
"""Two-word secret names however joined (`api__key`, `apis_key`, `session2-key`), as `name_words` reads them."""


def _hinted(text: str) -> bool:
    low = text.lower()
    for stem, group in _HINT_GROUPS:
        if stem in low:
            for hint in group:
                if hint in low:
                    return True
            if stem in ("api", "private", "session") and _PAIRED.search(low):
                return True
    return False


_STEM_LIST = tuple(_STEMS.split())


def could_hold_secret(pieces: str) -> bool:
    """A wider, cheaper test than `might_hold_secret` for a caller whose texts are made only of
    these pieces (joined by `\\0`) put together with spaces, quotes and JSON punctuation: False
    means no such text holds a hint (none holds a hint's stem: a stem is letters, `-` and `_`) or
    a registered value (each one token, else this says True)."""
    low = pieces.lower()
    for stem in _STEM_LIST:
        if stem in low:
            return True
    if _known_re is None:
        return False
    return not _known_plain or _known_re.search(pieces) is not None


def might_hold_secret(text: str) -> bool:
    # Several texts can be tested at once joined by "\0": no hint and no environment value holds one.
    """Cheap test: False means `redact_text` would return `text` unchanged."""
    return _hinted(text) or (_known_re is not None and _known_re.search(text) is not None)


def redact_text(text: str) -> str:
    """`text` with every known secret value, secret shape and secret-named JSON field masked."""
    if _known_re is not None:
        text = _known_re.sub(MASK, text)
    if not _hinted(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    text = _HEADER.sub(lambda m: m["name"] + m["sep"] + MASK, text)
    text = _ASSIGNMENT.sub(_assignment, text)
    return _json_fields(text)


def _assignment(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]  # a reference, a count, a pagination token; or a JSON field named for a list of them
    return match["name"] + match["sep"] + MASK


def _json_fields(text: str) -> str:
    """Mask the values of secret-named fields in JSON text. Only secret fields' values are skipped
    over: another field's value may be an escaped JSON document holding one."""
    out: list[str] = []
    pos = 0
    for key in _JSON_KEY.finditer(text):
        if key.start() < pos or not is_secret_name(key["key"]):
            continue
        escaped = key["bs"]
        value = _JSON_STRING[1 if escaped else 0].match(text, key.end()) or _JSON_NUMBER.match(text, key.end())
        if value is None:
            continue
        quote = escaped + '"'
        out.append(text[pos : key.end()] + quote + NAMED_MASK + quote)
        pos = value.end()
    return "".join(out) + text[pos:] if out else text


def redact(value: Any) -> Any:
    """Redact a JSON-like value: secret-named fields at any depth (the key stays), secret shapes in
    every string, and both again inside strings that are themselves JSON (tool arguments often are)."""
    return _redact(value, 0)


def _redact(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _redact_string(value, depth)
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple):
        return DEEP_MASK
    if isinstance(value, Mapping):
        return {key: _field(key, item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, depth + 1) for item in value]
    return value


_ID_KEYED = frozenset({"steps"})
"""Fields holding a mapping keyed by ids a playbook author chose (step ids such as `credentials` or
`secrets`), not by field names: its keys say nothing about its values, which are redacted by shape."""


def _field(key: Any, item: Any, depth: int) -> Any:
    """The value of field `key`: masked when the name says secret (booleans and nulls say nothing)."""
    if key in _ID_KEYED and isinstance(item, Mapping):
        return {name: _redact(value, depth + 1) for name, value in item.items()}
    if not isinstance(key, str) or item is None or isinstance(item, bool) or not is_secret_name(key):
        return _redact(item, depth)
    if isinstance(item, Mapping | list | tuple) and (words := _secret_words(key)) and words <= _STRUCTURED_WORDS:
        return _redact(item, depth)
    return NAMED_MASK if item != "" else item


def _redact_string(text: str, depth: int) -> str:
    """A string; one holding a JSON object or array is parsed, redacted by field and written back."""
    if not _hinted(text):
        return _known_re.sub(MASK, text) if _known_re is not None else text
    stripped = text.lstrip()
    if stripped[:1] in ("{", "[") and len(text) <= _MAX_EMBEDDED:
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict | list):
            cleaned = _redact(parsed, depth + 1)
            if cleaned != parsed:
                return json.dumps(cleaned, ensure_ascii=False)
    return redact_text(text)


_MAX_EMBEDDED = 4 * 1024 * 1024
"""Longer JSON strings are only searched as text (parsing them costs memory for little gain)."""
