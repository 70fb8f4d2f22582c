"""Who may sign: the allowed signers of a workspace (or an OpenSSH allowed_signers file), and
where a person's private key is found.

`ir.yaml` lists principals and their public keys under `signing.allowed_signers`, so adding a
signer is a reviewed commit. A responder may decide and checkpoint; a service key (an alert
pipeline) may checkpoint, never decide. A private key is found by `--key PATH`, else
`IR_SIGNING_KEY`, else `$IR_KEYS_DIR/<principal>` (default `~/.config/agent-ir/keys/<principal>`),
else, in a workspace that sets `signing.demo_key`, the demo key for `demo-responder`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ir.core.allowed_signers import LineSkipped, parse_line, principal_matches
from ir.core.errors import ApprovalRefused, InputError
from ir.core.signing import (
    NAMESPACE,
    PrivateKey,
    PublicKeyInfo,
    SigningError,
    generate_key,
    load_private_key,
    parse_public_key,
    private_key_bytes,
    public_info,
)

if TYPE_CHECKING:
    from ir.core.workspace import Workspace

RESPONDER = "responder"
SERVICE = "service"
DEMO_PRINCIPAL = "demo-responder"
"""The one principal the demo key signs for (`make run` runs as this)."""
DEMO_KEY_FILE = ".ir/demo-signing-key"
"""Where a demo workspace keeps its generated key (git-ignored, never trusted elsewhere)."""
DEMO_SERVICE = "demo-service"
"""The demo's alert pipeline (`ir contain`, `ir serve`): a service key, beside the demo key."""
DEMO_SERVICE_KEY = "demo-service-key"
KEY_ENV = "IR_SIGNING_KEY"
KEYS_DIR_ENV = "IR_KEYS_DIR"
EXERCISE_KEYS_DIR = ".ir/keys"
"""In a tabletop exercise's sandbox workspace: the exercise's own signing keys, one per principal."""


class NoSigner(ApprovalRefused):
    """No usable, allowed key for whoever must sign (exit 4): the line says how to get one."""


@dataclass(frozen=True)
class Signer:
    """An allowed signer: a principal, their key, and their role."""

    principal: str
    role: str
    key: PublicKeyInfo
    demo: bool = False
    patterns: tuple[str, ...] | None = None
    """Principal patterns of an allowed_signers line (None: exactly `principal`)."""
    valid_after: datetime | None = None
    valid_before: datetime | None = None

    def allows(self, principal: str) -> bool:
        """Whether this entry names `principal`."""
        return principal_matches(self.patterns, principal) if self.patterns else principal == self.principal

    def valid_at(self, when: datetime) -> bool:
        """Whether the entry's valid-after/valid-before window holds `when`."""
        return not (
            (self.valid_after is not None and when < self.valid_after)
            or (self.valid_before is not None and when > self.valid_before)
        )


