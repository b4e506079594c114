"""The site's URLs plus views that fail, for the error tests."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site


def fail(request):
    raise RuntimeError("secret detail: /srv/qa/config.py line 7")


urlpatterns = [
    path("api/v1/boom", fail),
    path("boom/", fail),
    *site,
]
