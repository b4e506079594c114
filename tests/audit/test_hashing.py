from __future__ import annotations

import datetime

import pytest

from apps.audit.hashing import GENESIS, canonical, content_hash, event_hash


def test_canonical_json_sorts_keys_and_keeps_text_as_it_is():
    assert canonical({"b": 1, "a": ["é", None, True]}) == '{"a":["é",null,true],"b":1}'.encode()


@pytest.mark.parametrize(
    ("value", "as_read_back"),
    [(1.0, 1), (-0.0, 0), (1.5e300, 15 * 10**299), (2.5, 2.5), (1e-05, 0.00001)],
)
def test_numbers_hash_as_jsonb_gives_them_back(value, as_read_back):
    assert canonical(value) == canonical(as_read_back)


def test_times_are_hashed_in_utc_to_the_microsecond():
    paris = datetime.timezone(datetime.timedelta(hours=1))
    moment = datetime.datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=paris)
    assert canonical(moment) == b'"2026-01-02T03:05:06.000007+00:00"'


def test_each_hash_covers_the_previous_one():
    first = event_hash(GENESIS, {"seq": 1})
    assert first != event_hash("f" * 64, {"seq": 1})
    assert len(first) == 64 and content_hash({"a": 1}) != content_hash({"a": 2})


@pytest.mark.django_db
def test_a_hash_taken_before_writing_holds_for_what_jsonb_reads_back():
    from apps.audit.models import Event

    payload = {"scores": [1.0, 0.1, 1e-07, 123456789.125, -0.0], "n": {"2": 3}, "t": "ünï"}
    Event.objects.create(
        seq=1,
        created_at=datetime.datetime.now(datetime.UTC),
        action="x",
        payload=payload,
        prev_hash=GENESIS,
        hash="0",
    )
    assert canonical(Event.objects.get().payload) == canonical(payload)
