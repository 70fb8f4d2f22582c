"""A participant's signing key in an exercise's sandbox: made when someone joins who has none.

`ir tabletop run` makes a key per scenario role and for the facilitator; a person who joins later
(`ir tabletop join EX --as WHO`) gets one the same way — an ed25519 key in the sandbox's
`.ir/keys/WHO`, allowed (as a responder) in the sandbox's own `ir.yaml` only — before their
console loads the workspace, so what they approve, note and decide there is signed as them.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path

import yaml

from ir.core.signing import generate_key, public_info
from ir.core.signing_trust import write_key
from ir.core.workspace import SETTINGS_FILE
from ir.tabletop.sandbox import KEYS_DIR, Sandbox

PRINCIPAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
"""Names a key is made for (a file name and an allowed-signers principal)."""


def participant_key(sandbox: Sandbox, who: str) -> Path | None:
    """The sandbox's private key for `who`, made and allowed first if there is none (None: a name
    no key can be made for — their records stay unsigned, as outside an exercise)."""
    if not PRINCIPAL.match(who):
        return None
    found = sandbox.key_for(who)
    if found is not None:
        return found
    root = sandbox.workspace_root
    lock = os.open(root / ".ir" / "signers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two people joining at once: one ir.yaml edit at a time
        path = root / KEYS_DIR / who
        if not path.is_file():
            key = generate_key("ed25519")
            write_key(path, key)
            _allow(root / SETTINGS_FILE, who, f"{public_info(key.public_key()).openssh} {who}@exercise")
    finally:
        os.close(lock)
    return path


def _allow(settings: Path, who: str, public: str) -> None:
    """Add `who` to the sandbox ir.yaml's allowed signers (its header comment kept), atomically."""
    text = settings.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    data = yaml.safe_load(text) or {}
    signers = data.setdefault("signing", {}).setdefault("allowed_signers", {})
    signers[who] = {"key": public, "role": "responder"}
    temp = settings.with_name(f".{settings.name}.{os.getpid()}")
    temp.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    os.replace(temp, settings)
