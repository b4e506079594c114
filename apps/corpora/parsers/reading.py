"""Reading a file's bytes safely: regular files only, never past the size limit."""

from __future__ import annotations

import stat
from pathlib import Path

from apps.corpora.parsers.results import Rejected


def read_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of path, rejecting what is missing, unreadable, not a file or over max_bytes."""
    try:
        status = path.stat()
        # Reading a FIFO or a device could block or never end.
        if not stat.S_ISREG(status.st_mode):
            raise Rejected("not a regular file")
        _check_size(status.st_size, max_bytes)
        with path.open("rb") as handle:
            # One byte past the limit catches a file that grew after stat().
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError as error:
        raise Rejected("file not found") from error
    except OSError as error:
        raise Rejected(f"cannot read file ({error.strerror or error})") from error
    _check_size(len(raw), max_bytes)
    return raw


def _check_size(size: int, max_bytes: int) -> None:
    if size <= max_bytes:
        return
    size_text, limit_text = _human_size(size), _human_size(max_bytes)
    if size_text == limit_text:
        size_text, limit_text = f"{size:,} bytes", f"{max_bytes:,} bytes"
    raise Rejected(f"file is {size_text}, over the {limit_text} limit (INGEST_MAX_BYTES)")


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