@dataclass(frozen=True)
class Trust:
    """The allowed signers a signature is checked against, and the policy on decisions."""

    signers: tuple[Signer, ...] = ()
    source: str = "no allowed signers"
    """Where the list came from, for messages (`ir.yaml of /ws`, a file path)."""
    second_approver: bool = False
    """Releases need two distinct responder signatures on the reenable decision."""
    demo_key: Path | None = None
    """The demo key file, when the workspace enables one."""
    workspace: Path | None = None
    ignored: tuple[tuple[str, str], ...] = ()
    """(principal, `file:line: … ignored: why`) for every entry that was skipped when loading."""
    exercise_keys: Path | None = None
    """A tabletop exercise's sandbox only: its own keys folder (`.ir/keys/<principal>`, made for the
    exercise's roles, facilitator and service principal, and allowed only there)."""
    _demo: list[Signer] = field(default_factory=list, compare=False, repr=False)

    def entries(self) -> tuple[Signer, ...]:
        """Every allowed signer, the demo key's (once it exists) included."""
        if self.demo_key is None:
            return self.signers
        demo = []
        for name, principal, role in (
            (self.demo_key.name, DEMO_PRINCIPAL, RESPONDER),
            (DEMO_SERVICE_KEY, DEMO_SERVICE, SERVICE),
        ):
            pub_file = self.demo_key.with_name(name + ".pub")
            if pub_file.is_file():
                demo.append(Signer(principal, role, parse_public_key(pub_file.read_text(), str(pub_file)), demo=True))
        if len(demo) > len(self._demo):
            self._demo[:] = demo
        return self.signers + tuple(self._demo)

    def allowed(self, principal: str, fingerprint: str, at: str | None = None) -> Signer | None:
        """The entry allowing `principal` to sign with the key `fingerprint` at time `at` (ISO; now if None)."""
        when = _when(at)
        return next(
            (
                s
                for s in self.entries()
                if s.key.fingerprint == fingerprint and s.allows(principal) and s.valid_at(when)
            ),
            None,
        )

    def refusal(self, principal: str, fingerprint: str, at: str | None = None) -> str:
        """Why `principal` with key `fingerprint` is not allowed at `at`, as the end of a sentence."""
        held = self.of_key(fingerprint)
        mine = [s for s in held if s.allows(principal)]
        notes = [note for who, note in self.ignored if who == principal]
        if mine:
            s = mine[0]
            window = ", ".join(
                f"{k} {v:%Y-%m-%d %H:%M %Z}".strip()
                for k, v in (("valid after", s.valid_after), ("valid before", s.valid_before))
                if v is not None
            )
            why = f"a key {self._where()} allows only {window}, not at {at or 'this time'}"
        elif held:
            why = f"a key {self._where()} allows only for {', '.join(s.principal for s in held)}, not for {principal}"
        elif not self.entries() and self.workspace is None and not self.ignored:
            why = f"and there is nothing to check it against ({self.source})"
        else:
            why = f"a key {self._where()} does not allow (removed or never added)"
        return why + "".join(f"; {note}" for note in notes)

    def _where(self) -> str:
        return "this workspace" if self.workspace is not None else self.source

    def of_key(self, fingerprint: str) -> list[Signer]:
        """Every entry holding the key `fingerprint`."""
        return [s for s in self.entries() if s.key.fingerprint == fingerprint]

    def allowed_signers_file(self) -> str:
        """The list as an OpenSSH allowed_signers file (for `ssh-keygen -Y verify -f`)."""
        lines = [f"# agent-ir allowed signers ({self.source}); namespace {NAMESPACE}"]
        for s in self.entries():
            role = f" role={s.role}" + (" demo-key" if s.demo else "")
            lines.append(f'{s.principal} namespaces="{NAMESPACE}" {s.key.openssh}{role}')
        lines.extend(f"# {note}" for _who, note in self.ignored)
        return "\n".join(lines) + "\n"


def workspace_trust(ws: Workspace) -> Trust:
    """The allowed signers `ir.yaml` names (and the demo key where the workspace enables one).

    An entry `ir.yaml` could not use was dropped when the workspace loaded (`ws.ignored`): it is
    kept here as a note, so a check that meets its key can say why it is not allowed.
    """
    settings = ws.settings.signing
    signers = []
    for principal, entry in settings.allowed_signers.items():
        key, role = (entry, RESPONDER) if isinstance(entry, str) else (entry.key, entry.role)
        where = f"{ws.settings_path}: signing.allowed_signers.{principal}"
        signers.append(Signer(principal, role, parse_public_key(key, where)))
    return Trust(
        signers=tuple(signers),
        source=f"{ws.settings_path}",
        second_approver=ws.settings.decisions.second_approver,
        demo_key=ws.root / DEMO_KEY_FILE if settings.demo_key else None,
        workspace=ws.root,
        ignored=tuple(ws.ignored),
        exercise_keys=ws.root / EXERCISE_KEYS_DIR if ws.settings.exercise is not None else None,
    )


