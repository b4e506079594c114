from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.core.management import call_command

from apps.accounts.selectors import readable_corpora
from apps.corpora.parsers import parse_path

DEMO = Path(django_settings.BASE_DIR) / "fixtures"


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", skip_ingest=True, stdout=out)
    return out.getvalue()


def test_demo_users_get_their_roles_grants_and_printed_passwords(db, var_dir):
    printed = load_demo()

    passwords = json.loads((var_dir / "demo-users.json").read_text())
    assert set(passwords) == {"admin", "alice", "bob", "carol"}
    for username, password in passwords.items():
        assert f"{username:<8} {password}" in printed
        assert authenticate(username=username, password=password) is not None
    alice = authenticate(username="alice", password=passwords["alice"])
    assert set(readable_corpora(alice).values_list("slug", flat=True)) == {"legal", "regulatory"}
    carol = authenticate(username="carol", password=passwords["carol"])
    assert carol.groups.filter(name="auditor").exists() and not readable_corpora(carol).exists()


def test_loading_the_demo_twice_keeps_users_and_passwords(db, var_dir):
    load_demo()
    first = (var_dir / "demo-users.json").read_text()
    load_demo()
    assert (var_dir / "demo-users.json").read_text() == first


@pytest.mark.parametrize("corpus", ["legal", "medical", "regulatory"])
def test_demo_corpora_parse_cleanly_and_carry_attributions(corpus):
    result = parse_path(DEMO / corpus / "documents.jsonl", max_bytes=50 * 1024 * 1024)
    assert result.problems == [] and len(result.documents) >= 4
    assert list((DEMO / corpus).glob("ABOUT-*.md"))
    spec = json.loads((DEMO / "demo.json").read_text())
    entry = next(c for c in spec["corpora"] if c["slug"] == corpus)
    assert f"fixtures/{corpus}/ABOUT-" in entry["attribution"]
    assert re.search(r"Apache-2\.0|CC BY 4\.0|MIT|public domain", entry["attribution"])
