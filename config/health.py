"""Liveness (/healthz) and readiness (/readyz) for compose and Kubernetes probes.

Probes reach a pod by its address over plain HTTP, so both are answered ahead of the host
check and the HTTPS redirect, and neither touches a session or a user.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

# A passing check that cannot fail again while the process lives (migrations applied, the
# embedding model loaded) is run once; a reachable generator is believed for a few seconds.
GENERATOR_TTL_S = 10.0
PROBE_TIMEOUT_S = 2.0

passed_once: set[str] = set()
generator_seen_at: dict[str, float] = {}
check_lock = threading.Lock()


class NotReady(Exception):
    pass


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_migrations() -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise NotReady(f"{len(plan)} migrations not applied, first {plan[0][0]}")


def check_embedding_model() -> None:
    from apps.corpora.embedding import EmbeddingModelError, get_embedder

    try:
        get_embedder()
    except (EmbeddingModelError, OSError) as exc:
        raise NotReady(str(exc)) from None


def check_generator() -> None:
    backend = settings.GENERATOR_BACKEND
    if backend == "extractive":
        return
    if backend == "local":
        if settings.LOCAL_MODEL and not Path(settings.LOCAL_MODEL).is_dir():
            raise NotReady(f"LOCAL_MODEL {settings.LOCAL_MODEL} is not a directory")
        return
    if backend != "tgi":
        raise NotReady(f"unknown generator backend {backend!r}")
    seen = generator_seen_at.get(settings.TGI_URL)
    if seen is not None and time.monotonic() - seen < GENERATOR_TTL_S:
        return
    probe_generator_server(settings.TGI_URL.rstrip("/") + "/health")
    generator_seen_at[settings.TGI_URL] = time.monotonic()


def probe_generator_server(url: str) -> None:
    request = urllib.request.Request(url)
    if settings.TGI_TOKEN:
        request.add_header("Authorization", f"Bearer {settings.TGI_TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        raise NotReady(f"{url} unreachable: {getattr(exc, 'reason', exc)}") from None
    if status != 200:
        raise NotReady(f"{url} answered {status}")


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "migrations": check_migrations,
    "embedding_model": check_embedding_model,
    "generator": check_generator,
}
ONCE = {"migrations", "embedding_model"}


def readiness() -> tuple[bool, dict[str, str]]:
    """Each check's result, "ok" or why not; a check after a failed database is skipped."""
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        if name in passed_once:
            results[name] = "ok"
            continue
        if results.get("database", "ok") != "ok":
            results[name] = "skipped: no database"
            continue
        try:
            with check_lock:
                check()
        except Exception as exc:
            results[name] = f"failed: {exc}"[:300]
            continue
        results[name] = "ok"
        if name in ONCE:
            passed_once.add(name)
    return all(result == "ok" for result in results.values()), results


class HealthMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return JsonResponse({"status": "ok"})
            if request.path == "/readyz":
                ready, checks = readiness()
                return JsonResponse(
                    {"status": "ready" if ready else "not ready", "checks": checks},
                    status=200 if ready else 503,
                )
        return self.get_response(request)
