from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

# What deploy/ sets (deploy/compose.yaml, deploy/k8s/): nothing here connects to the database.
PRODUCTION = {
    "HTTPS": "1",
    "SECRET_KEY": "k" * 20 + "Qz8-vX2_mN4pL7rT1wY5sA9dF3gH6jK0bC",
    "ALLOWED_HOSTS": "qa.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://qa.example.org",
    "DATABASE_URL": "postgres://qa_app@db.invalid:5432/qa",
    "TRUSTED_PROXIES": "1",
    "CACHE": "database",
    "STATIC_MANIFEST": "1",
}


def run_django(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, *code.split()]
        if code.startswith("manage.py")
        else [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_debug_is_off_unless_asked_for():
    code = "import config.settings as s; print(s.DEBUG)"
    assert run_django(code, {}).stdout.strip() == "False"
    assert run_django(code, {"DEBUG": "1"}).stdout.strip() == "True"


def test_check_deploy_passes_under_the_production_settings():
    result = run_django("manage.py check --deploy --fail-level WARNING", PRODUCTION)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_https():
    """The check above is not vacuous: without the HTTPS settings it warns."""
    env = {k: v for k, v in PRODUCTION.items() if k != "HTTPS"}
    result = run_django("manage.py check --deploy --fail-level WARNING", env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


@pytest.mark.parametrize("password", ["password", "12345678901", "short1!", "alice@example"])
def test_weak_passwords_are_refused(django_user_model, db, password):
    user = django_user_model(username="alice", email="alice@example.org")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_is_accepted(django_user_model, db):
    validate_password("correct horse battery staple", django_user_model(username="alice"))


def test_loading_the_embedding_libraries_logs_no_warning_about_fetching_kernels():
    # sentence-transformers imports peft, which imports bitsandbytes, which looks for a CPU
    # kernel on the Hugging Face Hub; the product never fetches one, so each worker's start
    # logged two warnings that no operator can act on.
    code = (
        "import django; django.setup(); "
        "from sentence_transformers import SentenceTransformer; import bitsandbytes"
    )
    done = run_django(code, {"DJANGO_SETTINGS_MODULE": "config.settings", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "WARNING" not in done.stderr, done.stderr[-2000:]