def file_trust(path: Path, *, second_approver: bool = False) -> Trust:
    """Allowed signers from an OpenSSH allowed_signers file (`principals [options] TYPE KEY [comment]`).

    `namespaces=`, `valid-after=` and `valid-before=` are honoured as ssh-keygen does; a line
    agent-ir cannot honour (cert-authority, RSA/DSA/FIDO keys, unknown options, a bad key) is
    skipped and noted in `ignored`. A `role=service` in the comment marks a service key.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"{path}: cannot read allowed signers: {why}") from None
    signers: list[Signer] = []
    ignored: list[tuple[str, str]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        first = line.split()[0].strip('"')
        try:
            entry = parse_line(line)
            if entry.namespaces is not None and NAMESPACE not in entry.namespaces:
                raise LineSkipped(f'its namespaces="{",".join(entry.namespaces)}" do not include {NAMESPACE}')
            key = parse_public_key(entry.key, f"{path}:{lineno}")
        except (LineSkipped, SigningError) as exc:
            note = f"{path}:{lineno}: allowed signer {first} ignored: {str(exc).removeprefix(f'{path}:{lineno}: ')}"
            ignored.extend((who, note) for who in first.split(","))
            continue
        role = SERVICE if entry.service else RESPONDER
        signers.append(
            Signer(
                ",".join(entry.principals),
                role,
                key,
                patterns=entry.principals,
                valid_after=entry.valid_after,
                valid_before=entry.valid_before,
            )
        )
    return Trust(signers=tuple(signers), source=str(path), second_approver=second_approver, ignored=tuple(ignored))


def _when(at: str | None) -> datetime:
    """A record's ISO `ts` as an aware datetime (now when None or unreadable)."""
    if at:
        try:
            when = datetime.fromisoformat(at.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def keys_dir() -> Path:
    """Where `ir keys init` keeps private keys: `$IR_KEYS_DIR` or `~/.config/agent-ir/keys`."""
    explicit = os.environ.get(KEYS_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "agent-ir" / "keys"


def write_key(path: Path, key: PrivateKey) -> None:
    """Write a private key (0600) and its `.pub` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_key_bytes(key))
    os.chmod(path, 0o600)
    path.with_name(path.name + ".pub").write_text(public_info(key.public_key()).openssh + "\n", encoding="utf-8")


def key_path(principal: str, trust: Trust, explicit: Path | None = None, *, env: bool = True) -> Path | None:
    """The private key file for `principal`: `--key`, `IR_SIGNING_KEY`, in an exercise's sandbox its own
    keys (`.ir/keys/<principal>`), the keys dir, the demo key."""
    if explicit is not None:
        return explicit
    if env and os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV]).expanduser()
    if trust.exercise_keys is not None and principal and Path(principal).name == principal:
        exercise = trust.exercise_keys / principal
        if exercise.is_file():
            return exercise
    own = keys_dir() / principal
    if own.is_file():
        return own
    if trust.demo_key is not None and principal in (DEMO_PRINCIPAL, DEMO_SERVICE):
        path = trust.demo_key if principal == DEMO_PRINCIPAL else trust.demo_key.with_name(DEMO_SERVICE_KEY)
        if not path.is_file():
            write_key(path, generate_key("ed25519"))
        return path
    return None


def signer_for(
    trust: Trust, principal: str, explicit: Path | None = None, *, decide: bool, env: bool = True
) -> tuple[Signer, PrivateKey]:
    """The allowed signer and private key that sign for `principal`; NoSigner says why not.

    A decision needs a responder key allowed for `principal` itself; a checkpoint takes any
    allowed key the lookup finds (a service key named by `IR_SIGNING_KEY`, say).
    """
    path = key_path(principal, trust, explicit, env=env)
    notes = "".join(f" ({note})" for who, note in trust.ignored if who == principal)
    if path is None:
        raise NoSigner(
            f"no signing key for {principal}{notes}: run `ir keys init --as {principal}` and add the line it prints "
            f"under signing.allowed_signers in {trust.source} (or name a key with --key / {KEY_ENV})"
        )
    try:
        key = load_private_key(path)
    except SigningError as exc:
        raise NoSigner(str(exc)) from None
    info = public_info(key.public_key())
    if trust.demo_key is None and path.name in (Path(DEMO_KEY_FILE).name, DEMO_SERVICE_KEY):
        raise NoSigner(f"{path}: a demo key signs only in a workspace that sets signing.demo_key")
    entry = trust.allowed(principal, info.fingerprint)
    if entry is None and not decide:
        entry = next(iter(trust.of_key(info.fingerprint)), None)
    if entry is None:
        raise NoSigner(
            f"key {info.fingerprint} ({path}) is not an allowed signer for {principal} in {trust.source}{notes}; "
            f'a reviewed commit adds `{principal}: "{info.openssh}"` under signing.allowed_signers'
        )
    if decide and entry.role != RESPONDER:
        raise NoSigner(f"{principal} signs with a {entry.role} key ({info.fingerprint}): a service key never decides")
    return entry, key


def case_trust(case_dir: Path) -> Trust:
    """The allowed signers of the workspace holding `case_dir` (none when it is in no workspace)."""
    from ir.core.workspace import SETTINGS_FILE, find_workspace

    for folder in case_dir.resolve().parents:
        if (folder / SETTINGS_FILE).is_file():
            return workspace_trust(find_workspace(folder))
    return Trust(source=f"no workspace holds {case_dir} (pass --allowed-signers FILE)")
