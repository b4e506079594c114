from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

# Any API request authenticates; this one does no retrieval.
API = "/api/v1/ingestion-jobs/"
GUESSES = 30


@pytest.fixture(autouse=True)
def fast_hashes(settings):
    # The lockout is what is under test, not pbkdf2's million iterations per guess.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def basic(username: str, password: str, address: str = "203.0.113.7") -> Client:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=address)


def call_api(client: Client):
    return client.get(API)


def sign_in(path: str, username: str, password: str, address: str = "203.0.113.7"):
    client = Client(REMOTE_ADDR=address)
    return client.post(path, {"username": username, "password": password})


def test_basic_auth_refuses_the_right_password_after_30_wrong_ones(alice):
    statuses = [call_api(basic("alice", f"guess-{n}")).status_code for n in range(GUESSES)]
    # DRF's answer to a wrong password, until the tenth locks the account.
    assert statuses[:9] == [403] * 9
    assert set(statuses[9:]) == {429}

    locked = call_api(basic("alice", "alice-pw"))
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == 15 * 60


def test_the_lockout_ends_after_the_cool_off(alice):
    for n in range(GUESSES):
        call_api(basic("alice", f"guess-{n}"))
    assert call_api(basic("alice", "alice-pw")).status_code == 429

    # Sixteen minutes later, as far as the lockout can tell.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert call_api(basic("alice", "alice-pw")).status_code == 200


def test_the_account_is_locked_from_every_address(alice):
    for n in range(GUESSES):
        call_api(basic("alice", f"guess-{n}", address=f"198.51.100.{n}"))
    assert call_api(basic("alice", "alice-pw", address="192.0.2.200")).status_code == 429


def test_the_address_is_locked_for_every_account(alice, bob):
    for n in range(GUESSES):
        call_api(basic(f"someone-{n}", "guess"))
    assert call_api(basic("alice", "alice-pw")).status_code == 429
    assert call_api(basic("bob", "bob-pw", address="192.0.2.200")).status_code == 200


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_the_login_forms_refuse_the_right_password_after_30_wrong_ones(alice, path):
    alice.is_staff = True
    alice.save()
    statuses = [sign_in(path, "alice", f"guess-{n}").status_code for n in range(GUESSES)]
    assert statuses[:9] == [200] * 9  # the form again, with its error
    assert set(statuses[9:]) == {429}

    locked = sign_in(path, "alice", "alice-pw")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    page = locked.content.decode()
    assert "Sign-in locked" in page
    assert "Too many failed sign-ins for this account or from this address" in page
    assert "sessionid" not in locked.cookies


def test_a_lockout_on_the_form_also_holds_for_basic_auth(alice):
    for n in range(GUESSES):
        sign_in("/login/", "alice", f"guess-{n}")
    assert call_api(basic("alice", "alice-pw", address="192.0.2.200")).status_code == 429


def test_signing_in_before_the_limit_starts_the_count_again(alice):
    for _ in range(2):
        for n in range(9):
            sign_in("/login/", "alice", f"guess-{n}")
        assert sign_in("/login/", "alice", "alice-pw").status_code == 302


def test_a_locked_out_guess_costs_no_password_hash(alice, monkeypatch):
    from django.contrib.auth.backends import ModelBackend

    for n in range(GUESSES):
        call_api(basic("alice", f"guess-{n}"))
    checked = []
    original = ModelBackend.authenticate
    monkeypatch.setattr(
        ModelBackend, "authenticate", lambda *a, **kw: checked.append(1) or original(*a, **kw)
    )
    assert call_api(basic("alice", "another-guess")).status_code == 429
    assert sign_in("/login/", "alice", "another-guess").status_code == 429
    assert checked == []
