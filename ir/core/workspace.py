"""A workspace: the folder a team keeps in git with `ir.yaml`, `agents.yaml`, playbooks and cases."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator

from ir.core.alert_settings import AlertSettings
from ir.core.errors import WorkspaceError
from ir.core.inventory import Frozen, Inventory, load_inventory
from ir.core.validation import validate
from ir.core.yamlsafe import Located, YamlInputError, load_file

SETTINGS_FILE = "ir.yaml"


class DockerSettings(Frozen):
    """How to reach Docker Engine."""

    host: str | None = None
    """Docker host URL; `DOCKER_HOST` wins when set."""
    timeout: float = 60.0
    """Seconds before a Docker API call is abandoned."""


class SimulatedSettings(Frozen):
    """The simulated world used by the demo and by tabletop exercises."""

    seed: str = "demo/world.yaml"
    """The world's initial state, relative to the workspace."""
    state: str = ".ir/world.json"
    """Where the world's current state is kept between commands."""


class AwsSettings(Frozen):
    """Which AWS account and region; the standard chain supplies the credentials."""

    region: str | None = None
    """Region; `AWS_REGION` wins when set."""
    profile: str | None = None
    """Profile from ~/.aws/config; `AWS_PROFILE` wins when set."""


class AnsibleSettings(Frozen):
    """Where the agents' hosts are described for Ansible."""

    inventory: str | None = None
    """Ansible inventory file, relative to the workspace."""


class DecisionSettings(Frozen):
    """How re-enable decisions are made."""

    second_approver: bool = False
    """A re-enable decision needs `--approve-as` someone other than the decider (two-person rule)."""


_PUBLIC_KEY = re.compile(r"\s*(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+=*(\s.*)?")


def _public_key_line(text: str) -> str:
    if not _PUBLIC_KEY.fullmatch(text):
        raise ValueError("not an ssh-ed25519 or ecdsa-sha2-nistp256/384/521 public key line (TYPE BASE64)")
    return text


PublicKeyText = Annotated[str, AfterValidator(_public_key_line)]
"""An OpenSSH public key line of a type agent-ir signs with (checked in full when it is used)."""


class AllowedSigner(Frozen):
    """One allowed signer's key and what they may sign."""

    key: PublicKeyText
    """Their SSH public key, `TYPE BASE64 [comment]` (ssh-ed25519 or ecdsa-sha2-nistp*)."""
    role: Literal["responder", "service"] = "responder"
    """`responder` may decide and checkpoint; `service` (an alert pipeline) may checkpoint, never decide."""


class SigningSettings(Frozen):
    """Who may sign decisions and journal heads (SSH keys, SSHSIG, namespace `agent-ir`)."""

    allowed_signers: dict[str, AllowedSigner | str] = Field(default_factory=dict)
    """Principal → public key (a responder) or `{key, role}`; adding one is a reviewed commit."""

    @field_validator("allowed_signers", mode="after")
    @classmethod
    def _keys(cls, signers: dict[str, AllowedSigner | str]) -> dict[str, AllowedSigner | str]:
        for principal, entry in signers.items():
            if isinstance(entry, str):
                try:
                    _public_key_line(entry)
                except ValueError as exc:
                    raise ValueError(f"{principal}: {exc}") from None
        return signers

    demo_key: bool = False
    """Demo workspaces only: create `.ir/demo-signing-key` on first need and trust it for
    `demo-responder` in this workspace alone (`ir verify` reports it as a demo key)."""


class ExerciseSettings(Frozen):
    """Set only in a tabletop exercise's sandbox workspace (`ir tabletop run` writes it)."""

    id: str = Field(pattern=r"^EX-[A-Za-z0-9._-]{1,120}$")
    """The exercise id (`EX-<scenario>-<UTC yyyymmddThhmmss>`); every case record here is stamped with it."""
    scenario: str
    """The scenario id the exercise runs."""
    live_fire: bool = False
    """Started with `--live-fire`: its agents may be on Docker Engine and AWS, behind the interlock at
    every call; without it, every backend but the simulated one is refused in this sandbox."""


class Settings(Frozen):
    """The whole of `ir.yaml`."""

    name: str = "agent-ir workspace"
    """A label for the workspace."""
    cases_dir: str = "cases"
    """Where case folders are created."""
    playbooks_dir: str = "playbooks"
    """Where the workspace's playbooks live."""
    tabletop_dir: str = "tabletop"
    """Where the workspace's tabletop scenarios live (`ir tabletop list|lint`)."""
    docker: DockerSettings = Field(default_factory=DockerSettings)
    """Docker Engine connection."""
    simulated: SimulatedSettings = Field(default_factory=SimulatedSettings)
    """Simulated world."""
    aws: AwsSettings = Field(default_factory=AwsSettings)
    """AWS connection."""
    ansible: AnsibleSettings = Field(default_factory=AnsibleSettings)
    """Ansible inventory."""
    decisions: DecisionSettings = Field(default_factory=DecisionSettings)
    """Re-enable decisions."""
    signing: SigningSettings = Field(default_factory=SigningSettings)
    """Allowed signers of decisions and journal heads."""
    approvers: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Named groups of people who may approve steps, e.g. `oncall: [alice, bob]`."""
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """Alert sources, routes and policies for `ir contain` and `ir serve`."""
    exercise: ExerciseSettings | None = None
    """Present only in an exercise's sandbox: which exercise this workspace belongs to."""


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace: its root, settings and inventory."""

    root: Path
    settings: Settings
    ignored: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """(principal, `ir.yaml:line:col: … ignored: why`) for each allowed signer that could not be used."""

    @property
    def settings_path(self) -> Path:
        """The `ir.yaml` file."""
        return self.root / SETTINGS_FILE

    @property
    def inventory_path(self) -> Path:
        """The `agents.yaml` file."""
        return self.root / "agents.yaml"

    @property
    def cases_dir(self) -> Path:
        """Folder holding one folder per case."""
        return self.root / self.settings.cases_dir

    @property
    def playbooks_dir(self) -> Path:
        """Folder holding the workspace's playbooks."""
        return self.root / self.settings.playbooks_dir

    @property
    def tabletop_dir(self) -> Path:
        """Folder holding the workspace's tabletop scenarios."""
        return self.root / self.settings.tabletop_dir

    @cached_property
    def inventory(self) -> Inventory:
        """The validated agent inventory."""
        return load_inventory(self.inventory_path)

    def path(self, relative: str) -> Path:
        """A path inside the workspace (absolute paths are kept as given)."""
        return self.root / relative


