from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.audit.models import Event
from apps.audit.services import event_record
from apps.audit.verification import audit_verify

WRITERS, EACH = 8, 500


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_leave_one_linear_chain():
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for number in range(EACH):
                event_record(action="test.concurrent", payload={"writer": writer, "n": number})
        except BaseException as exc:  # reported below, from the test's own thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures, failures[:3]
    seqs = list(Event.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))  # no gap, nothing lost
    assert Event.objects.values("prev_hash").distinct().count() == WRITERS * EACH  # no fork
    by_writer = {}
    for payload in Event.objects.order_by("seq").values_list("payload", flat=True):
        by_writer.setdefault(payload["writer"], []).append(payload["n"])
    assert by_writer == {w: list(range(EACH)) for w in range(WRITERS)}
    result = audit_verify()
    assert result.ok and result.events == WRITERS * EACH
