"""Errors outside the API views' own handling: JSON under /api/, a plain page elsewhere, and
never a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

API_PREFIX = "/api/"

MESSAGES = {
    400: "The request was malformed.",
    403: "You may not do that.",
    404: "There is nothing here.",
    413: "The request is too large.",
    500: "Something went wrong on our side; it has been logged.",
}


def error_response(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    message = message or MESSAGES[status]
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message}, status=status)
    try:
        body = loader.render_to_string("error.html", {"status": status, "message": message})
    except Exception:
        # The page must not fail as the error did (a broken template, no database).
        body = f"<!doctype html><title>{status}</title><p>{MESSAGES.get(status, '')}</p>"
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500)