def load_settings(path: Path) -> Settings:
    """Load and validate `ir.yaml` (an unusable allowed signer is left out)."""
    return load_settings_noting(path)[0]


def load_settings_noting(path: Path) -> tuple[Settings, tuple[tuple[str, str], ...]]:
    """`ir.yaml` and the allowed signers left out of it: one bad entry must not stop every run."""
    try:
        located = load_file(path)
    except YamlInputError as exc:
        raise WorkspaceError(str(exc)) from None
    if located.data is None:
        return Settings(), ()
    data, ignored = _usable_signers(located)
    return validate(Settings, Located(data, located.path, located.marks), WorkspaceError), ignored


def _usable_signers(located: Located) -> tuple[object, tuple[tuple[str, str], ...]]:
    """`located.data` without the allowed signers that cannot be used, and a note for each."""
    from ir.core.signing import SigningError, parse_public_key

    data = located.data
    signing = data.get("signing") if isinstance(data, dict) else None
    entries = signing.get("allowed_signers") if isinstance(signing, dict) else None
    if entries is None or not isinstance(data, dict) or not isinstance(signing, dict):
        return data, ()
    place = ("signing", "allowed_signers")
    if not isinstance(entries, dict):
        note = f"{located.where(place)}: signing.allowed_signers ignored: not a mapping of principal to key"
        return {**data, "signing": {**signing, "allowed_signers": {}}}, (("", note),)
    kept: dict[object, object] = {}
    ignored: list[tuple[str, str]] = []
    for principal, entry in entries.items():
        try:
            checked = SigningSettings.model_validate({"allowed_signers": {principal: entry}})
            for value in checked.allowed_signers.values():
                parse_public_key(value if isinstance(value, str) else value.key, "")
        except ValidationError as exc:
            err = exc.errors()[0]
            field_ = next((f"{part}: " for part in err["loc"][2:] if part in ("key", "role")), "")
            msg = str(err["msg"]).removeprefix("Value error, ").removeprefix(f"{principal}: ")
            why = field_ + (msg[:1].lower() + msg[1:])
        except SigningError as exc:
            why = str(exc).removeprefix(": ")
        else:
            kept[principal] = entry
            continue
        where = located.where((*place, principal))
        ignored.append((str(principal), f"{where}: allowed signer {principal} ignored: {why}"))
    return {**data, "signing": {**signing, "allowed_signers": kept}}, tuple(ignored)


def find_workspace(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Workspace:
    """The workspace named by `explicit`, `IR_WORKSPACE`, or the nearest parent with `ir.yaml`."""
    chosen = explicit or os.environ.get("IR_WORKSPACE")
    if chosen:
        root = Path(chosen).resolve()
        if not (root / SETTINGS_FILE).is_file():
            raise WorkspaceError(f"{root}: not a workspace (no {SETTINGS_FILE}); run `ir init {root}`")
        settings, ignored = load_settings_noting(root / SETTINGS_FILE)
        return Workspace(root=root, settings=settings, ignored=ignored)
    here = (cwd or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / SETTINGS_FILE).is_file():
            settings, ignored = load_settings_noting(candidate / SETTINGS_FILE)
            return Workspace(root=candidate, settings=settings, ignored=ignored)
    raise WorkspaceError(f"{here}: no {SETTINGS_FILE} here or in any parent; use --workspace DIR or `ir init DIR`")


_EXERCISE_CACHE: dict[Path, tuple[tuple[int, int], str | None]] = {}


def exercise_of(folder: Path) -> str | None:
    """The exercise id of the workspace holding `folder` (the nearest `ir.yaml` above it), or None.

    Read once per version of that `ir.yaml` (a journal asks at every open). An `ir.yaml` that
    does not load is not an exercise here: the command that needs it reports it.
    """
    for candidate in (folder, *folder.parents):
        path = candidate / SETTINGS_FILE
        try:
            stat = path.stat()
        except OSError:
            continue
        version = (stat.st_mtime_ns, stat.st_size)
        cached = _EXERCISE_CACHE.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        try:
            settings = load_settings(path)
        except WorkspaceError:
            found = None
        else:
            found = settings.exercise.id if settings.exercise else None
        _EXERCISE_CACHE[path] = (version, found)
        return found
    return None
