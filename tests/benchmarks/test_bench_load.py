from __future__ import annotations

import pytest

from bench import load
from tests.corpora.conftest import RULES_V1, ingest


# The server is another process, with its own connections: the data must be committed for it
# to see it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_load_benchmark_runs_in_short_form(database_url, corpus_a, alice, tmp_path, capsys):
    (tmp_path / "rules.md").write_text(RULES_V1)
    ingest(corpus_a, tmp_path / "rules.md")

    report = load.main(
        [
            *(
                "--database-url",
                database_url,
                "--user",
                "alice:alice-pw",
                "--var-dir",
                str(tmp_path),
            ),
            *("--users", "2", "--seconds", "2", "--warmup", "1"),
            *("--workers", "1", "--threads", "2", "--ceiling-seconds", "0.5"),
        ]
    )

    assert "Load benchmark: 2 users for 2 s" in report
    rows = ("search", "answers", "p95 ms", "answers by status", "server CPU", "load client")
    for row in (*rows, "retrieve() in"):
        assert row in report
    assert report in capsys.readouterr().out
