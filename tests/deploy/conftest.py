from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy import kustomize

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUSTOMIZATIONS = {"tgi": DEPLOY / "k8s", "vllm": DEPLOY / "k8s" / "vllm"}


@functools.cache
def kubectl_kustomize() -> bool:
    """Whether kubectl is here with a kustomize that knows these kustomizations (v4 or later;
    Debian's kubernetes-client 1.20 has v2)."""
    if not shutil.which("kubectl"):
        return False
    result = subprocess.run(
        ["kubectl", "version", "--client"], capture_output=True, text=True, timeout=60
    )
    found = re.search(r"Kustomize Version: v(\d+)", result.stdout)
    return bool(found) and int(found.group(1)) >= 4


def kubectl_build(root: Path) -> list[dict]:
    result = subprocess.run(
        ["kubectl", "kustomize", str(root)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render(root: Path) -> list[dict]:
    """`kubectl kustomize` where kubectl is installed; else this package's own renderer (which
    test_k8s.py holds to kubectl's output wherever both run)."""
    if kubectl_kustomize():
        return kubectl_build(root)
    return kustomize.build(root)


def by_key(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


@pytest.fixture(scope="session")
def k8s() -> dict[tuple[str, str], dict]:
    return by_key(render(KUSTOMIZATIONS["tgi"]))


@pytest.fixture(scope="session")
def k8s_vllm() -> dict[tuple[str, str], dict]:
    return by_key(render(KUSTOMIZATIONS["vllm"]))
