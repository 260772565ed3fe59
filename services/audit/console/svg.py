"""A small server-side SVG bar chart (no JavaScript, no CDN): horizontal bars, one group per row, a legend,
`role="img"` with a title and description; the page shows the same numbers as a table beside it. Colours are
dark enough for 3:1 contrast against white (WCAG 1.4.11) and bars also differ by pattern-free labels (values are
printed at the end of each bar), so colour is never the only cue."""

from __future__ import annotations

from html import escape

from eahub.audit.console.flows import Table

COLOURS = ("#1d70b8", "#b58840", "#d4351c", "#00703c")
BAR, GAP, LABEL_W, CHART_W = 14, 8, 260, 360


def bar_chart(table: Table) -> str:
    series = [i for i, _ in enumerate(table.columns[1:], start=1)
              if all(isinstance(r[i], int | float) for r in table.rows)]
    if not table.rows or not series:
        return ""
    peak = max((float(r[i]) for r in table.rows for i in series), default=0.0) or 1.0
    group_h = len(series) * BAR + GAP
    height = 30 + len(table.rows) * group_h
    width = LABEL_W + CHART_W + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" aria-labelledby="t-{table.name} d-{table.name}">',
           f'<title id="t-{table.name}">{escape(table.title)}</title>',
           f'<desc id="d-{table.name}">Bar chart; the same figures are in the table below.</desc>']
    for n, i in enumerate(series):
        x = LABEL_W + n * 150
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{COLOURS[n % len(COLOURS)]}"/>'
                   f'<text x="{x + 16}" y="14" font-size="12" fill="#0b0c0c">{escape(table.columns[i])}</text>')
    for r, row in enumerate(table.rows):
        y0 = 26 + r * group_h
        out.append(f'<text x="{LABEL_W - 6}" y="{y0 + len(series) * BAR / 2 + 4}" font-size="12" text-anchor="end" '
                   f'fill="#0b0c0c">{escape(str(row[0])[:40])}</text>')
        for n, i in enumerate(series):
            w = float(row[i]) / peak * CHART_W
            y = y0 + n * BAR
            out.append(f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR - 2}" '
                       f'fill="{COLOURS[n % len(COLOURS)]}"/>'
                       f'<text x="{LABEL_W + w + 4:.1f}" y="{y + BAR - 4}" font-size="11" fill="#0b0c0c">'
                       f'{escape(str(row[i]))}</text>')
    out.append("</svg>")
    return "".join(out)
