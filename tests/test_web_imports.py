from __future__ import annotations

import subprocess
import sys

from django.conf import settings

LOAD_THE_WEB_APP = """
import sys
import config.wsgi
import config.urls
from django.urls import get_resolver
get_resolver().url_patterns
heavy_modules = ("torch", "transformers", "sentence_transformers", "peft")
heavy = sorted(m for m in heavy_modules if m in sys.modules)
print(",".join(heavy))
"""


def test_the_web_app_loads_without_torch_or_transformers():
    result = subprocess.run(
        [sys.executable, "-c", LOAD_THE_WEB_APP],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"web app imported {result.stdout.strip()}"
