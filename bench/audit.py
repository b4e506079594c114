"""Audit trail benchmark: verifying a long chain, and what writing an event adds to a request.

    python -m bench.audit [--events 100000] [--writes 2000] [--requests 500] [--writers 8]

Runs in a scratch database (bench_audit, made and dropped as the owner, as the test database
is), never in the product's own trail, which nothing may delete from. Fills the chain with
--events events shaped like the product's (an answer viewed: ids and hashes), times
verify_audit over them, then times event_record as the site calls it: alone, with --writers
threads writing at once, and inside a request (GET /api/v1/answers/ID, which records a view),
against the same request with the event left out.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import threading
import time
from contextlib import contextmanager

import django

SCRATCH = "bench_audit"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events verified")
    parser.add_argument("--writes", type=int, default=2000, help="events timed one by one")
    parser.add_argument("--requests", type=int, default=500, help="requests timed, each way")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers")
    parser.add_argument(
        "--here", action="store_true", help="use the configured database (the tests' own)"
    )
    return parser.parse_args(argv)


@contextmanager
def scratch_database():
    """The default connection on a fresh, migrated scratch database, as the application
    role; made and dropped by the owner."""
    from django.db import connection

    settings_dict = connection.settings_dict
    app = {"USER": settings_dict["USER"], "PASSWORD": settings_dict.get("PASSWORD", "")}
    owner = settings_dict.get("OWNER") or app
    settings_dict.setdefault("TEST", {})["NAME"] = SCRATCH
    settings_dict.update(owner, APP_USER=app["USER"])
    connection.close()
    original = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    settings_dict.update(app)
    connection.close()
    try:
        yield
    finally:
        connection.close()
        settings_dict.update(owner)
        connection.creation.destroy_test_db(original, verbosity=0)
        settings_dict.update(app)


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    pick = lambda q: ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]  # noqa: E731
    return f"{pick(0.5):.2f} / {pick(0.95):.2f} / {pick(0.99):.2f}"


def fill_chain(count: int) -> float:
    """Append `count` well-formed events after the head, in bulk; returns seconds taken."""
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.audit.hashing import event_hash
    from apps.audit.models import Event
    from apps.audit.services import chain_head_locked

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        seq, prev, _ = chain_head_locked(cursor)
        batch = []
        for number in range(count):
            seq += 1
            event = Event(
                seq=seq,
                created_at=timezone.now(),
                actor_id=number % 50,
                actor=f"user{number % 50}",
                role="practitioner",
                action="answer.viewed",
                object_type="assistant.answer",
                object_id=str(number),
                payload={"chunks": [number + i for i in range(8)], "withheld": [3, 7]},
                prev_hash=prev,
            )
            event.hash = prev = event_hash(prev, event.chained())
            batch.append(event)
            if len(batch) == 5000:
                Event.objects.bulk_create(batch)
                batch = []
        Event.objects.bulk_create(batch)
    return time.perf_counter() - started


def time_verification(rounds: int = 3) -> tuple[float, int, bool]:
    from apps.audit.verification import audit_verify

    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = audit_verify()
        best = min(best, time.perf_counter() - started)
    return best, result.events, result.ok


def time_writes(count: int, durable: bool = True) -> list[float]:
    """Each event in a transaction of its own, as a request that writes nothing else."""
    from apps.audit.services import event_record

    latencies = []
    for number in range(count):
        started = time.perf_counter()
        event_record(action="bench.write", payload={"n": number}, durable=durable)
        latencies.append(time.perf_counter() - started)
    return latencies


def time_concurrent_writes(writers: int, each: int) -> tuple[list[float], float]:
    from django.db import connection

    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def write() -> None:
        start.wait()
        mine = time_writes(each)
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, writers * each / (time.perf_counter() - started)


def time_requests(count: int) -> tuple[list[float], list[float]]:
    """GET /api/v1/answers/ID with its answer.viewed event and without it, interleaved."""
    from unittest import mock

    from django.contrib.auth import get_user_model
    from django.test import Client

    from apps.assistant import apis
    from apps.assistant.models import Answer
    from apps.audit.services import record_event, record_seal

    user = get_user_model().objects.create_superuser("bench-reader", password=None)
    answer = Answer(
        asker=user,
        question="How long are records kept?",
        corpora=["a"],
        hits=[],
        backend="bench",
        statements=[],
        status="abstained",
    )
    record_seal(record=answer)
    answer.save(force_insert=True)
    record_event(record=answer, actor=user)
    apis.AnswerDetailApi.throttle_classes = []
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = f"/api/v1/answers/{answer.pk}"
    with_event, without = [], []
    for _ in range(20):  # warm up
        client.get(url)
    for _ in range(count):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        with_event.append(time.perf_counter() - started)
        with mock.patch.object(apis, "answer_view_record", lambda **kwargs: None):
            started = time.perf_counter()
            client.get(url)
            without.append(time.perf_counter() - started)
    return with_event, without


def measure(args: argparse.Namespace) -> list[tuple[str, str]]:
    fill = fill_chain(args.events)
    seconds, events, ok = time_verification()
    rows = [
        ("events in the chain", f"{events:,}"),
        ("filling the chain (s)", f"{fill:.1f}"),
        ("verify_audit, best of 3 (s)", f"{seconds:.2f}"),
        ("verification speed (events/s)", f"{events / seconds:,.0f}"),
        ("the chain verifies", "yes" if ok else "NO"),
    ]
    rows.append(("event alone, durable p50/p95/p99 ms", percentiles(time_writes(args.writes))))
    rows.append(
        ("event alone, a read's p50/p95/p99 ms", percentiles(time_writes(args.writes, False)))
    )
    latencies, rate = time_concurrent_writes(args.writers, max(1, args.writes // args.writers))
    rows.append((f"event_record, {args.writers} writers p50/p95/p99 ms", percentiles(latencies)))
    rows.append((f"events written/s, {args.writers} writers", f"{rate:,.0f}"))
    with_event, without = time_requests(args.requests)
    rows.append(("request with its event p50/p95/p99 ms", percentiles(with_event)))
    rows.append(("same request, no event p50/p95/p99 ms", percentiles(without)))
    added = [
        statistics.quantiles(sorted(with_event), n=20)[i]
        - statistics.quantiles(sorted(without), n=20)[i]
        for i in (9, 18)
    ]
    rows.append(
        ("added by the event p50 / p95 ms", f"{added[0] * 1000:.2f} / {added[1] * 1000:.2f}")
    )
    return rows


def main(argv: list[str] | None = None) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # as in production: no statement log
    logging.getLogger("config.requests").setLevel(logging.WARNING)
    args = parse_args(argv)
    if args.here:
        rows = measure(args)
    else:
        with scratch_database():
            rows = measure(args)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    table = "\n".join(f"{name:<44}{value:>24}" for name, value in rows)
    text = (
        f"Audit trail benchmark ({args.events:,} events; {os.cpu_count()} CPUs, "
        f"load average {load})\n{table}"
    )
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
