from __future__ import annotations

import pytest

from bench import audit


# The benchmark writes from several threads, each with its own connection: the data must be
# committed for them to see it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_audit_benchmark_runs_in_short_form():
    table = audit.main(
        ["--here", "--events", "300", "--writes", "16", "--requests", "10", "--writers", "2"]
    )
    assert "Audit trail benchmark (300 events" in table
    for row in (
        "verify_audit, best of 3 (s)",
        "event alone, a read's p50/p95/p99 ms",
        "event_record, 2 writers p50/p95/p99 ms",
        "added by the event p50 / p95 ms",
    ):
        assert row in table
    assert "the chain verifies                      " in table and "NO" not in table
