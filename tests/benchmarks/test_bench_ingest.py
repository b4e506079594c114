from __future__ import annotations

import json
import re

from apps.corpora.models import Corpus
from bench import ingest


def test_the_ingestion_benchmark_runs_in_short_form(db, tmp_path, capsys):
    folder = tmp_path / "mini"
    folder.mkdir()
    documents = [
        {"id": f"d{i}", "title": f"Rulebook {i}", "text": f"{i}.1.1 A firm must keep records."}
        for i in range(3)
    ]
    (folder / "documents.jsonl").write_text("\n".join(map(json.dumps, documents)) + "\n")

    table = ingest.main(["--data", str(tmp_path), "--set", "mini", "--queries", "3"])

    assert "3 documents" in table and "3 chunks" in table
    for row in ("pipeline chunks/s", "embed (s, % of wall)", "pipeline / encode throughput"):
        assert row in table
    assert "Runtimes on 3 of the chunks" in table and "3 one-sentence queries" in table
    for runtime in ("ONNX Runtime", "PyTorch"):
        assert re.search(rf"^{runtime} +[\d.]+ +[\d.]+$", table, re.MULTILINE)
    assert table in capsys.readouterr().out
    assert not Corpus.objects.exists()
