"""An adapter folder: the manifests it holds, the sha256 of its files, and the check that they
are still what was registered."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

# Written into the folder by train_adapter, read by register_adapter.
TRAINING_MANIFEST = "training_manifest.json"
DATASET_MANIFEST = "dataset_manifest.json"


class AdapterFilesChanged(Exception):
    """An adapter folder whose files differ from those registered; it must never be served."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_sha256(folder: Path, names: Iterable[str]) -> dict[str, str]:
    return {name: file_sha256(Path(folder) / name) for name in sorted(names)}


def folder_files(folder: Path) -> list[str]:
    """Every file of the folder and its subfolders, as relative paths."""
    folder = Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def folder_sha256(hashes: dict[str, str]) -> str:
    """One sha256 for a set of files: of their names and hashes, in name order."""
    lines = "".join(f"{name}\t{sha}\n" for name, sha in sorted(hashes.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def verify_files(folder: Path, registered: dict[str, str]) -> None:
    """Raise AdapterFilesChanged unless the folder holds exactly the registered files, each
    with its registered sha256."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AdapterFilesChanged(f"the adapter folder {folder} does not exist")
    present = set(folder_files(folder))
    missing = sorted(set(registered) - present)
    added = sorted(present - set(registered))
    changed = sorted(
        name for name in set(registered) & present if file_sha256(folder / name) != registered[name]
    )
    if missing or added or changed:
        problems = [
            f"{label}: {', '.join(names)}"
            for label, names in (("changed", changed), ("missing", missing), ("added", added))
            if names
        ]
        raise AdapterFilesChanged(
            f"the adapter files at {folder} are not those registered ({'; '.join(problems)})"
        )
