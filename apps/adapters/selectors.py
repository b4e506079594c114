"""Reads of the adapter registry: which adapter an answer uses, and which a server must serve."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from apps.adapters.files import verify_files
from apps.adapters.models import APPROVED_STATUSES, AdapterStatus, AdapterVersion

NAMED = "named by the request"
FOR_DOMAINS = "the active adapter for {}"
NONE_FOR_DOMAINS = "no active adapter for {}: the base model"


class AdapterRefused(Exception):
    """A request naming an adapter that is unknown, retired or not approved and active."""


@dataclass(frozen=True)
class AdapterChoice:
    """The adapter version an answer uses, and why; what a generator needs to load or name it."""

    name: str
    version: int
    sha256: str
    path: str
    reason: str
    files: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        """A name for this version in a process that may hold several versions of it."""
        return f"{self.name}-v{self.version}"

    def verify(self) -> None:
        """Raise files.AdapterFilesChanged unless the files are those registered."""
        verify_files(self.path, self.files)

    @classmethod
    def base(cls, reason: str) -> AdapterChoice:
        """No adapter, chosen on purpose (an evaluation's baseline)."""
        return cls(name="", version=0, sha256="", path="", reason=reason)

    @property
    def is_base(self) -> bool:
        return not self.name

    def as_record(self) -> dict:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


def choice_of(version: AdapterVersion, reason: str) -> AdapterChoice:
    return AdapterChoice(
        name=version.name,
        version=version.version,
        sha256=version.sha256,
        path=version.path,
        reason=reason,
        files=dict(version.files),
    )


def active_versions() -> QuerySet[AdapterVersion]:
    return AdapterVersion.objects.filter(status=AdapterStatus.ACTIVE)


def servable_versions() -> QuerySet[AdapterVersion]:
    """Versions a server should load: the approved and the active ones."""
    return AdapterVersion.objects.filter(status__in=APPROVED_STATUSES).order_by("name", "version")


def adapter_named(name: str) -> AdapterChoice:
    """The active version of the adapter a request names; AdapterRefused otherwise."""
    active = active_versions().filter(name=name).first()
    if active is not None:
        return choice_of(active, NAMED)
    latest = AdapterVersion.objects.filter(name=name).order_by("-version").first()
    if latest is None:
        known = ", ".join(active_versions().values_list("name", flat=True)) or "none is active"
        raise AdapterRefused(f"unknown adapter {name!r} (active adapters: {known})")
    raise AdapterRefused(
        f"adapter {name!r} has no active version (its latest, v{latest.version}, is "
        f"{latest.get_status_display().lower()})"
    )


def adapter_for_domains(domains: Iterable[str]) -> AdapterChoice | None:
    """The active adapter that answers for every one of the domains (the one naming the fewest
    domains, an adapter for any domain last), or None for the base model."""
    wanted = set(domains)
    fitting = [
        version
        for version in active_versions().order_by("name")
        if not version.domains or wanted <= set(version.domains)
    ]
    if not fitting:
        return None
    best = min(fitting, key=lambda v: (len(v.domains) or float("inf"), v.name))
    return choice_of(best, FOR_DOMAINS.format(" and ".join(sorted(wanted)) or "any domain"))


def no_adapter_reason(domains: Iterable[str]) -> str:
    return NONE_FOR_DOMAINS.format(" and ".join(sorted(set(domains))) or "any domain")
