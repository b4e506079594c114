"""Per-user API rates, by what a request costs: an answer more than a search."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

# URL names whose POST gets a scope of its own; every other API request is "api".
SCOPES = {"answer-create": "answers", "search": "search"}


def request_scope(request) -> str:
    match = request.resolver_match
    if request.method != "POST" or match is None:
        return "api"
    return SCOPES.get(match.url_name, "api")


class ApiRateThrottle(ScopedRateThrottle):
    """A view's `throttle_scope`, or else its URL name's, at the rate DEFAULT_THROTTLE_RATES
    gives it, counted per user (per address when anonymous). A throttled request gets a 429
    with Retry-After."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None) or request_scope(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)

    def get_rate(self) -> str:
        # Read on each request, not once at import as DRF's class attribute is.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"no rate for the API scope {self.scope!r}") from None
