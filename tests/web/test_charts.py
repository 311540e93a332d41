"""The dashboard's SVG charts: well-formed whatever the labels, escaped, accessible, proportional."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from vigil.web.charts import PALETTE, bar_chart, histogram, stacked_days

SVG = "{http://www.w3.org/2000/svg}"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
ALLOWED_TAGS = {"svg", "title", "desc", "g", "rect", "text", "line"}


def parse(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))


def local(tag: str) -> str:
    return tag.removeprefix(SVG)


def texts(root: ET.Element) -> list[str]:
    return [el.text or "" for el in root.iter(f"{SVG}text")]


def bars(root: ET.Element) -> list[ET.Element]:
    """The data rectangles (the background rectangle is white, legend swatches are 12x12 in <g>s
    after the bars; callers filter as they need)."""
    return [r for r in root.iter(f"{SVG}rect") if r.get("fill") != "#ffffff"]


def assert_safe(svg: Markup) -> ET.Element:
    """Well-formed XML, only harmless elements and attributes, no script, no inline style."""
    out = str(svg)
    assert isinstance(svg, Markup)
    assert "<script" not in out.lower()
    assert "<style" not in out.lower()
    root = parse(svg)
    assert local(root.tag) == "svg"
    for el in root.iter():
        assert local(el.tag) in ALLOWED_TAGS
        for name in el.attrib:
            assert name != "style"
            assert not name.lower().startswith("on")
            assert "href" not in name
    return root


def assert_accessible(root: ET.Element) -> None:
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    assert root[0] is title  # the accessible name comes first
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.get("preserveAspectRatio")


# --- bar chart ---------------------------------------------------------------------------------------


def test_bar_widths_are_proportional_and_the_largest_fills_the_bar_area():
    root = parse(bar_chart([("a", 10), ("b", 5), ("c", 2.5), ("d", 0)], title="Hits"))
    widths = [float(r.get("width")) for r in bars(root)]
    assert len(widths) == 4
    full = widths[0]
    assert full > 100
    assert widths[1] == pytest.approx(full / 2, abs=0.01)
    assert widths[2] == pytest.approx(full / 4, abs=0.01)
    assert widths[3] == 0
    # the full bar ends before the value text and inside the chart
    x = float(bars(root)[0].get("x"))
    assert x + full < int(root.get("width"))


def test_bar_chart_layout_labels_values_and_accessibility():
    root = assert_safe(
        bar_chart([("national-vics", 12345), ("hotline-md5", 3)], title="Hits by set", unit="s")
    )
    assert_accessible(root)
    shown = texts(root)
    assert shown[0] == "Hits by set"
    assert "national-vics" in shown and "hotline-md5" in shown
    assert "12,345 s" in shown and "3 s" in shown
    assert root.find(f"{SVG}title").text == "Hits by set"
    assert root.find(f"{SVG}desc").text == "national-vics: 12,345 s; hotline-md5: 3 s"
    # width as given, height grows with the rows
    assert root.get("width") == "480"
    taller = parse(bar_chart([(str(i), i) for i in range(10)], title="t"))
    assert int(taller.get("height")) > int(root.get("height"))
    assert parse(bar_chart([("a", 1)], title="t", width=800)).get("width") == "800"


def test_values_format_with_separators_and_decimals():
    root = parse(bar_chart([("a", 1234567), ("b", 0.5), ("c", 2.25), ("d", 3.0)], title="t", unit="%"))
    shown = texts(root)
    for value in ("1,234,567%", "0.5%", "2.25%", "3%"):
        assert value in shown


@pytest.mark.parametrize("bad", [-5, math.nan, math.inf, -math.inf, None])
def test_negative_nan_and_infinite_values_are_zero(bad):
    root = assert_safe(bar_chart([("bad", bad), ("good", 4)], title="t"))
    widths = [float(r.get("width")) for r in bars(root)]
    assert widths[0] == 0 and widths[1] > 0
    assert root.find(f"{SVG}desc").text == "bad: 0; good: 4"
    assert "nan" not in str(bar_chart([("x", bad)], title="t")).lower()


def test_all_zero_values_draw_empty_bars():
    root = assert_safe(bar_chart([("a", 0), ("b", 0)], title="t"))
    assert [float(r.get("width")) for r in bars(root)] == [0, 0]


def test_long_labels_are_truncated_with_an_ellipsis_but_kept_whole_in_the_description():
    label = "a-very-long-hash-set-name-from-a-partner-hotline"
    root = parse(bar_chart([(label, 1)], title="t"))
    shown = [t for t in texts(root) if t.startswith("a-very")]
    assert shown == [label[:27] + ELLIPSIS]
    assert len(shown[0]) == 28
    assert label in root.find(f"{SVG}desc").text
    exactly = "x" * 28
    assert exactly in texts(parse(bar_chart([(exactly, 1)], title="t")))


def test_hostile_text_is_escaped_and_reads_back_exactly():
    hostile = "<script>alert(1)</script>"
    onload = '"onload=alert(1) x="'
    svg = bar_chart([(hostile, 2), (onload, 1)], title="<img src=x onerror=alert(1)>", unit="<b>")
    out = str(svg)
    assert "<script" not in out and "<img" not in out and "<b>" not in out
    root = assert_safe(svg)
    shown = texts(root)
    assert hostile in shown
    assert onload in shown
    assert root.find(f"{SVG}title").text == "<img src=x onerror=alert(1)>"


def test_control_and_bidi_characters_are_shown_as_escapes():
    svg = bar_chart([("a\x00b\x1b[2J\u202egpj.exe", 1)], title="t\x07")
    root = assert_safe(svg)
    assert "a\\x00b\\x1b[2J\\u202egpj.exe" in texts(root)
    assert root.find(f"{SVG}title").text == "t\\x07"


def test_truncation_never_cuts_an_escape_in_half():
    root = parse(bar_chart([("x" * 24 + "\u202e" + "y" * 10, 1)], title="t"))
    label = [t for t in texts(root) if t.startswith("x")][0]
    assert label == "x" * 24 + ELLIPSIS


def test_empty_bar_chart_and_histogram_say_no_data_yet():
    for svg in (bar_chart([], title="Hits"), histogram([], title="Queue age")):
        root = assert_safe(svg)
        assert_accessible(root)
        assert "No data yet" in texts(root)
        assert root.find(f"{SVG}desc").text == "No data yet"


def test_histogram_draws_buckets_in_order():
    root = assert_safe(histogram([("< 1 h", 14), ("1-24 h", 28), ("> 7 d", 7)], title="Queue age"))
    assert_accessible(root)
    shown = texts(root)
    assert shown.index("< 1 h") < shown.index("1-24 h") < shown.index("> 7 d")
    widths = [float(r.get("width")) for r in bars(root)]
    assert widths[1] == max(widths)
    assert widths[0] == pytest.approx(widths[1] / 2, abs=0.01)
    assert root.find(f"{SVG}desc").text == "< 1 h: 14; 1-24 h: 28; > 7 d: 7"


def test_ids_are_unique_per_chart():
    a, b = parse(bar_chart([("a", 1)], title="Same")), parse(bar_chart([("a", 1)], title="Same"))
    assert a.get("aria-labelledby") != b.get("aria-labelledby")
    ids = [el.get("id") for el in (*a.iter(), *b.iter()) if el.get("id")]
    assert len(ids) == len(set(ids)) == 4
    assert all(re.fullmatch(r"[a-z0-9-]+", i) for i in ids)


def test_too_narrow_a_chart_is_refused():
    with pytest.raises(ValueError):
        bar_chart([("a", 1)], title="t", width=50)
    with pytest.raises(ValueError):
        stacked_days(["d"], {"a": [1]}, title="t", width=100)


# --- stacked days ------------------------------------------------------------------------------------


def day_names(n: int) -> list[str]:
    return [f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(n)]


def test_legend_lists_every_series_in_order_with_its_colour():
    series = {f"source-{i}": [i, 1, 2] for i in range(8)}
    root = assert_safe(stacked_days(day_names(3), series, title="Reports per day"))
    assert_accessible(root)
    shown = texts(root)
    for name in series:
        assert name in shown
    assert [t for t in shown if t.startswith("source-")] == list(series)
    swatches = [r for r in root.iter(f"{SVG}rect") if r.get("width") == "12" and r.get("height") == "12"]
    assert [s.get("fill") for s in swatches] == [PALETTE[i % len(PALETTE)] for i in range(8)]


def test_stacks_are_proportional_and_the_axis_shows_a_round_maximum():
    days = ["Mon", "Tue", "Wed"]
    root = parse(stacked_days(days, {"web": [2, 4, 0], "partner": [2, 0, 1]}, title="t", height=200))
    segments = [r for r in bars(root) if r.get("width") != "12"]
    heights = [float(r.get("height")) for r in segments]
    # maximum total 4 is a round number: the tallest day fills the 200-unit plot
    assert heights == pytest.approx([100, 100, 200, 50])
    assert {s.get("fill") for s in segments} == {PALETTE[0], PALETTE[1]}
    shown = texts(root)
    assert "4" in shown and "0" in shown
    assert days == [t for t in shown if t in days]


def test_y_axis_maximum_is_rounded_up_with_separators():
    root = parse(stacked_days(["a", "b"], {"s": [1234, 17]}, title="t"))
    assert "1,500" in texts(root)


def test_x_labels_are_thinned_to_at_most_ten():
    days = day_names(90)
    root = assert_safe(stacked_days(days, {"a": list(range(90))}, title="t"))
    shown = [t for t in texts(root) if t.startswith("2024-")]
    assert 5 <= len(shown) <= 10
    assert shown[0] == days[0]
    few = parse(stacked_days(day_names(7), {"a": [1] * 7}, title="t"))
    assert len([t for t in texts(few) if t.startswith("2024-")]) == 7


def test_stacked_description_summarises_the_data():
    root = parse(stacked_days(["May 1", "May 2"], {"national": [3, 9], "hotline": [1, 0]}, title="t"))
    desc = root.find(f"{SVG}desc").text
    assert "2 days, May 1 to May 2" in desc
    assert "national: 12" in desc and "hotline: 1" in desc
    assert "Highest day: May 2 with 9" in desc


def test_short_series_are_padded_long_ones_cut_and_bad_values_are_zero():
    root = assert_safe(stacked_days(["a", "b", "c"], {"s": [1, -4], "t": [1, 2, 3, 4, 5]}, title="t"))
    desc = root.find(f"{SVG}desc").text
    assert "s: 1; t: 6" in desc


def test_empty_stacked_says_no_data_yet():
    for svg in (stacked_days([], {"a": []}, title="t"), stacked_days(["d"], {}, title="t")):
        root = assert_safe(svg)
        assert "No data yet" in texts(root)


def test_all_zero_days_still_draw_axes():
    root = assert_safe(stacked_days(["a", "b"], {"s": [0, 0]}, title="t"))
    assert "No data yet" not in texts(root)
    assert root.find(f"{SVG}line") is not None


def test_the_svg_height_covers_plot_labels_and_legend():
    one_row = parse(stacked_days(["a"], {"s": [1]}, title="t", height=100))
    many = parse(stacked_days(["a"], {f"series number {i}": [1] for i in range(12)}, title="t", height=100))
    assert int(one_row.get("height")) > 100
    assert int(many.get("height")) > int(one_row.get("height"))
    for root in (one_row, many):
        bottom = max(float(r.get("y")) + float(r.get("height")) for r in root.iter(f"{SVG}rect"))
        assert bottom <= int(root.get("height"))


# --- any text, any counts ----------------------------------------------------------------------------

# Any text, plus what hostile names are made of: markup, quotes, controls, bidi overrides, lone
# surrogates (undecodable file-name bytes) and the two non-characters XML forbids. (st.text never
# yields surrogates, hence a list of characters.)
NASTY = [
    "<",
    ">",
    "&",
    '"',
    "'",
    "<script>",
    "style=",
    "\x00",
    "\x1b",
    "\u202e",
    "\ud800",
    "\udcff",
    "\uffff",
]
labels = st.lists(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=40).map("".join)
counts = st.integers(min_value=0, max_value=10**12)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(labels, counts), max_size=8), title=labels, unit=st.text(max_size=5))
def test_any_bar_chart_is_well_formed_and_safe(rows, title, unit):
    root = assert_safe(bar_chart(rows, title=title, unit=unit))
    assert_accessible(root)
    assert len(bars(root)) == len(rows)


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(labels, min_size=1, max_size=40),
    series=st.dictionaries(labels, st.lists(counts, max_size=40), max_size=7),
    title=labels,
)
def test_any_stacked_chart_is_well_formed_and_safe(days, series, title):
    root = assert_safe(stacked_days(days, series, title=title))
    assert_accessible(root)
    for x in root.iter(f"{SVG}rect"):
        assert float(x.get("x")) >= 0 and float(x.get("height")) >= 0


@settings(max_examples=30, deadline=None)
@given(buckets=st.lists(st.tuples(labels, counts), max_size=6), title=labels)
def test_any_histogram_is_well_formed_and_safe(buckets, title):
    assert_accessible(assert_safe(histogram(buckets, title=title)))
