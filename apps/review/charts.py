"""Bar charts as inline SVG, drawn on the server: no script, nothing from another origin (the
Content-Security-Policy allows neither), and they print as they show."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.review.rates import Rate

WIDTH, LABEL, ROW = 640, 230, 28


def rate_bars(
    bars: Sequence[tuple[str, Rate]], anchors: Sequence[tuple[str, float]] = ()
) -> SafeString:
    """One bar per rate, with its 95% interval as a whisker, and each anchor (a published
    rate) as a bar of its own in another colour."""
    rows = [
        (name, rate.value, rate.interval, f"{rate.errors}/{rate.total}", "bar")
        for name, rate in bars
    ] + [(name, value, None, "published", "bar anchor") for name, value in anchors]
    scale = WIDTH - LABEL - 90
    height = ROW * len(rows) + 24
    parts = []
    for index, (name, value, interval, count, kind) in enumerate(rows):
        y = 8 + index * ROW
        width = round((value or 0) * scale, 1)
        text = "no reviews" if value is None else f"{value:.1%} ({count})"
        parts.append(
            format_html(
                '<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="16" class="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" class="chart-value">{}</text>',
                LABEL - 8,
                y + 12,
                name,
                LABEL,
                y,
                width,
                kind,
                name,
                text,
                LABEL + width + 6,
                y + 12,
                text,
            )
        )
        if interval:
            low, high = (LABEL + round(v * scale, 1) for v in interval)
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" class="whisker"/>',
                    low,
                    high,
                    y + 8,
                    y + 8,
                )
            )
    ticks = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="0" y2="{}" class="tick"/><text x="{}" y="{}" '
        'class="chart-tick" text-anchor="middle">{}%</text>',
        (
            (
                LABEL + scale * t / 4,
                LABEL + scale * t / 4,
                height - 14,
                LABEL + scale * t / 4,
                height - 2,
                25 * t,
            )
            for t in range(5)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        WIDTH,
        height,
        "error rates with 95% intervals",
        ticks,
        SafeString("".join(parts)),
    )


def dimension_bars(by_dimension: dict[str, dict[str, dict[str, Rate]]]) -> dict[str, SafeString]:
    """One chart per dimension: a bar per group, of the citations labelled any error."""
    return {
        dimension: rate_bars([(group, rates["any"]) for group, rates in table.items()])
        for dimension, table in by_dimension.items()
    }
