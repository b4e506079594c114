"""Which adapter an answer uses: the one a request names, else the active one for the domains."""

from __future__ import annotations

import pytest

from apps.adapters import services
from apps.adapters.files import AdapterFilesChanged
from apps.adapters.selectors import AdapterRefused, adapter_for_domains, adapter_named
from tests.adapters.conftest import PASSING, adapter_folder


def active(tmp_path, dora, eve, name, domains):
    folder = adapter_folder(tmp_path / name, weights=name.encode())
    version = services.adapter_register(folder=folder, name=name, user=dora, domains=domains)
    services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
    services.adapter_approve(version=version, user=eve)
    return services.adapter_activate(version=version, user=eve)


@pytest.mark.django_db
def test_the_active_adapter_for_the_domains_answers_else_the_base_model(tmp_path, model_admins):
    dora, eve = model_admins
    assert adapter_for_domains({"legal"}) is None
    active(tmp_path, dora, eve, "compliance-answer", [])
    active(tmp_path, dora, eve, "legal-answer", ["legal"])
    active(tmp_path, dora, eve, "medical-answer", ["medical"])
    assert adapter_for_domains({"legal"}).name == "legal-answer"
    assert adapter_for_domains({"legal"}).reason == "the active adapter for legal"
    assert adapter_for_domains({"legal", "medical"}).name == "compliance-answer"


@pytest.mark.django_db
def test_a_named_adapter_must_be_active(tmp_path, model_admins):
    dora, eve = model_admins
    version = active(tmp_path, dora, eve, "legal-answer", ["legal"])
    assert adapter_named("legal-answer").sha256 == version.sha256
    with pytest.raises(AdapterRefused, match=r"unknown adapter 'tax-answer'.*legal-answer"):
        adapter_named("tax-answer")
    services.adapter_retire(version=version, user=eve)
    with pytest.raises(AdapterRefused, match=r"no active version.*retired"):
        adapter_named("legal-answer")
    candidate = adapter_folder(tmp_path / "c", weights=b"c")
    services.adapter_register(folder=candidate, name="medical-answer", user=dora)
    with pytest.raises(AdapterRefused, match="is candidate"):
        adapter_named("medical-answer")


@pytest.mark.django_db
def test_a_changed_file_is_found_before_loading(tmp_path, model_admins):
    dora, eve = model_admins
    active(tmp_path, dora, eve, "legal-answer", ["legal"])
    choice = adapter_named("legal-answer")
    choice.verify()
    (tmp_path / "legal-answer" / "adapter_model.safetensors").write_bytes(b"swapped")
    with pytest.raises(AdapterFilesChanged, match=r"changed: adapter_model\.safetensors"):
        choice.verify()
    (tmp_path / "legal-answer" / "extra.bin").write_bytes(b"x")
    with pytest.raises(AdapterFilesChanged, match=r"added: extra\.bin"):
        choice.verify()
