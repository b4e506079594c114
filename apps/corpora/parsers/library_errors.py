"""Keeping pypdf's and BeautifulSoup's complaints about damaged input out of the logs."""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator

# pypdf and BeautifulSoup report damaged input through logging and warnings, both process-wide:
# the lock keeps concurrent parses from restoring each other's settings.
_QUIET_LOCK = threading.Lock()
_REASON_MAX_CHARS = 120


@contextlib.contextmanager
def quiet_libraries() -> Iterator[None]:
    """Silence pypdf's and bs4's logging and all warnings for the duration of the block."""
    loggers = [logging.getLogger(name) for name in ("pypdf", "bs4")]
    with _QUIET_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        levels = [logger.level for logger in loggers]
        for logger in loggers:
            logger.setLevel(logging.CRITICAL + 1)
        try:
            yield
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)


def short_reason(error: BaseException) -> str:
    """A library exception as one short line, fit to quote in a problem message."""
    reason = str(error).strip().split("\n")[0] or type(error).__name__
    if len(reason) <= _REASON_MAX_CHARS:
        return reason
    return reason[: _REASON_MAX_CHARS - 3] + "..."
