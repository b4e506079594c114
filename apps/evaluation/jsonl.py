"""The line-per-record JSON files the evaluations read (questions, labelled checker examples):
blank lines skipped, every problem named with its file and line, ids unique."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

Record = TypeVar("Record")


def json_object(line: str) -> dict:
    """One line's JSON object; raises ValueError saying what is wrong with it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def records_read(
    path: Path,
    parse: Callable[[str], Record],
    *,
    noun: str,
    error: type[Exception],
) -> list[Record]:
    """The records of a JSONL file, in file order, each made by `parse` (which raises
    ValueError for a bad line) and carrying an `id`; anything wrong raises `error`, naming the
    file (as "the {noun} file") and the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").split("\n")
    except FileNotFoundError:
        raise error(f"no {noun} file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read the {noun} file {path}: {exc}") from None
    records: list[Record] = []
    first_lines: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse(line)
        except ValueError as exc:
            raise error(f"{path} line {number}: {exc}") from None
        if record.id in first_lines:
            raise error(
                f"{path} line {number}: duplicate id {record.id!r} "
                f"(first used on line {first_lines[record.id]})"
            )
        first_lines[record.id] = number
        records.append(record)
    if not records:
        raise error(f"{path} holds no {noun}")
    return records
