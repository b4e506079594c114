"""Ed25519 keys and checkpoint signatures.

The key is a PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) read from AUDIT_SIGNING_KEY
or the file AUDIT_SIGNING_KEY_FILE names; on a laptop, without either, one is made on first use
under var/. A checkpoint is trusted when its signature holds under the signing key's public key
or one listed in AUDIT_PUBLIC_KEYS (hex), never merely the key stored beside it.
"""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class SigningKeyError(Exception):
    """No usable signing key, with a message saying where one was looked for."""


def checkpoint_message(seq: int, hash_: str, signed_at: datetime.datetime) -> bytes:
    at = signed_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return f"compliance-qa audit checkpoint\nseq={seq}\nhash={hash_}\nsigned_at={at}\n".encode()


def signing_key(*, create: bool = False) -> Ed25519PrivateKey:
    """The configured key; with `create`, a laptop without one gets a new key under var/."""
    pem = settings.AUDIT_SIGNING_KEY
    path = Path(settings.AUDIT_SIGNING_KEY_PATH)
    if not pem and path.exists():
        pem = path.read_text()
    if not pem and create:
        pem = new_key_file(path)
    if not pem:
        raise SigningKeyError(
            f"no audit signing key: set AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE, or keep "
            f"one at {path}"
        )
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except ValueError as exc:
        raise SigningKeyError(f"the audit signing key is not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the audit signing key is not an Ed25519 key")
    return key


def new_key_file(path: Path) -> str:
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(pem)
    return pem


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(*RAW).hex()


def trusted_keys() -> set[str]:
    """Public keys (hex) a checkpoint may be signed with."""
    keys = {key.lower() for key in settings.AUDIT_PUBLIC_KEYS}
    with contextlib.suppress(SigningKeyError):
        keys.add(public_hex(signing_key()))
    return keys


def signature_holds(public_key: str, signature: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(signature), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True
