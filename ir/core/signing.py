"""SSH signatures in the SSHSIG format, the one `ssh-keygen -Y sign` writes (OpenSSH PROTOCOL.sshsig).

A signature covers `"SSHSIG" || string(namespace) || string(reserved) || string("sha512") ||
string(sha512(message))` and is stored, armored, with the signer's public key blob beside it, so
`ssh-keygen -Y verify -f allowed_signers -I PRINCIPAL -n agent-ir -s FILE < message` checks what
agent-ir signed, and agent-ir checks what `ssh-keygen -Y sign -n agent-ir` signed. Ed25519 and
ECDSA (nistp256/384/521) keys; private keys are unencrypted OpenSSH key files.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ir.core.errors import InputError

NAMESPACE = "agent-ir"
"""The SSHSIG namespace of every agent-ir signature (`ssh-keygen -n agent-ir`)."""
MAGIC = b"SSHSIG"
VERSION = 1
HASH_ALG = "sha512"
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"

_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "nistp256": (ec.SECP256R1(), hashes.SHA256()),
    "nistp384": (ec.SECP384R1(), hashes.SHA384()),
    "nistp521": (ec.SECP521R1(), hashes.SHA512()),
}
_CURVE_NAMES = {"secp256r1": "nistp256", "secp384r1": "nistp384", "secp521r1": "nistp521"}

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class SigningError(InputError):
    """A key that cannot be used, or a signature that cannot be read."""


class BadSignature(Exception):
    """A signature that does not verify; the message says why in a few words."""


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big") if value else b""
    return _string(raw)


class _Reader:
    """Reads SSH wire-format fields; any short or trailing data is a BadSignature."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise BadSignature("truncated signature data")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def string(self) -> bytes:
        (n,) = struct.unpack(">I", self.take(4))
        return self.take(n)

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise BadSignature("trailing bytes after the signature")


@dataclass(frozen=True)
class PublicKeyInfo:
    """A public key as OpenSSH shows it: type, wire blob, fingerprint, one-line form."""

    key: PublicKey
    blob: bytes

    @property
    def type(self) -> str:
        """The key type name, e.g. `ssh-ed25519` or `ecdsa-sha2-nistp256`."""
        return _Reader(self.blob).string().decode()

    @property
    def fingerprint(self) -> str:
        """`SHA256:<base64>`, as `ssh-keygen -l` prints it."""
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")

    @property
    def openssh(self) -> str:
        """`TYPE BASE64`, the form of an authorized_keys or allowed_signers line."""
        return f"{self.type} {base64.b64encode(self.blob).decode()}"


def public_info(key: PublicKey) -> PublicKeyInfo:
    """The OpenSSH view of a public key object."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return PublicKeyInfo(key, base64.b64decode(line.split()[1]))


def parse_public_key(text: str, where: str) -> PublicKeyInfo:
    """A public key from `TYPE BASE64 [comment]`; SigningError naming `where` when it is not one we use."""
    try:
        key = serialization.load_ssh_public_key(" ".join(text.split()[:2]).encode())
    except (ValueError, IndexError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{where}: not an OpenSSH public key ({exc})") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise SigningError(f"{where}: only ssh-ed25519 and ecdsa-sha2-nistp* keys are supported")
    return public_info(key)


def _from_blob(blob: bytes) -> PublicKeyInfo:
    reader = _Reader(blob)
    kind = reader.string().decode(errors="replace")
    try:
        key = serialization.load_ssh_public_key(f"{kind} {base64.b64encode(blob).decode()}".encode())
    except (ValueError, UnsupportedAlgorithm):
        raise BadSignature(f"unreadable public key of type {kind!r}") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise BadSignature(f"unsupported key type {kind!r}")
    return PublicKeyInfo(key, blob)


def load_private_key(path: Path) -> PrivateKey:
    """An unencrypted OpenSSH private key (Ed25519 or ECDSA); SigningError in one line otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read signing key: {exc.strerror}") from None
    try:
        key = serialization.load_ssh_private_key(data, password=None)
    except TypeError:
        raise SigningError(
            f"{path}: the signing key is encrypted (has a passphrase); use an unencrypted key file for "
            "agent-ir (ir keys init makes one) or none"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path}: not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path}: only Ed25519 and ECDSA keys can sign for agent-ir")
    return key


