from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory

from config.middleware import client_ip

SEARCH = "/api/v1/search"


def test_a_body_over_the_limit_is_a_413_with_a_message(alice, login):
    body = '{"query": "' + "x" * (3 * 1024 * 1024) + '"}'
    response = login(alice).post(SEARCH, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith(f"the request body is {len(body)} bytes")


def test_a_site_page_over_the_limit_is_a_plain_413_page(db):
    body = "username=" + "x" * (3 * 1024 * 1024)
    response = Client().post("/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert b"the limit is" in response.content
    assert b"Traceback" not in response.content


def test_an_upload_may_be_as_large_as_an_ingested_file(db):
    upload = SimpleUploadedFile("rules.txt", b"x" * (3 * 1024 * 1024))
    assert Client().post("/login/", {"file": upload}).status_code == 200


def test_requests_get_an_id_and_keep_a_sane_one_from_the_proxy(db):
    response = Client().get("/login/")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    kept = Client().get("/login/", HTTP_X_REQUEST_ID="proxy-1234abcd")
    assert kept["X-Request-ID"] == "proxy-1234abcd"
    forged = Client().get("/login/", HTTP_X_REQUEST_ID='x" level=ERROR\n')
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        (0, "198.51.100.1", "10.0.0.2"),  # no proxy is trusted: the peer is the client
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a client's own header stays left
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2"),  # fewer hops than proxies: not through them
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, address):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == address


def test_pages_carry_a_content_security_policy_that_allows_only_this_origin(db):
    policy = Client().get("/login/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_the_ask_page_has_no_inline_script_or_style(alice, login):
    page = login(alice).get("/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src=" in tag for tag in scripts)
    assert all(
        not body.strip() for body in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
    )
    assert not re.search(r"\sstyle=|<style\b|\son[a-z]+=", page)
