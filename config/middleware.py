"""Request ids and request logs, request size limits, static files and the
Content-Security-Policy header."""

from __future__ import annotations

import logging
import re
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

from config.errors import error_response
from config.logs import request_id_var

logger = logging.getLogger("config.requests")

# An id from the proxy is kept only when it cannot forge a log line or a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXIES in front, the address the
    outermost trusted proxy saw, read from the right of X-Forwarded-For (whatever a client
    writes there itself stays to the left)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXIES:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [address for address in forwarded if address]
    if len(forwarded) < settings.TRUSTED_PROXIES:
        return remote
    return forwarded[-settings.TRUSTED_PROXIES]


class RequestLogMiddleware:
    """Give each request an id (the proxy's X-Request-ID, or a new one), log it once it is
    answered by method, path, status, time and user id, and send the id back."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Not reset afterwards: a streamed answer is produced after this returns, and its log
        # lines belong to the same request. The next request in this thread sets its own.
        request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "client": client_ip(request),
                "streamed": response.streaming,
            },
        )
        return response


class BodySizeMiddleware:
    """Refuse a body over the limit by its Content-Length, before anything reads it: a
    413 with a message (DRF's parsers read the stream whole and would not stop)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(declared)
        except ValueError:
            length = -1
        if length < 0:
            return error_response(request, 400, f"invalid Content-Length {declared[:20]!r}")
        multipart = request.content_type == "multipart/form-data"
        limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if length > limit:
            return error_response(
                request, 413, f"the request body is {length} bytes; the limit is {limit} bytes"
            )
        return self.get_response(request)


def policy_header(policy: dict[str, str]) -> str:
    return "; ".join(f"{directive} {value}" for directive, value in policy.items())


class ContentSecurityPolicyMiddleware:
    """CONTENT_SECURITY_POLICY on every response that does not set its own."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.header
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """whitenoise. Until static files are collected (STATIC_MANIFEST), it serves them from the
    apps and has no STATIC_ROOT to warn about."""

    def add_files(self, root, prefix=None) -> None:
        if settings.STATIC_MANIFEST or Path(root).is_dir():
            super().add_files(root, prefix)
