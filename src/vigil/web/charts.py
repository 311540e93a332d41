"""Dashboard charts as inline SVG, drawn on the server.

A hotline's dashboard is read on locked-down workstations: often offline, sometimes with JavaScript
disabled, always under a Content-Security-Policy that forbids inline scripts and inline styles. So the
charts are plain SVG elements rendered here, in Python, and embedded in the page: they need no script,
no chart library, no network and no stylesheet, and they print.

Everything shown is someone else's data — hash-set names, report sources, days, units — and may be
hostile (`<script>`, `"onload=`, bidi overrides, control characters). Every piece of text is escaped
with `markupsafe.escape`, and characters that are invisible, deceptive or not allowed in XML are shown
as backslash escapes (`\\x00`, `\\u202e`), so the output is always well-formed XML. Presentation is
given by SVG attributes (`fill`, `font-size`, `text-anchor`), never by `style=` or `<style>`, which
the page's Content-Security-Policy would block.

Each chart is a complete `<svg role="img">` with a `<title>` (its accessible name, referenced by
`aria-labelledby`) and a `<desc>` that states the data in words for screen readers. Values that are
negative, NaN or infinite are drawn as 0; long labels are cut to 28 characters with an ellipsis (the
full label is in the bar's tooltip and in the description). The functions return `markupsafe.Markup`,
so Jinja2's autoescaping inserts the SVG as it is.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

__all__ = ["PALETTE", "TEXT_COLOUR", "bar_chart", "histogram", "stacked_days"]

TEXT_COLOUR = "#1f2937"  # 14.7:1 on white
AXIS_COLOUR = "#6b7280"  # 4.8:1 on white (non-text contrast needs 3:1)
GRID_COLOUR = "#e5e7eb"  # decorative only
# Bar fills, each at least 3:1 against white (WCAG 1.4.11), cycled over series.
PALETTE = ("#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626", "#0891b2")

LABEL_MAX = 28  # characters of a label shown, ellipsis included
FULL_MAX = 200  # characters of a label in tooltips and descriptions
FONT = 12
CHAR_W = 7.5  # average advance of a 12 px sans-serif character, generously
SMALL_FONT = 10
SMALL_CHAR_W = 6.0
TITLE_FONT = 14
TITLE_CHAR_W = 8.5
FONT_FAMILY = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
NO_DATA = "No data yet"
MAX_X_LABELS = 10

# Unicode categories shown as escapes: controls, format characters (bidi overrides, zero-width),
# line/paragraph separators, surrogates, private use and unassigned (U+FFFE, U+FFFF: not XML)
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})

_ids = itertools.count(1)  # next() on itertools.count is atomic in CPython: ids unique per process


# --- text -------------------------------------------------------------------------------------------


def _visible_char(ch: str) -> str:
    if unicodedata.category(ch) not in _HIDDEN:
        return ch
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _fit(text: object, limit: int = LABEL_MAX) -> str:
    """`text` with hidden characters escaped, cut to at most `limit` characters (ellipsis included).
    An escape is never cut in half. The result is plain text: escape it before output."""
    text = "" if text is None else str(text)
    limit = max(limit, 1)
    if text.isprintable() and len(text) <= limit:  # the common case
        return text
    out: list[str] = []
    used = 0
    for ch in text:
        piece = _visible_char(ch)
        if used + len(piece) > limit:
            break
        out.append(piece)
        used += len(piece)
    else:
        return "".join(out)
    while out and used + 1 > limit:
        used -= len(out.pop())
    return "".join(out) + "\N{HORIZONTAL ELLIPSIS}"


def _esc(text: str) -> str:
    return str(escape(text))


# --- numbers ----------------------------------------------------------------------------------------


def _value(v: object) -> float:
    """A drawable value: negative, NaN, infinite, missing or overflowing values are 0."""
    if v is None:
        return 0.0
    try:
        f = float(v)  # type: ignore[arg-type]
    except OverflowError:
        return 0.0
    if math.isnan(f) or math.isinf(f) or f < 0:
        return 0.0
    return f


def _fmt(v: float) -> str:
    """A value for people: thousands separators, at most two decimals, no trailing zeros."""
    if v >= 1e15:
        return f"{v:.3g}"
    if v == int(v):
        return f"{int(v):,}"
    text = f"{v:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _with_unit(v: float, unit: str) -> str:
    if not unit:
        return _fmt(v)
    return f"{_fmt(v)}{unit}" if unit == "%" else f"{_fmt(v)} {unit}"


def _n(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _nice_ceiling(m: float, integral: bool) -> float:
    """A round number at least `m` (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten)."""
    if m <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(m))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = factor * power
        if top >= m * (1 - 1e-12):
            break
    if integral:
        top = float(math.ceil(top))
    return max(top, m)


# --- SVG pieces -------------------------------------------------------------------------------------


def _text(
    x: float, y: float, content: str, *, size: int = FONT, anchor: str = "start", bold: bool = False
) -> str:
    weight = ' font-weight="600"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" fill="{TEXT_COLOUR}"'
        f' text-anchor="{anchor}"{weight}>{_esc(content)}</text>'
    )


def _svg(kind: str, width: int, height: float, title: str, desc: str, body: Iterable[str]) -> Markup:
    """The complete element: accessible name and description first, then the drawing."""
    n = next(_ids)
    title_id, desc_id = f"vigil-chart-{n}-title", f"vigil-chart-{n}-desc"
    h = math.ceil(height)
    full_title = _fit(title, FULL_MAX)
    shown_title = _fit(title, max(int((width - 16) / TITLE_CHAR_W), 4))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vigil-chart vigil-chart-{kind}"'
        f' width="{width}" height="{h}" viewBox="0 0 {width} {h}" preserveAspectRatio="xMinYMin meet"'
        f' role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}"'
        f' font-family="{FONT_FAMILY}">',
        f'<title id="{title_id}">{_esc(full_title)}</title>',
        f'<desc id="{desc_id}">{_esc(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{h}" fill="#ffffff"/>',
        _text(8, 20, shown_title, size=TITLE_FONT, bold=True),
        *body,
        "</svg>",
    ]
    return Markup("".join(parts))


def _no_data(kind: str, width: int, title: str) -> Markup:
    body = [_text(8, 48, NO_DATA, size=FONT)]
    return _svg(kind, width, 64, title, NO_DATA, body)


def _check_width(width: int, minimum: int) -> int:
    width = int(width)
    if width < minimum:
        raise ValueError(f"chart width {width} is below the minimum of {minimum}")
    return width


# --- charts -----------------------------------------------------------------------------------------


def _horizontal_bars(
    kind: str, rows: Sequence[tuple[object, object]], *, title: str, unit: str, width: int
) -> Markup:
    width = _check_width(width, 200)
    if not rows:
        return _no_data(kind, width, title)
    unit = _fit(unit, 12)
    values = [_value(v) for _, v in rows]
    value_texts = [_with_unit(v, unit) for v in values]
    top = max(values)

    value_w = max(len(t) for t in value_texts) * CHAR_W + 12
    min_bar = 60
    room = int((width - value_w - min_bar - 22) / CHAR_W)  # label characters that fit
    limit = max(4, min(LABEL_MAX, room))
    labels = [_fit(label, limit) for label, _ in rows]
    label_w = 8 + max(len(label) for label in labels) * CHAR_W + 6
    bar_x = label_w
    bar_full = max(width - bar_x - value_w - 8, 1)

    row_h, bar_h, y0 = 24, 16, 34
    body: list[str] = []
    for i, ((raw_label, _), label, v, vt) in enumerate(zip(rows, labels, values, value_texts, strict=True)):
        y = y0 + i * row_h
        bar_w = bar_full * v / top if top > 0 else 0.0
        tip = f"{_fit(raw_label, FULL_MAX)}: {vt}"
        body.append(
            f"<g><title>{_esc(tip)}</title>"
            + _text(bar_x - 6, y + row_h / 2 + 4, label, anchor="end")
            + f'<rect x="{_n(bar_x)}" y="{_n(y + (row_h - bar_h) / 2)}" width="{_n(bar_w)}"'
            f' height="{bar_h}" fill="{PALETTE[0]}"/>'
            + _text(bar_x + bar_w + 6, y + row_h / 2 + 4, vt)
            + "</g>"
        )
    desc = "; ".join(
        f"{_fit(label, FULL_MAX)}: {vt}" for (label, _), vt in zip(rows, value_texts, strict=True)
    )
    height = y0 + len(rows) * row_h + 8
    return _svg(kind, width, height, title, desc, body)


def bar_chart(rows: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 480) -> Markup:
    """Horizontal bars, one per `(label, value)` row, in the given order: the label to the left, the
    value (with `unit`, e.g. "s" or "%") to the right of its bar. The largest value fills the bar
    area. `width` is the SVG's width in pixels (at least 200); its height follows from the rows."""
    return _horizontal_bars("bar", rows, title=title, unit=unit, width=width)


