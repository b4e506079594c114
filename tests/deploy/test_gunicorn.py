"""The site as deploy/ runs it: static files collected with hashed names as the image does,
then gunicorn with deploy/gunicorn.conf.py and the production settings, on the loopback,
against the test database."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings

HOST = "qa.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def site(database_url, tmp_path):
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": database_url,
        "HTTPS": "1",
        "TRUSTED_PROXIES": "1",
        "SECRET_KEY": "a-test-key-that-is-long-enough-for-check-deploy-Qz8vX2mN4pL7rT1w",
        "ALLOWED_HOSTS": HOST,
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "",
        "STATIC_MANIFEST": "1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collect = [sys.executable, "manage.py", "collectstatic", "--no-input"]
    collected = subprocess.run(collect, cwd=settings.BASE_DIR, env=env, capture_output=True)
    assert collected.returncode == 0, collected.stderr
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "config.wsgi",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if get(f"{url}/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)

    def stop() -> list[str]:
        if server.returncode is None:
            server.terminate()
        return server.communicate(timeout=60)[0].splitlines()

    yield url, stop
    stop()


def test_the_production_server_serves_the_site_behind_the_proxy(site):
    site, stop = site
    status, _, body = get(f"{site}/readyz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"

    # Plain HTTP from outside is sent to HTTPS; through the proxy the page is served.
    status, headers, _ = get(f"{site}/login/", Host=HOST, **{"X-Forwarded-For": "203.0.113.9"})
    assert status == 301
    assert headers["Location"] == f"https://{HOST}/login/"
    proxied = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    status, headers, body = get(f"{site}/login/", **proxied)
    headers_of_login = headers
    assert status == 200
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "Secure" in headers["Set-Cookie"]
    # Static files under their hashed names, by whitenoise, cached for good.
    (stylesheet,) = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body.decode())
    assert re.fullmatch(r"/static/\w+/\w+\.[0-9a-f]{12}\.css", stylesheet)
    status, headers, _ = get(f"{site}{stylesheet}", **proxied)
    assert status == 200
    assert "immutable" in headers["Cache-Control"]

    # The probes' paths are not found through the proxy.
    assert get(f"{site}/readyz", **proxied)[0] == 404

    # One JSON line per request, with its id and the client behind the proxy.
    logs = [json.loads(line) for line in stop() if line.startswith("{")]
    requests = [entry for entry in logs if entry["logger"] == "config.requests"]
    login = next(
        entry for entry in requests if entry["path"] == "/login/" and entry["status"] == 200
    )
    assert login["client"] == "203.0.113.9"
    assert login["request_id"] == headers_of_login["X-Request-ID"]


@pytest.fixture
def two_single_thread_workers():
    """gunicorn with deploy/gunicorn.conf.py, two workers of one thread each, serving
    tests/deploy/pid_app.py; yields its URL once both workers answer."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env |= {"WEB_CONCURRENCY": "2", "WEB_THREADS": "1"}
    command = [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "tests.deploy.pid_app"]
    server = subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while len(set(served_by(url, 2, seconds=0.2))) < 2:
            assert time.monotonic() < deadline and server.poll() is None, "workers not up"
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def served_by(url: str, requests: int, seconds: float) -> list[str]:
    """The process ids that served `requests` simultaneous requests of `seconds` each."""

    def one(_) -> str:
        try:
            return get(f"{url}/?seconds={seconds}")[2].decode()
        except OSError:
            time.sleep(0.2)
            return ""

    with ThreadPoolExecutor(requests) as pool:
        return list(pool.map(one, range(requests)))


def test_a_worker_with_every_thread_busy_leaves_new_requests_to_the_others(
    two_single_thread_workers,
):
    # A connection lasts one request: one kept alive would pin its client (or the proxy's
    # pooled connection) to one worker, however busy.
    host, port = two_single_thread_workers.removeprefix("http://").split(":")
    client = http.client.HTTPConnection(host, int(port), timeout=30)
    client.request("GET", "/", headers={"Connection": "keep-alive"})
    response = client.getresponse()
    response.read()
    assert response.getheader("Connection") == "close"
    client.close()
    # A worker whose every thread is busy takes no new connection, which waits for another
    # worker instead of queueing behind the busy worker's requests.
    for _ in range(6):
        started = time.monotonic()
        pids = served_by(two_single_thread_workers, 2, seconds=0.5)
        assert len(set(pids)) == 2, pids
        assert time.monotonic() - started < 0.95


def test_a_worker_keeps_what_it_loaded_before_its_first_request_out_of_full_collections(
    two_single_thread_workers,
):
    # A full collection walked the site's and the models' 670,000 objects again each time,
    # stopping every thread of the worker for about 0.4 s.
    assert int(get(f"{two_single_thread_workers}/frozen")[2]) > 10_000
