"""A grants-and-withdrawals chart as SVG, drawn on the server.

No chart library and no script: the CSP allows none inline, and an SVG made of elements
with presentation attributes needs no style sheet either. Each chart carries a <title>
and <desc>; the page shows the same numbers in a table for screen readers.
"""

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT, PAD = 640, 220, 36
GRANT_COLOUR, WITHDRAW_COLOUR = "#1a6b2f", "#a4000f"


def weekly_chart_svg(
    weeks, *, title: str, granted_label: str, withdrawn_label: str, chart_id: str = "chart"
) -> str:
    """`chart_id` keeps element ids unique when a page shows several charts."""
    peak = max([1, *(max(w.granted, w.withdrawn) for w in weeks)])
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    slot = plot_w / max(1, len(weeks))
    bar = max(1.0, slot / 2 - 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title" class="chart">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#4a4a55"/>',
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end" font-size="11">{peak}</text>',
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" text-anchor="end" font-size="11">0</text>',
    ]
    for n, week in enumerate(weeks):
        x = PAD + n * slot
        for offset, value, colour in (
            (0, week.granted, GRANT_COLOUR),
            (bar + 1, week.withdrawn, WITHDRAW_COLOUR),
        ):
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{week.starts_on:%d-%m}: {value}</title>'
                "</rect>"
            )
        if n % max(1, len(weeks) // 6) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" font-size="11">'
                f"{week.starts_on:%d-%m}</text>"
            )
    legend_y = HEIGHT - 8
    parts += [
        f'<rect x="{PAD}" y="{legend_y - 9}" width="10" height="10" fill="{GRANT_COLOUR}"/>',
        f'<text x="{PAD + 14}" y="{legend_y}" font-size="11">{escape(granted_label)}</text>',
        f'<rect x="{PAD + 160}" y="{legend_y - 9}" width="10" height="10" '
        f'fill="{WITHDRAW_COLOUR}"/>',
        f'<text x="{PAD + 174}" y="{legend_y}" font-size="11">{escape(withdrawn_label)}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every text inside is escaped above
