"""SSHSIG against Debian openssh-client's ssh-keygen, both ways; keys, allowed signers, trust."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from ir.core.signing import BadSignature, SigningError, load_private_key, public_info, sign, verify
from ir.core.signing_trust import NoSigner, Signer, Trust, file_trust, signer_for
from tests.conftest import make_key, ssh_keygen

MESSAGE = b'{"case":"c1","hash":"ab","seq":3,"type":"checkpoint"}'
KINDS = [("ed25519", []), ("ecdsa", ["-b", "256"]), ("ecdsa", ["-b", "384"]), ("ecdsa", ["-b", "521"])]


def keypair(tmp_path: Path, kind: str, bits: list[str]) -> Path:
    path = tmp_path / f"{kind}{''.join(bits)}"
    subprocess.run([ssh_keygen(), "-q", "-t", kind, *bits, "-N", "", "-C", "k", "-f", str(path)], check=True)
    return path


def ssh_verify(tmp_path: Path, pub: str, signature: str, message: bytes, namespace: str = "agent-ir") -> int:
    (tmp_path / "allowed").write_text(f"alice {pub}\n")
    (tmp_path / "msg.sig").write_text(signature)
    allowed, sig = str(tmp_path / "allowed"), str(tmp_path / "msg.sig")
    done = subprocess.run(
        [ssh_keygen(), "-Y", "verify", "-f", allowed, "-I", "alice", "-n", namespace, "-s", sig],
        input=message,
        capture_output=True,
    )
    return done.returncode


@pytest.mark.parametrize(("kind", "bits"), KINDS)
def test_ssh_keygen_verifies_what_we_sign(tmp_path: Path, kind: str, bits: list[str]) -> None:
    key_file = keypair(tmp_path, kind, bits)
    key = load_private_key(key_file)
    signature = sign(key, MESSAGE)
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----\n")
    pub = public_info(key.public_key()).openssh
    assert pub == " ".join(Path(f"{key_file}.pub").read_text().split()[:2])
    assert ssh_verify(tmp_path, pub, signature, MESSAGE) == 0
    assert ssh_verify(tmp_path, pub, signature, MESSAGE + b" ") != 0  # another message
    assert ssh_verify(tmp_path, pub, signature, MESSAGE, namespace="git") != 0


@pytest.mark.parametrize(("kind", "bits"), KINDS)
def test_we_verify_what_ssh_keygen_signs(tmp_path: Path, kind: str, bits: list[str]) -> None:
    key_file = keypair(tmp_path, kind, bits)
    (tmp_path / "msg").write_bytes(MESSAGE)
    subprocess.run(
        [ssh_keygen(), "-Y", "sign", "-q", "-f", str(key_file), "-n", "agent-ir", str(tmp_path / "msg")], check=True
    )
    signature = (tmp_path / "msg.sig").read_text()
    info = verify(signature, MESSAGE)
    fingerprint = subprocess.run([ssh_keygen(), "-lf", f"{key_file}.pub"], capture_output=True, text=True, check=True)
    assert info.fingerprint == fingerprint.stdout.split()[1]
    with pytest.raises(BadSignature, match="does not match"):
        verify(signature, MESSAGE.replace(b"3", b"4"))
    with pytest.raises(BadSignature, match="namespace"):
        verify(signature, MESSAGE, namespace="other")


def test_a_flipped_byte_in_the_signature_fails(tmp_path: Path) -> None:
    key = load_private_key(keypair(tmp_path, "ed25519", []))
    armored = sign(key, MESSAGE)
    lines = armored.splitlines()
    body = lines[-2]  # the last base64 line: inside the raw Ed25519 signature bytes
    lines[-2] = body[:5] + ("A" if body[5] != "A" else "B") + body[6:]
    with pytest.raises(BadSignature, match="does not match the signed bytes"):
        verify("\n".join(lines), MESSAGE)
    verify(armored, MESSAGE)  # the untouched one still verifies


def test_an_encrypted_key_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "locked"
    subprocess.run([ssh_keygen(), "-q", "-t", "ed25519", "-N", "passphrase", "-f", str(path)], check=True)
    with pytest.raises(SigningError, match=r"encrypted .*use an unencrypted key file for agent-ir .* or none"):
        load_private_key(path)
    (tmp_path / "junk").write_text("not a key")
    with pytest.raises(SigningError, match="not an OpenSSH private key"):
        load_private_key(tmp_path / "junk")


def test_allowed_signers_file_round_trip_and_ssh_keygen_accepts_it(tmp_path: Path) -> None:
    alice = make_key(tmp_path / "alice")
    bot = make_key(tmp_path / "bot", "ecdsa")
    trust = Trust(
        signers=(
            Signer("alice", "responder", public_info(load_private_key(tmp_path / "alice").public_key())),
            Signer("alertbot", "service", public_info(load_private_key(tmp_path / "bot").public_key())),
        )
    )
    text = trust.allowed_signers_file()
    (tmp_path / "allowed_signers").write_text(text)
    again = file_trust(tmp_path / "allowed_signers")
    assert [(s.principal, s.role, s.key.openssh) for s in again.signers] == [
        ("alice", "responder", alice),
        ("alertbot", "service", bot),
    ]
    (tmp_path / "msg.sig").write_text(sign(load_private_key(tmp_path / "bot"), MESSAGE))
    allowed, sig = str(tmp_path / "allowed_signers"), str(tmp_path / "msg.sig")
    done = subprocess.run(
        [ssh_keygen(), "-Y", "verify", "-f", allowed, "-I", "alertbot", "-n", "agent-ir", "-s", sig],
        input=MESSAGE,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr


def test_a_service_key_never_decides_and_an_unlisted_key_never_signs(tmp_path: Path) -> None:
    make_key(tmp_path / "bot")
    make_key(tmp_path / "stranger")
    bot = Signer("alertbot", "service", public_info(load_private_key(tmp_path / "bot").public_key()))
    trust = Trust(signers=(bot,), source="ir.yaml")
    assert signer_for(trust, "alertbot", tmp_path / "bot", decide=False)[0] == bot
    with pytest.raises(NoSigner, match="a service key never decides"):
        signer_for(trust, "alertbot", tmp_path / "bot", decide=True)
    with pytest.raises(NoSigner, match=r"not an allowed signer for alertbot in ir\.yaml"):
        signer_for(trust, "alertbot", tmp_path / "stranger", decide=False)
    with pytest.raises(NoSigner, match=r"no signing key for carol: run `ir keys init --as carol`"):
        signer_for(trust, "carol", None, decide=False)


def test_an_engine_given_no_trust_refuses_every_release(workspace: Path, signers: Any) -> None:
    from ir.core.decision import Decision, decide
    from ir.core.engine import Engine
    from ir.core.signing_trust import workspace_trust
    from ir.core.workspace import find_workspace
    from tests.unit.test_engine import Harness

    signers(workspace, "alice", "tester")
    h = Harness(workspace)  # an Engine(...) without the trust keyword
    case = Path(str(h.run(approve_all=True).case_dir))
    trust = workspace_trust(find_workspace(workspace))
    decide(
        case,
        decision=Decision.REENABLE,
        by="alice",
        reason="fixed; old api_key=abcdef1234567890 rotated",  # stored redacted: the signature covers that
        approve_as=None,
        second_approver=False,
        trust=trust,
        root_cause="injected mail",
        accept_follow_ups=True,
    )

    refused = h.run("agent-reenable", params={"incident": case.name}, approve_all=True)
    assert refused.steps["thaw"] == "failed" and "no allowed signers were given" in str(refused.message)
    assert h.world.inspect("support-bot").status == "paused"
    assert refused.signed_by is None and "no allowed signers" in str(refused.unsigned)

    assert "abcdef1234567890" not in (case / "journal.jsonl").read_text()
    h.engine = Engine(registry=h.engine.registry, backends=h.backends, workspace=h.ws.root, trust=trust)
    released = h.run("agent-reenable", params={"incident": case.name}, approve_all=True)
    assert released.steps["thaw"] == "succeeded" and released.signed_by == "tester"
    assert h.world.inspect("support-bot").status == "running"
