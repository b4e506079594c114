from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses sign-ins from a locked-out account or address, before any password is hashed.

    Every sign-in over HTTP passes its request (the login form, the admin, Basic auth). A call
    without one (a management command, a shell) has no address to count and is not refused.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
