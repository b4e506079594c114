"""The registry's life cycle, its rules in the database, and its records."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from apps.adapters import services
from apps.adapters.files import AdapterFilesChanged
from apps.adapters.models import AdapterStatus, AdapterVersion
from apps.adapters.services import AdapterError
from tests.adapters.conftest import FAILING, PASSING, adapter_folder


def registered(tmp_path, user, name="regulatory-answer", **kwargs) -> AdapterVersion:
    folder = adapter_folder(tmp_path / f"{name}-{AdapterVersion.objects.count()}", **kwargs)
    return services.adapter_register(folder=folder, name=name, user=user, domains=["regulatory"])


def approved(tmp_path, dora, eve, **kwargs) -> AdapterVersion:
    version = registered(tmp_path, dora, **kwargs)
    services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
    return services.adapter_approve(version=version, user=eve)


@pytest.mark.django_db
def test_register_evaluate_approve_activate(tmp_path, model_admins):
    dora, eve = model_admins
    version = registered(tmp_path, dora)
    assert (version.version, version.status, version.base_model) == (1, "candidate", "tiny")
    assert len(version.sha256) == 64 and "adapter_model.safetensors" in version.files
    assert version.training_manifest["final_loss"] == 0.5
    services.adapter_evaluation_record(version=version, user=dora, report=PASSING, passed=True)
    with pytest.raises(AdapterError, match="another must approve"):
        services.adapter_approve(version=version, user=dora)
    services.adapter_approve(version=version, user=eve)
    active = services.adapter_activate(version=version, user=eve)
    assert active.status == AdapterStatus.ACTIVE and active.activated_by == eve
    actions = list(active.events.order_by("at", "id").values_list("action", "actor__username"))
    assert actions == [
        ("registered", "dora"),
        ("evaluated", "dora"),
        ("approved", "eve"),
        ("activated", "eve"),
    ]


@pytest.mark.django_db
def test_a_failed_evaluation_cannot_be_approved(tmp_path, model_admins):
    dora, eve = model_admins
    version = registered(tmp_path, dora)
    with pytest.raises(AdapterError, match="only an evaluated version"):
        services.adapter_approve(version=version, user=eve)
    services.adapter_evaluation_record(version=version, user=dora, report=FAILING, passed=False)
    with pytest.raises(AdapterError, match="did not pass"):
        services.adapter_approve(version=version, user=eve)


@pytest.mark.django_db
def test_the_database_keeps_the_rules_whatever_the_caller(tmp_path, model_admins):
    dora, eve = model_admins
    first = approved(tmp_path, dora, eve)
    second = approved(tmp_path, dora, eve)
    AdapterVersion.objects.filter(pk=first.pk).update(status=AdapterStatus.ACTIVE)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdapterVersion.objects.filter(pk=second.pk).update(status=AdapterStatus.ACTIVE)
    unevaluated = registered(tmp_path, dora)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdapterVersion.objects.filter(pk=unevaluated.pk).update(
            status=AdapterStatus.APPROVED, approved_by=eve
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AdapterVersion.objects.filter(pk=second.pk).update(approved_by=dora)


@pytest.mark.django_db
def test_activating_a_version_replaces_the_active_one_and_rollback_brings_it_back(
    tmp_path, model_admins
):
    dora, eve = model_admins
    first = services.adapter_activate(version=approved(tmp_path, dora, eve), user=eve)
    second = services.adapter_activate(version=approved(tmp_path, dora, eve), user=eve)
    first.refresh_from_db()
    assert (first.status, second.status) == ("approved", "active")
    back = services.adapter_rollback(name="regulatory-answer", user=eve)
    second.refresh_from_db()
    assert back.pk == first.pk and back.status == "active" and second.status == "retired"
    assert second.events.filter(action="rolled back").exists()
    with pytest.raises(AdapterError, match="no earlier active version"):
        services.adapter_rollback(name="regulatory-answer", user=eve)


@pytest.mark.django_db
def test_only_model_admins_move_versions(tmp_path, model_admins, alice):
    dora, _ = model_admins
    with pytest.raises(PermissionDenied):
        registered(tmp_path, alice)
    version = registered(tmp_path, dora)
    with pytest.raises(PermissionDenied):
        services.adapter_evaluation_record(version=version, user=alice, report={}, passed=True)


@pytest.mark.django_db
def test_a_folder_changed_since_training_is_not_registered(tmp_path, model_admins):
    dora, _ = model_admins
    folder = adapter_folder(tmp_path / "a")
    (folder / "adapter_model.safetensors").write_bytes(b"other weights")
    with pytest.raises(AdapterFilesChanged, match="differ from its training manifest"):
        services.adapter_register(folder=folder, name="x-answer", user=dora)
    with pytest.raises(AdapterError, match="no training_manifest"):
        services.adapter_register(folder=tmp_path, name="x-answer", user=dora)
    with pytest.raises(AdapterError, match="unknown domain"):
        services.adapter_register(
            folder=adapter_folder(tmp_path / "b"), name="x-answer", user=dora, domains=["tax"]
        )


@pytest.mark.django_db
def test_an_adapter_taught_another_prompt_is_neither_approved_nor_activated(tmp_path, model_admins):
    # The prompt changed since it was trained: it would be served a prompt it never saw.
    dora, eve = model_admins
    stale = registered(tmp_path, dora, prompt="sha256:0000000000000000")
    services.adapter_evaluation_record(version=stale, user=dora, report=PASSING, passed=True)
    with pytest.raises(AdapterError, match="trained for prompt sha256:0000000000000000"):
        services.adapter_approve(version=stale, user=eve)
    current = approved(tmp_path, dora, eve)
    AdapterVersion.objects.filter(pk=current.pk).update(
        training_manifest=current.training_manifest | {"prompt_template_version": "sha256:1"}
    )
    with pytest.raises(AdapterError, match="the prompt is now sha256:"):
        services.adapter_activate(version=current, user=eve)
