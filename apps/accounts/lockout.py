from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.views import exception_handler

from config.errors import API_PREFIX


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        "Too many failed sign-ins for this account or from this address. Sign-in is locked; "
        f"try again in {minutes} minutes."
    )


def lockout_response(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """The answer to a sign-in refused by the lockout: a 429 with Retry-After, as JSON for the
    API and as a page for the login forms."""
    if request.path.startswith(API_PREFIX):
        locked = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        locked = render(
            request, "registration/locked_out.html", {"message": lockout_message()}, status=429
        )
    locked["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return locked


def api_exception_handler(exc, context):
    """DRF's handler, except that a Basic-auth sign-in refused by the lockout is a 429 with
    the lockout's message, not a 401 that reads like one more wrong password."""
    # The lockout marks the request that authenticate() was given: DRF's, not Django's.
    if isinstance(exc, AuthenticationFailed) and getattr(
        context.get("request"), "axes_locked_out", False
    ):
        exc = Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=lockout_message())
    return exception_handler(exc, context)
