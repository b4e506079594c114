from __future__ import annotations

import os
import secrets
from datetime import timedelta
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


# Debug pages show settings, paths and URL patterns: only on when asked for.
DEBUG = env_bool("DEBUG")
SECRET_KEY = env_secret("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS: served by a TLS-terminating proxy that sets X-Forwarded-Proto (deploy/). Off on a
# laptop, where the site is plain http://127.0.0.1.
HTTPS = env_bool("HTTPS")
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)
# Proxies in front of the site that append to X-Forwarded-For (the deploy/ proxy: 1). The
# client's address, for sign-in lockouts and logs, is read that far from the right.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "apps.audit",
    "apps.accounts",
    "apps.corpora",
    "apps.adapters",
    "apps.retrieval",
    "apps.assistant",
    "apps.portal",
    "apps.review",
    "apps.evaluation",
    "apps.training",
]

MIDDLEWARE = [
    # Probes reach the pods by address, over plain HTTP: answered before host checks and the
    # HTTPS redirect.
    "config.health.HealthMiddleware",
    "config.middleware.RequestLogMiddleware",
    "config.middleware.BodySizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
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
DATABASE_URL = env_secret("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=CONNECTION_SECONDS, conn_health_checks=True
        )
    }
    # The password may come from a file of its own (one per database role), not the URL.
    if env_secret("DATABASE_PASSWORD"):
        DATABASES["default"]["PASSWORD"] = env_secret("DATABASE_PASSWORD")
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

# Database roles (README, "The audit trail"). The site and its commands connect as the
# application role, which may only INSERT and SELECT the audit trail and the answers; migrate,
# flush and createcachetable connect as the role that owns the tables, named by
# DATABASE_OWNER_URL (the same database; its password may come from DATABASE_OWNER_PASSWORD).
# Embedded: the application role compliance_app, and the server's superuser as the owner.
if DATABASE_URL:
    _owner = dj_database_url.parse(env_secret("DATABASE_OWNER_URL") or DATABASE_URL)
    DATABASES["default"]["OWNER"] = {
        "USER": _owner["USER"],
        "PASSWORD": env_secret("DATABASE_OWNER_PASSWORD") or _owner["PASSWORD"],
    }
else:
    DATABASES["default"]["USER"] = "compliance_app"
    DATABASES["default"]["OWNER"] = {"USER": "postgres", "PASSWORD": ""}

