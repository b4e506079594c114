"""Liveness (/healthz) and readiness (/readyz) for compose and Kubernetes probes, and the same
checks from the command line (`python -m config.health`) for pods that serve no HTTP.

Probes reach a pod by its address over plain HTTP, so both are answered ahead of the host
check and the HTTPS redirect, and neither touches a session or a user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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
    for name in CHECKS:
        if name in passed_once:
            results[name] = "ok"
        elif results.get("database", "ok") != "ok":
            results[name] = "skipped: no database"
        else:
            with check_lock:
                results[name] = run_check(name)
            if results[name] == "ok" and name in ONCE:
                passed_once.add(name)
    return all(result == "ok" for result in results.values()), results


def run_check(name: str) -> str:
    try:
        CHECKS[name]()
    except Exception as exc:
        return f"failed: {exc}"[:300]
    return "ok"


class HealthMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Probes come straight to the pod; through the proxy (which always sets
        # X-Forwarded-For) these paths are not found, and readiness details stay inside.
        probe = "HTTP_X_FORWARDED_FOR" not in request.META
        if probe and request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return JsonResponse({"status": "ok"})
            if request.path == "/readyz":
                ready, checks = readiness()
                return JsonResponse(
                    {"status": "ready" if ready else "not ready", "checks": checks},
                    status=200 if ready else 503,
                )
        return self.get_response(request)


def main(argv: list[str] | None = None) -> int:
    """Run checks outside the site, for pods that serve no HTTP (the workers' probes, an init
    container waiting for migrations): exit status 0 when all pass."""
    parser = argparse.ArgumentParser(prog="python -m config.health", description=main.__doc__)
    parser.add_argument("checks", nargs="*", metavar="CHECK", help=f"any of {', '.join(CHECKS)}")
    parser.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="retry every 5 s until they pass or SECONDS have passed",
    )
    options = parser.parse_args(argv)
    unknown = set(options.checks) - set(CHECKS)
    if unknown:
        parser.error(f"unknown checks: {', '.join(sorted(unknown))}")
    setup_django()
    results = checks_until_passed(options.checks or list(CHECKS), options.wait)
    passed = all(result == "ok" for result in results.values())
    print(json.dumps(results), file=sys.stdout if passed else sys.stderr)
    return 0 if passed else 1


def setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()


def checks_until_passed(names: list[str], wait_s: float) -> dict[str, str]:
    deadline = time.monotonic() + wait_s
    while True:
        results = {name: run_check(name) for name in names}
        if all(r == "ok" for r in results.values()) or time.monotonic() >= deadline:
            return results
        connection.close()
        time.sleep(5)


if __name__ == "__main__":
    sys.exit(main())
