"""Writes to the adapter registry: register, record an evaluation, approve, activate, roll back
and retire. Each checks the actor's permission, moves the version under a row lock, and records
an AdapterEvent; the database's constraints hold whatever a caller does."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.adapters.files import (
    DATASET_MANIFEST,
    TRAINING_MANIFEST,
    AdapterFilesChanged,
    files_sha256,
    folder_files,
    folder_sha256,
)
from apps.adapters.models import AdapterEvent, AdapterStatus, AdapterVersion
from apps.assistant import prompts
from apps.audit.services import event_record as audit_event_record
from apps.corpora.models import Domain


class AdapterError(Exception):
    """A registry action that cannot be done, with a message fit to show the person asking."""


def require(user, permission: str) -> None:
    if user is None or not user.has_perm(f"adapters.{permission}"):
        raise PermissionDenied(f"{getattr(user, 'username', 'nobody')} may not {permission}")


def event_record(version: AdapterVersion, action: str, actor, **details) -> AdapterEvent:
    """The version's own event, and the same in the audit trail, in the caller's transaction."""
    event = AdapterEvent.objects.create(
        adapter=version, action=action, actor=actor, details=details
    )
    audit_event_record(
        action=f"adapter.{action.replace(' ', '_')}",
        actor=actor,
        obj=version,
        payload={
            "name": version.name,
            "version": version.version,
            "sha256": version.sha256,
            "status": version.status,
            **details,
        },
    )
    return event


def read_manifests(folder: Path) -> tuple[dict, dict]:
    """The adapter folder's training and dataset manifests; the training manifest's file hashes
    must match the files, so a folder changed since training is never registered."""
    try:
        training = json.loads((folder / TRAINING_MANIFEST).read_text())
    except FileNotFoundError:
        raise AdapterError(
            f"{folder} holds no {TRAINING_MANIFEST}; train it with train_adapter"
        ) from None
    except (OSError, ValueError) as exc:
        raise AdapterError(f"cannot read {folder / TRAINING_MANIFEST}: {exc}") from None
    if not (folder / "adapter_config.json").is_file():
        raise AdapterError(f"{folder} is not a LoRA adapter (no adapter_config.json)")
    recorded = training.get("files", {})
    if files_sha256(folder, recorded) != recorded:
        raise AdapterFilesChanged(f"the files at {folder} differ from its training manifest")
    try:
        dataset = json.loads((folder / DATASET_MANIFEST).read_text())
    except (OSError, ValueError):
        dataset = {}
    return training, dataset


@transaction.atomic
def adapter_register(
    *, folder: Path, name: str, user, domains: list[str] | None = None, notes: str = ""
) -> AdapterVersion:
    """Register the adapter in `folder` as the next version of `name`, as a candidate."""
    require(user, "add_adapterversion")
    folder = Path(folder).resolve()
    unknown = sorted(set(domains or ()) - set(Domain.values))
    if unknown:
        raise AdapterError(f"unknown domain(s) {', '.join(unknown)}; choose from {Domain.values}")
    training, dataset = read_manifests(folder)
    files = files_sha256(folder, folder_files(folder))
    AdapterVersion.objects.select_for_update().filter(name=name).exists()
    latest = AdapterVersion.objects.filter(name=name).aggregate(latest=Max("version"))["latest"]
    version = AdapterVersion.objects.create(
        name=name,
        version=(latest or 0) + 1,
        domains=sorted(set(domains or ())),
        path=str(folder),
        base_model=training.get("base_model", ""),
        base_model_sha256=folder_sha256(training.get("base_model_sha256", {})),
        files=files,
        sha256=folder_sha256(files),
        dataset_manifest=dataset,
        training_manifest=training,
        registered_by=user,
        notes=notes,
    )
    event_record(version, "registered", user, path=str(folder), sha256=version.sha256)
    return version


def locked(version: AdapterVersion) -> AdapterVersion:
    return AdapterVersion.objects.select_for_update().get(pk=version.pk)


def require_current_prompt(version: AdapterVersion) -> None:
    """An adapter learns the prompt it is trained on; after the prompt changes it would be served
    one it never saw, so it is neither approved nor activated."""
    trained_for = version.training_manifest.get("prompt_template_version")
    current = prompts.template_version()
    if trained_for != current:
        raise AdapterError(
            f"{version} was trained for prompt {trained_for or '(not recorded)'}, and the prompt "
            f"is now {current}: train it again on a dataset built with today's prompt"
        )


@transaction.atomic
def adapter_evaluation_record(
    *, version: AdapterVersion, user, report: dict, passed: bool
) -> AdapterVersion:
    """Store the gate's report on the version; a passing one makes a candidate evaluated."""
    require(user, "evaluate_adapterversion")
    version = locked(version)
    if version.status == AdapterStatus.RETIRED:
        raise AdapterError(f"{version} is retired")
    version.evaluation, version.evaluation_passed = report, passed
    version.evaluated_by, version.evaluated_at = user, timezone.now()
    if version.status == AdapterStatus.CANDIDATE:
        version.status = AdapterStatus.EVALUATED
    version.save()
    event_record(version, "evaluated", user, passed=passed, gate=report.get("gate", {}))
    return version


