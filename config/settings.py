from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_adapters(name: str) -> dict[str, str]:
    """LoRA adapters in TGI's LORA_ADAPTERS form: `name=/path,other=/path`."""
    adapters = {}
    for item in env_list(name):
        adapter, _, path = item.partition("=")
        adapters[adapter.strip()] = path.strip() or adapter.strip()
    return adapters


def env_secret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker and k8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


def local_secret_key() -> str:
    # Without SECRET_KEY the product runs on a laptop: keep one random key under var/ so
    # sessions survive restarts, and never ship a key in the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", default=not os.environ.get("DATABASE_URL"))
SECRET_KEY = env_secret("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_tasks",
    "django_tasks_db",
    "apps.accounts",
    "apps.corpora",
    "apps.retrieval",
    "apps.assistant",
    "apps.portal",
    "apps.evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections are kept for a minute and checked before reuse: opening one per request cost
# every search a new server process (retrieve() at 100,000 chunks p50/p95 43.7/62.6 ->
# 28.8/41.0 ms).
CONNECTION_SECONDS = 60
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"],
            conn_max_age=CONNECTION_SECONDS,
            conn_health_checks=True,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "config.embedded_postgres",
            "NAME": "postgres",
            "USER": "postgres",
            "DATA_DIR": str(VAR_DIR / "pgdata"),
            "CONN_MAX_AGE": CONNECTION_SECONDS,
            "CONN_HEALTH_CHECKS": True,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": env_str("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ask"
LOGOUT_REDIRECT_URL = "login"

EMBEDDING_MODEL = env_str("EMBEDDING_MODEL")  # a local sentence-transformers path; "" = packaged
EMBEDDING_DIM = env_int("EMBEDDING_DIM", 384)
EMBEDDING_BATCH_SIZE = env_int("EMBEDDING_BATCH_SIZE", 32)
# Models converted once on this machine: the embedding model's ONNX export, the local
# generator's weights converted from GGUF.
MODEL_CACHE = Path(env_str("MODEL_CACHE", str(VAR_DIR / "models")))
INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 50 * 1024 * 1024)


# extractive (no model), local (in-process transformers) or tgi (TGI_URL)
GENERATOR_BACKEND = env_str("GENERATOR_BACKEND", "extractive")
GENERATOR_ADAPTERS = env_adapters("GENERATOR_ADAPTERS")
GENERATOR_MAX_NEW_TOKENS = env_int("GENERATOR_MAX_NEW_TOKENS", 768)
ANSWER_SOURCES = env_int("ANSWER_SOURCES", 8)  # passages retrieved and numbered in the prompt

# tgi: a Text Generation Inference server, or any server with the OpenAI chat API (vLLM, SGLang)
TGI_URL = env_str("TGI_URL", "http://127.0.0.1:8080")
TGI_API = env_str("TGI_API", "generate")  # generate (native, grammar + adapter_id) or chat
TGI_MODEL = env_str("TGI_MODEL", "tgi")  # the model name sent to the chat API
TGI_TOKEN = env_secret("TGI_TOKEN")
TGI_TIMEOUT_S = env_int("TGI_TIMEOUT_S", 60)
TGI_MAX_RETRIES = env_int("TGI_MAX_RETRIES", 3)  # on 429 and 503, with exponential backoff

# local: in-process transformers; "" = the packaged Gemma-3-270M, converted once into var/models
LOCAL_MODEL = env_str("LOCAL_MODEL")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "sentence_transformers": {"level": "WARNING"},
    },
}
