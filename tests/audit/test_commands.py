from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import Checkpoint
from apps.audit.services import checkpoint_create, event_record
from apps.audit.verification import audit_verify


def pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def signing_key(settings, tmp_path):
    key = Ed25519PrivateKey.generate()
    settings.AUDIT_SIGNING_KEY = pem(key)
    settings.AUDIT_SIGNING_KEY_PATH = tmp_path / "unused.pem"
    return key


def test_a_checkpoint_is_signed_stored_and_exported_for_anchoring(
    db, signing_key, capsys, tmp_path
):
    event_record(action="test.done")
    call_command("audit_checkpoint", "--out", str(tmp_path / "cp.json"))
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "cp.json").read_text())
    assert printed["seq"] == 1 and Checkpoint.objects.count() == 1
    # Anyone holding the public key checks it from the export alone.
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(printed["public_key"]))
    public.verify(bytes.fromhex(printed["signature"]), printed["message"].encode())
    assert (
        printed["public_key"]
        == signing_key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )

    call_command("audit_checkpoint", "--export")
    assert json.loads(capsys.readouterr().out) == printed
    assert Checkpoint.objects.count() == 1


def test_checkpointing_an_empty_trail_or_with_a_bad_key_says_why(db, settings, signing_key):
    with pytest.raises(CommandError, match="nothing to sign"):
        call_command("audit_checkpoint")
    event_record(action="test.done")
    settings.AUDIT_SIGNING_KEY = "not a key"
    with pytest.raises(CommandError, match="not a PEM private key"):
        call_command("audit_checkpoint")


def test_a_checkpoint_signed_with_an_untrusted_key_fails(db, settings, signing_key):
    event_record(action="test.done")
    checkpoint_create(key=Ed25519PrivateKey.generate())
    result = audit_verify()
    assert [p.message for p in result.problems] == [
        f"the checkpoint of {Checkpoint.objects.get().signed_at:%Y-%m-%d %H:%M:%S} UTC is "
        "signed with a key that is not trusted"
    ]


def test_a_rotated_key_stays_trusted_when_listed(db, settings, signing_key):
    old = Ed25519PrivateKey.generate()
    event_record(action="test.done")
    checkpoint_create(key=old)
    settings.AUDIT_PUBLIC_KEYS = [
        old.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    ]
    assert audit_verify().ok