@transaction.atomic
def adapter_approve(*, version: AdapterVersion, user) -> AdapterVersion:
    require(user, "approve_adapterversion")
    version = locked(version)
    if version.status != AdapterStatus.EVALUATED:
        raise AdapterError(f"{version} is {version.status}; only an evaluated version is approved")
    if not version.evaluation_passed:
        raise AdapterError(f"{version} did not pass its evaluation")
    require_current_prompt(version)
    if version.registered_by_id == user.pk:
        raise AdapterError(f"{version} was registered by {user.username}: another must approve it")
    version.status, version.approved_by, version.approved_at = (
        AdapterStatus.APPROVED,
        user,
        timezone.now(),
    )
    version.save()
    event_record(version, "approved", user)
    return version


@transaction.atomic
def adapter_activate(*, version: AdapterVersion, user, action: str = "activated") -> AdapterVersion:
    """Make an approved version the active one of its name; the one active before goes back
    to approved, so that a rollback can bring it back."""
    require(user, "activate_adapterversion")
    version = locked(version)
    if version.status != AdapterStatus.APPROVED:
        raise AdapterError(f"{version} is {version.status}; only an approved version is activated")
    require_current_prompt(version)
    previous = (
        AdapterVersion.objects.select_for_update()
        .filter(name=version.name, status=AdapterStatus.ACTIVE)
        .first()
    )
    if previous is not None:
        previous.status = AdapterStatus.APPROVED
        previous.save(update_fields=["status"])
        event_record(previous, "deactivated", user, replaced_by=version.version)
    version.status, version.activated_by, version.activated_at = (
        AdapterStatus.ACTIVE,
        user,
        timezone.now(),
    )
    version.save()
    event_record(version, action, user, replaced=previous.version if previous else None)
    return version


@transaction.atomic
def adapter_rollback(*, name: str, user) -> AdapterVersion:
    """Retire the active version of `name` and activate the one that was active before it."""
    require(user, "activate_adapterversion")
    current = (
        AdapterVersion.objects.select_for_update()
        .filter(name=name, status=AdapterStatus.ACTIVE)
        .first()
    )
    if current is None:
        raise AdapterError(f"no version of {name} is active")
    previous = (
        AdapterVersion.objects.filter(
            name=name, status=AdapterStatus.APPROVED, activated_at__isnull=False
        )
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise AdapterError(f"{current} has no earlier active version to roll back to")
    adapter_retire(version=current, user=user, action="rolled back")
    return adapter_activate(version=previous, user=user, action="reactivated")


@transaction.atomic
def adapter_retire(*, version: AdapterVersion, user, action: str = "retired") -> AdapterVersion:
    require(user, "activate_adapterversion")
    version = locked(version)
    version.status, version.retired_at = AdapterStatus.RETIRED, timezone.now()
    version.save()
    event_record(version, action, user)
    return version
