from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def failing_site(settings):
    settings.ROOT_URLCONF = "tests.config.error_urls"
    return Client(raise_request_exception=False)


def test_an_api_crash_is_json_without_a_trace(failing_site):
    response = failing_site.get("/api/v1/boom")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Something went wrong on our side; it has been logged."}


def test_a_page_crash_is_a_plain_page_without_a_trace(failing_site):
    response = failing_site.get("/boom/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    for leak in ("secret detail", "Traceback", "config.py", "INSTALLED_APPS"):
        assert leak not in page


def test_an_unknown_api_path_is_a_json_404(db):
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is nothing here."}


def test_an_unknown_page_is_a_plain_404_page(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "There is nothing here." in response.content.decode()
    assert "URLconf" not in response.content.decode()


def test_a_disallowed_host_is_a_plain_400(db):
    response = Client().get("/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()
