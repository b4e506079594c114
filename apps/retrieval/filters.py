from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q


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

    def q(self, prefix: str = "document__") -> Q:
        """The filters as a Q object on a model that reaches documents through `prefix`."""
        condition = Q()
        if self.documents:
            condition &= Q(**{f"{prefix}external_id__in": self.documents})
        if self.doc_types:
            condition &= Q(**{f"{prefix}doc_type__in": self.doc_types})
        if self.jurisdictions:
            condition &= Q(**{f"{prefix}jurisdiction__in": self.jurisdictions})
        if self.date_from:
            condition &= Q(**{f"{prefix}date__gte": self.date_from})
        if self.date_to:
            condition &= Q(**{f"{prefix}date__lte": self.date_to})
        return condition