def histogram(buckets: list[tuple[str, int]], *, title: str) -> Markup:
    """Counts per bucket, e.g. the age of open reports ("< 1 h", "1-24 h", "> 7 d"), as horizontal
    bars in the given bucket order (so the buckets' labels stay readable)."""
    return _horizontal_bars("histogram", buckets, title=title, unit="", width=480)


def stacked_days(
    days: list[str], series: dict[str, list[int]], *, title: str, width: int = 640, height: int = 200
) -> Markup:
    """One vertical bar per day, stacked by series (e.g. reports per day by source), with a legend,
    a y-axis from 0 to a round maximum, and at most ten day labels under the bars.

    `series` maps a name to one count per day (missing counts are 0, extra ones ignored); series are
    stacked bottom-up and listed in the legend in the mapping's order, coloured from `PALETTE` in turn.
    `width` is the SVG's width (at least 240); `height` is the height of the plot area (at least 40):
    the SVG is taller by the title, the day labels and the legend."""
    width = _check_width(width, 240)
    plot_h = float(height)
    if plot_h < 40:
        raise ValueError(f"plot height {height} is below the minimum of 40")
    if not days or not series:
        return _no_data("stacked", width, title)

    n = len(days)
    names = list(series)
    counts: dict[str, list[float]] = {}
    for name in names:
        raw = list(series[name])[:n]
        counts[name] = [_value(v) for v in raw] + [0.0] * (n - len(raw))
    totals = [sum(counts[name][i] for name in names) for i in range(n)]
    grand = max(totals)
    integral = all(v == int(v) for name in names for v in counts[name])
    y_top = _nice_ceiling(grand, integral)

    top_label = _fmt(y_top)
    axis_x = max(len(top_label), 1) * SMALL_CHAR_W + 12
    plot_top = 40
    plot_w = width - axis_x - 10
    base = plot_top + plot_h
    slot = plot_w / n
    bar_w = slot * 0.8 if slot >= 4 else slot
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}

    body: list[str] = [
        # the maximum tick, its grid line, the zero tick and the axes
        f'<line x1="{_n(axis_x)}" y1="{plot_top}" x2="{_n(axis_x + plot_w)}" y2="{plot_top}"'
        f' stroke="{GRID_COLOUR}" stroke-width="1"/>',
        _text(axis_x - 6, plot_top + 4, top_label, size=SMALL_FONT, anchor="end"),
        _text(axis_x - 6, base + 4, "0", size=SMALL_FONT, anchor="end"),
        f'<line x1="{_n(axis_x)}" y1="{plot_top}" x2="{_n(axis_x)}" y2="{_n(base)}"'
        f' stroke="{AXIS_COLOUR}" stroke-width="1"/>',
    ]

    for i in range(n):
        x = axis_x + i * slot + (slot - bar_w) / 2
        y = base
        day = _fit(days[i], FULL_MAX)
        parts = "; ".join(f"{_fit(name, FULL_MAX)}: {_fmt(counts[name][i])}" for name in names)
        group = [f"<g><title>{_esc(f'{day}: {_fmt(totals[i])} ({parts})')}</title>"]
        for name in names:
            v = counts[name][i]
            if v <= 0:
                continue
            h = plot_h * v / y_top
            y -= h
            group.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_w)}" height="{_n(h)}" fill="{colours[name]}"/>'
            )
        group.append("</g>")
        body.append("".join(group))

    body.append(
        f'<line x1="{_n(axis_x)}" y1="{_n(base)}" x2="{_n(axis_x + plot_w)}" y2="{_n(base)}"'
        f' stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )

    # day labels: every `step`-th day, at most ten and far enough apart for a date ("2024-05-01")
    # to fit; longer labels are cut to the room between two labels
    longest = min(max(len(_fit(day, LABEL_MAX)) for day in days), 12)
    step = max(math.ceil(n / MAX_X_LABELS), math.ceil((longest * SMALL_CHAR_W + 6) / slot))
    label_chars = max(3, min(LABEL_MAX, int((slot * step - 4) / SMALL_CHAR_W)))
    for i in range(0, n, step):
        label = _fit(days[i], label_chars)
        half = len(label) * SMALL_CHAR_W / 2
        cx = min(max(axis_x + (i + 0.5) * slot, half + 2), width - half - 2)  # kept inside the SVG
        body.append(_text(cx, base + 14, label, size=SMALL_FONT, anchor="middle"))

    # legend: a swatch and a name per series, in rows
    legend_top = base + 26
    x, row = axis_x, 0
    for name in names:
        label = _fit(name)
        item_w = 12 + 5 + len(label) * CHAR_W + 14
        if x > axis_x and x + item_w > width - 4:
            x, row = axis_x, row + 1
        y = legend_top + row * 18
        body.append(
            f'<g><rect x="{_n(x)}" y="{_n(y)}" width="12" height="12" fill="{colours[name]}"/>'
            + _text(x + 17, y + 10, label)
            + "</g>"
        )
        x += item_w
    total_h = legend_top + (row + 1) * 18 + 4

    busiest = max(range(n), key=lambda i: totals[i])
    span = _fit(days[0], FULL_MAX) if n == 1 else f"{_fit(days[0], FULL_MAX)} to {_fit(days[-1], FULL_MAX)}"
    per_series = "; ".join(f"{_fit(name, FULL_MAX)}: {_fmt(sum(counts[name]))}" for name in names)
    desc = (
        f"{n:,} day{'s' if n != 1 else ''}, {span}. Totals: {per_series}. "
        f"Highest day: {_fit(days[busiest], FULL_MAX)} with {_fmt(totals[busiest])}."
    )
    return _svg("stacked", width, total_h, title, desc, body)