def generate_key(kind: str) -> PrivateKey:
    """A new private key: `ed25519`, or `ecdsa` (nistp256)."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    raise SigningError(f"key type {kind!r}: use ed25519 or ecdsa")


def private_key_bytes(key: PrivateKey) -> bytes:
    """The OpenSSH (unencrypted) file form of `key`."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )


def _signed_data(message: bytes, namespace: str, hash_alg: str = HASH_ALG) -> bytes:
    digest = (hashlib.sha512 if hash_alg == "sha512" else hashlib.sha256)(message).digest()
    return MAGIC + _string(namespace.encode()) + _string(b"") + _string(hash_alg.encode()) + _string(digest)


def _raw_sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return _string(b"ssh-ed25519") + _string(key.sign(data))
    curve = _CURVE_NAMES[key.curve.name]
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_CURVES[curve][1])))
    return _string(f"ecdsa-sha2-{curve}".encode()) + _string(_mpint(r) + _mpint(s))


def _raw_verify(info: PublicKeyInfo, sig: bytes, data: bytes) -> None:
    reader = _Reader(sig)
    alg, body = reader.string().decode(errors="replace"), reader.string()
    reader.end()
    if alg != info.type:
        raise BadSignature(f"signature algorithm {alg} does not match the key type {info.type}")
    try:
        if isinstance(info.key, ed25519.Ed25519PublicKey):
            info.key.verify(body, data)
            return
        inner = _Reader(body)
        r, s = inner.mpint(), inner.mpint()
        inner.end()
        curve = _CURVE_NAMES[info.key.curve.name]
        info.key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_CURVES[curve][1]))
    except InvalidSignature:
        raise BadSignature("the signature does not match the signed bytes") from None


def sign(key: PrivateKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """An armored SSHSIG signature of `message` by `key` in `namespace`."""
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(public_info(key.public_key()).blob)
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH_ALG.encode())
        + _string(_raw_sign(key, _signed_data(message, namespace)))
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def verify(armored: str, message: bytes, namespace: str = NAMESPACE) -> PublicKeyInfo:
    """The public key that made `armored` over `message` in `namespace`; BadSignature otherwise.

    Who that key belongs to, and whether they may sign, is for the caller (allowed signers).
    """
    text = armored.strip()
    if not (text.startswith(ARMOR_BEGIN) and text.endswith(ARMOR_END)):
        raise BadSignature("not an armored SSH signature")
    try:
        blob = base64.b64decode("".join(text[len(ARMOR_BEGIN) : -len(ARMOR_END)].split()), validate=True)
    except ValueError:
        raise BadSignature("the signature is not valid base64") from None
    reader = _Reader(blob)
    if reader.take(6) != MAGIC:
        raise BadSignature("not an SSHSIG signature")
    (version,) = struct.unpack(">I", reader.take(4))
    if version != VERSION:
        raise BadSignature(f"SSHSIG version {version} is not supported")
    info = _from_blob(reader.string())
    signed_ns = reader.string().decode(errors="replace")
    reader.string()  # reserved
    hash_alg = reader.string().decode(errors="replace")
    sig = reader.string()
    reader.end()
    if signed_ns != namespace:
        raise BadSignature(f"signed for namespace {signed_ns!r}, not {namespace!r}")
    if hash_alg not in ("sha512", "sha256"):
        raise BadSignature(f"unsupported hash {hash_alg!r}")
    _raw_verify(info, sig, _signed_data(message, namespace, hash_alg))
    return info
