"""OpenSSH allowed_signers files read as ssh-keygen reads them, cross-checked with `ssh-keygen -Y verify`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ir.core.allowed_signers import LineSkipped, parse_line
from ir.core.signing import load_private_key, sign
from ir.core.signing_trust import file_trust
from tests.conftest import make_key, ssh_keygen

MESSAGE = b"the head of a case"


def ssh_verify(allowed: Path, principal: str, signature: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "msg.sig").write_text(signature)
    args = ["-Y", "verify", "-f", str(allowed), "-I", principal, "-n", "agent-ir", "-s", str(tmp_path / "msg.sig")]
    return subprocess.run([ssh_keygen(), *args], input=MESSAGE, capture_output=True)


def signed(tmp_path: Path, name: str = "alice") -> tuple[str, str, str]:
    """(public key line, armored signature of MESSAGE, fingerprint) for a fresh ssh-keygen key."""
    public = make_key(tmp_path / "keys" / name)
    out = subprocess.run(
        [ssh_keygen(), "-l", "-f", str(tmp_path / "keys" / f"{name}.pub")], capture_output=True, text=True, check=True
    )
    return public, sign(load_private_key(tmp_path / "keys" / name), MESSAGE), out.stdout.split()[1]


def test_the_grammar_principals_options_type_key() -> None:
    key = "AAAAC3NzaC1lZDI1NTE5AAAAIB7Vt7cYYJS3xgxbrG6qFmRkZbf5lHBv0KqEjMYDzJz1"
    admin = parse_line(f"ssh-admin ssh-ed25519 {key}")
    assert admin.principals == ("ssh-admin",) and admin.key == f"ssh-ed25519 {key}"  # a principal, not a type
    quoted = parse_line(f'"a@x,b@x" namespaces="git,agent-ir",valid-after="20240101Z" ssh-ed25519 {key} c role=service')
    assert quoted.principals == ("a@x", "b@x") and quoted.namespaces == ("git", "agent-ir")
    assert quoted.valid_after is not None and quoted.valid_after.isoformat() == "2024-01-01T00:00:00+00:00"
    assert quoted.service
    for line, why in [
        (f"ca cert-authority ssh-ed25519 {key}", "cert-authority"),
        ("bob ssh-rsa AAAAB3NzaC1yc2E", "ssh-rsa keys cannot be verified"),
        (f"carol sk-ssh-ed25519@openssh.com {key}", "sk-ssh-ed25519@openssh.com keys cannot be verified"),
        (f'dan no-touch-required,namespaces="x" ssh-ed25519 {key}', "unknown option 'no-touch-required'"),
        (f'erin valid-before="2024" ssh-ed25519 {key}', "unreadable time"),
        ("frank", "not an allowed_signers line"),
    ]:
        with pytest.raises(LineSkipped, match=why):
            parse_line(line)


def test_lines_agent_ir_cannot_honour_are_skipped_not_fatal(tmp_path: Path) -> None:
    public, signature, fingerprint = signed(tmp_path)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(
        "# team signers\n"
        "carol sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIA==\n"
        f"ca cert-authority {public}\n"
        f'gitonly namespaces="git" {public}\n'
        f"alice {public}\n"
    )
    trust = file_trust(allowed)
    assert trust.allowed("alice", fingerprint) is not None  # one FIDO line does not sink the file
    assert trust.allowed("ca", fingerprint) is None and trust.allowed("gitonly", fingerprint) is None
    notes = [note for _who, note in trust.ignored]
    assert notes[0].startswith(f"{allowed}:2: allowed signer carol ignored: sk-ssh-ed25519@openssh.com keys")
    assert notes[1].startswith(f"{allowed}:3: allowed signer ca ignored: cert-authority")
    assert notes[2] == f'{allowed}:4: allowed signer gitonly ignored: its namespaces="git" do not include agent-ir'
    assert ssh_verify(allowed, "gitonly", signature, tmp_path).returncode != 0  # ssh-keygen agrees
    assert ssh_verify(allowed, "alice", signature, tmp_path).returncode == 0


def test_valid_before_and_principal_patterns_agree_with_ssh_keygen(tmp_path: Path) -> None:
    public, signature, fingerprint = signed(tmp_path)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'alice valid-before="20200101" {public}\n')
    expired = file_trust(allowed)
    assert expired.allowed("alice", fingerprint, "2026-11-21T10:00:00Z") is None
    assert "allows only valid before 2020-01-01" in expired.refusal("alice", fingerprint, "2026-11-21T10:00:00Z")
    assert expired.allowed("alice", fingerprint, "2019-06-01T10:00:00Z") is not None  # signed while valid
    refused = ssh_verify(allowed, "alice", signature, tmp_path)
    assert refused.returncode != 0 and b"expired" in refused.stdout + refused.stderr

    allowed.write_text(f'*@example.com,!eve@example.com valid-before="29990101" {public}\n')
    patterns = file_trust(allowed)
    assert patterns.allowed("alice@example.com", fingerprint) is not None
    assert patterns.allowed("eve@example.com", fingerprint) is None
    assert ssh_verify(allowed, "alice@example.com", signature, tmp_path).returncode == 0
    assert ssh_verify(allowed, "eve@example.com", signature, tmp_path).returncode != 0
