from __future__ import annotations

from django import template

from apps.review.rates import Rate

register = template.Library()


@register.filter
def rate(value: Rate | None) -> str:
    """`12.5% (3/24; 95% CI 4.3–31.0%)`, or a dash when nothing was labelled."""
    if value is None or not value.total:
        return "–"
    low, high = value.interval
    return f"{value.value:.1%} ({value.errors}/{value.total}; 95% CI {low:.1%}–{high:.1%})"


@register.filter
def get(mapping: dict, key):
    return mapping.get(key)
