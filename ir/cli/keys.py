"""`ir keys`: a responder's signing key (OpenSSH format), kept outside every workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ir.cli.support import actor_of, guarded, workspace_of
from ir.core.errors import InputError, IrError
from ir.core.text import neutralise


@click.group("keys")
def keys_group() -> None:
    """Signing keys: decisions and journal heads are signed with SSH keys (SSHSIG)."""


@keys_group.command("init")
@click.option("--as", "actor", metavar="WHO", help="Whose key (default: $IR_USER or login name).")
@click.option("--type", "kind", type=click.Choice(["ed25519", "ecdsa"]), default="ed25519", show_default=True)
@click.option(
    "--force", is_flag=True, help="Replace an existing key (signatures it made stay valid only while allowed)."
)
@click.pass_context
@guarded
def keys_init(ctx: click.Context, actor: str | None, kind: str, force: bool) -> None:
    """Create WHO's private key (0600) in the keys dir and print the allowed_signers line for ir.yaml."""
    from ir.core.signing import generate_key, public_info
    from ir.core.signing_trust import keys_dir, write_key

    who = actor_of(actor)
    if not who or "/" in who or who.startswith("."):
        raise InputError(f"{who!r}: not a usable principal name")
    path = keys_dir() / who
    root = _workspace_root(ctx)
    if root is not None and path.resolve().is_relative_to(root):
        raise InputError(
            f"{path}: inside the workspace {root}; keep private keys out of it (set IR_KEYS_DIR elsewhere)"
        )
    if path.exists() and not force:
        raise InputError(f"{path}: a key exists already (ir keys show --as {who}; --force replaces it)")
    key = generate_key(kind)
    write_key(path, key)
    info = public_info(key.public_key())
    click.echo(f"created {path} ({info.type}, {info.fingerprint})")
    click.echo("add this under signing.allowed_signers in ir.yaml (a reviewed commit):")
    click.echo(f'    {who}: "{info.openssh}"')


@keys_group.command("show")
@click.option("--as", "actor", metavar="WHO", help="Whose key (default: $IR_USER or login name).")
@click.option("--key", type=click.Path(dir_okay=False), help="This private key file instead of the lookup.")
@click.option(
    "--allowed-signers",
    "as_file",
    is_flag=True,
    help="Print the workspace's allowed signers as an OpenSSH allowed_signers file (for ssh-keygen -Y verify).",
)
@click.pass_context
@guarded
def keys_show(ctx: click.Context, actor: str | None, key: str | None, as_file: bool) -> None:
    """Print WHO's public key and fingerprint, and whether this workspace allows it (and as what)."""
    from ir.core.signing import load_private_key, public_info
    from ir.core.signing_trust import Trust, key_path, workspace_trust

    who = actor_of(actor)
    ws = _workspace(ctx) if not as_file else workspace_of(ctx)
    trust = workspace_trust(ws) if ws is not None else Trust()
    if as_file:
        click.echo(neutralise(trust.allowed_signers_file(), keep_newlines=True), nl=False)
        return
    path = key_path(who, trust, Path(key) if key else None)
    if path is None:
        raise InputError(f"no signing key for {who}: run `ir keys init --as {who}`")
    info = public_info(load_private_key(path).public_key())
    click.echo(f"key: {path}")
    click.echo(f"public: {info.openssh}")
    click.echo(f"fingerprint: {info.fingerprint}")
    if ws is None:
        click.echo("workspace: none here")
        return
    entry = trust.allowed(who, info.fingerprint)
    others = [s.principal for s in trust.of_key(info.fingerprint) if s.principal != who]
    if entry is not None:
        demo = " (demo key)" if entry.demo else ""
        click.echo(f"allowed: yes, as {neutralise(who)}, role {entry.role}{demo} ({trust.source})")
    elif others:
        click.echo(f"allowed: not for {neutralise(who)}; listed for {', '.join(others)} ({trust.source})")
    else:
        click.echo(f"allowed: no; add under signing.allowed_signers in {trust.source}:")
        click.echo(f'    {who}: "{info.openssh}"')


def _workspace(ctx: click.Context) -> Any:
    try:
        return workspace_of(ctx)
    except IrError:
        return None


def _workspace_root(ctx: click.Context) -> Path | None:
    ws = _workspace(ctx)
    return None if ws is None else Path(ws.root).resolve()
