from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Metadata filters, applied inside each leg's query alongside the access filter."""

    documents: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    jurisdictions: tuple[str, ...] = ()
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    @property
    def is_empty(self) -> bool:
        return self == Filters()

    def sql(self) -> tuple[str, list]:
        """The filters as SQL conditions on documents `d`, each after an AND, and their
        parameters."""
        conditions = [
            ("d.external_id = ANY(%s)", list(self.documents)),
            ("d.doc_type = ANY(%s)", list(self.doc_types)),
            ("d.jurisdiction = ANY(%s)", list(self.jurisdictions)),
            ("d.date >= %s", self.date_from),
            ("d.date <= %s", self.date_to),
        ]
        given = [(condition, value) for condition, value in conditions if value]
        return "".join(f" AND {c}" for c, _ in given), [value for _, value in given]