# Audit checkpoints are signed with an Ed25519 key (PKCS#8 PEM) from AUDIT_SIGNING_KEY or
# AUDIT_SIGNING_KEY_FILE, else one made on first use under var/; AUDIT_PUBLIC_KEYS (hex, comma
# separated) are other keys whose checkpoints verify, such as a rotated key's.
AUDIT_SIGNING_KEY = env_secret("AUDIT_SIGNING_KEY")
AUDIT_SIGNING_KEY_PATH = VAR_DIR / "audit-signing-key.pem"
AUDIT_PUBLIC_KEYS = env_list("AUDIT_PUBLIC_KEYS")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": env_str("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Shared by every process of the site (throttle counts); "database" needs `createcachetable`,
# which the deploy's migrate step runs. The default keeps each process's own.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if env_str("CACHE", "local") == "local"
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.throttles.ApiRateThrottle"],
    # Per signed-in user (per address when anonymous); an answer costs retrieval and generation,
    # a search retrieval only.
    "DEFAULT_THROTTLE_RATES": {
        "answers": env_str("API_RATE_ANSWERS", "30/min"),
        "search": env_str("API_RATE_SEARCH", "120/min"),
        "api": env_str("API_RATE", "600/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXIES,
    "EXCEPTION_HANDLER": "apps.accounts.lockout.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The OpenAPI schema at /api/v1/schema/ and its Swagger UI page, for signed-in users only; the
# page's scripts are the sidecar package's static files, so nothing loads from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance QA API",
    "DESCRIPTION": "Answers with checked citations, hybrid search, and ingestion jobs.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "OAS_VERSION": "3.1.0",
    "ENUM_NAME_OVERRIDES": {
        "AnswerStatusEnum": "apps.assistant.models.AnswerStatus",
        "JobStatusEnum": "apps.corpora.models.JobStatus",
        "FusionMethodEnum": "apps.retrieval.tuned_fusion.METHODS",
        "FusionPlanMethodEnum": "apps.retrieval.apis.FUSION_PLAN_METHODS",
    },
}

# Largest request body, and nesting of a JSON body; uploads may be as large as an ingested file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BYTES", 2_621_440)
UPLOAD_MAX_BYTES = env_int("INGEST_MAX_BYTES", 50 * 1024 * 1024) + 1024 * 1024
JSON_MAX_DEPTH = 32

AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

# Failed sign-ins (the login form, the admin, Basic auth) lock out the account and, apart, the
# address; a failure during the lockout starts the cool-off again. The check runs before the
# password hash (0.3 s of CPU), so a locked-out guesser costs a query, not a hash.
AXES_FAILURE_LIMIT = env_int("LOCKOUT_FAILURES", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"
AXES_VERBOSE = False
# Axes keeps failed sign-ins' form fields; never a question or a query.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "question", "query"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
# The image collects static files with hashed names at build time (STATIC_MANIFEST=1); without
# that, whitenoise serves them from the apps, so the laptop needs no collectstatic.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
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
# The development sets with gold spans, which the evaluation and benchmark commands read by
# default (the product itself and its tests never do).
SHARED_DATA_DIR = Path(env_str("SHARED_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))


# extractive (no model), local (in-process transformers) or tgi (TGI_URL)
GENERATOR_BACKEND = env_str("GENERATOR_BACKEND", "extractive")
GENERATOR_MAX_NEW_TOKENS = env_int("GENERATOR_MAX_NEW_TOKENS", 768)
ANSWER_SOURCES = env_int("ANSWER_SOURCES", 8)  # passages retrieved and numbered in the prompt

# tgi: a Text Generation Inference server, or any server with the OpenAI chat API (vLLM, SGLang)
TGI_URL = env_str("TGI_URL", "http://127.0.0.1:8080")
TGI_API = env_str("TGI_API", "generate")  # generate (native, grammar + adapter_id) or chat
TGI_MODEL = env_str("TGI_MODEL", "tgi")  # the model name sent to the chat API
TGI_TOKEN = env_secret("TGI_TOKEN")
TGI_TIMEOUT_S = env_int("TGI_TIMEOUT_S", 60)
TGI_MAX_RETRIES = env_int("TGI_MAX_RETRIES", 3)  # on 429 and 503, with exponential backoff
# LoRA adapters come from the registry (apps.adapters); an adapter id is sent only when the server
# lists it (server), or, for a server that lists none such as TGI 3.3, on the registry's word
# alone (registry).
TGI_ADAPTER_CHECK = env_str("TGI_ADAPTER_CHECK", "server")

# local: in-process transformers; "" = the packaged Gemma-3-270M, converted once into var/models
LOCAL_MODEL = env_str("LOCAL_MODEL")

# The site's own pages and headers: a Content-Security-Policy that allows only this origin's
# scripts and styles (the ask page's script is a static file).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# One JSON object per line, with the request id (LOG_FORMAT=text for people). At INFO the site
# logs requests by method, path, status and user id: never a question, a query or corpus text.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env_str("LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "sentence_transformers": {"level": "WARNING"},
        # Requests are logged once, by config.middleware, without query strings.
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # bitsandbytes (imported through sentence-transformers and peft) looks for a CPU kernel
        # on the Hugging Face Hub and warns when it cannot fetch one; nothing is ever fetched
        # here, and it computes without it.
        "kernels": {"level": "ERROR"},
        "bitsandbytes.backends.cpu.ops": {"level": "ERROR"},
    },
}
