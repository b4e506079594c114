from __future__ import annotations

import pytest
from django.core.cache import cache

ANSWERS = "/api/v1/answers"
SEARCH = "/api/v1/search"
JOBS = "/api/v1/ingestion-jobs/"


@pytest.fixture(autouse=True)
def low_rates(settings):
    cache.clear()
    rates = {"answers": "2/min", "search": "4/min", "api": "6/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    yield
    cache.clear()


def post(client, url):
    # An empty body is refused after the throttle has counted it: no retrieval runs.
    return client.post(url, {}, content_type="application/json")


def test_answers_are_limited_more_strictly_than_searches(alice, login):
    client = login(alice)
    assert [post(client, ANSWERS).status_code for _ in range(3)] == [400, 400, 429]
    assert [post(client, SEARCH).status_code for _ in range(5)] == [400] * 4 + [429]


def test_a_429_says_when_to_come_back(alice, login):
    client = login(alice)
    post(client, ANSWERS)
    post(client, ANSWERS)
    throttled = post(client, ANSWERS)
    assert throttled.status_code == 429
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "throttled" in throttled.json()["detail"].lower()


def test_each_user_has_a_rate_of_their_own(alice, bob, login):
    for _ in range(2):
        post(login(alice), ANSWERS)
    assert post(login(alice), ANSWERS).status_code == 429
    assert post(login(bob), ANSWERS).status_code == 400


def test_other_requests_share_the_general_rate(alice, login):
    client = login(alice)
    assert [client.get(JOBS).status_code for _ in range(7)] == [200] * 6 + [429]
