"""Every chart function of mlsd_site.charts: well-formed, accessible, responsive SVG; every
caller text escaped; empty and non-finite data; ticks (pure Python, no database).

Run: .venv/bin/python -m pytest mlsd_site/tests/test_charts*.py -p no:django -q
"""

import math
import re

import pytest

from mlsd_site.charts import (
    Series,
    bar_chart,
    budget_bars,
    histogram,
    line_chart,
    nice_ticks,
    radar_chart,
    scatter,
    timeline,
)
from mlsd_site.tests.chart_helpers import (
    HOSTILE,
    MAKERS,
    NS,
    RUBRIC,
    SVG_TAGS,
    by_class,
    make_bars,
    make_histogram,
    make_line,
    make_scatter,
    parse,
    texts,
)

# --------------------------------------------------------------------------- every chart


@pytest.mark.parametrize("make", MAKERS)
def test_well_formed_accessible_responsive_svg(make):
    svg = make()
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    assert "system-ui" in root.get("font-family")
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title is not None and title.text == root.get("aria-label")
    assert desc is not None and len(desc.text) > 20
    assert list(root)[:2] == [title, desc]
    sizes = {int(el.get("font-size")) for el in root.iter() if el.get("font-size")}
    assert sizes <= {12, 13}  # never smaller than 12 units (test_charts_readable.py)


@pytest.mark.parametrize("make", MAKERS)
def test_title_is_escaped_not_markup(make):
    svg = make(title=HOSTILE)
    root = parse(svg)
    assert not list(root.iter(f"{NS}script")) and not list(root.iter("script"))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert root.find(f"{NS}title").text == HOSTILE
    assert root.get("aria-label") == HOSTILE


@pytest.mark.parametrize("make", MAKERS)
def test_deterministic_and_rounded(make):
    first, second = make(), make()
    assert first == second
    geometry = ("x", "y", "cx", "cy", "width", "height", "d", "points", "x1", "y1", "x2", "y2")
    numbers = [
        number
        for el in parse(first).iter()
        for name in geometry
        for number in re.findall(r"\d+\.\d+", el.get(name, ""))
    ]
    assert numbers and all(len(n.split(".")[1]) == 1 for n in numbers), numbers[:5]


def test_every_caller_text_is_escaped():
    hostile_series = [Series(HOSTILE, [(0, 0.1), (1, 0.2), (2, 0.3)], color='red" onload="x')]
    svgs = [
        line_chart(
            series=hostile_series * 2,
            title="t",
            x_label=HOSTILE,
            y_label=HOSTILE,
            x_ticks_labels=[HOSTILE, "b", "c"],
            y_format="<b>{:.2f}</b>",
        ),
        histogram(edges=[0, 1], counts=[3], title="t", x_label=HOSTILE, y_label=HOSTILE),
        scatter(points=[(0, 1), (1, 2)], title="t", x_label=HOSTILE, y_label=HOSTILE),
        bar_chart(
            bars=[(HOSTILE, 1.0), ("b", 2.0)],
            title="t",
            y_label=HOSTILE,
            reference=[0.5, 3],
            reference_label=HOSTILE,
            value_format="<i>{:.1f}</i>",
        ),
        radar_chart(axes=[HOSTILE, "b", "c"], series=hostile_series, max_value=4, title="t"),
        budget_bars(rows=[(HOSTILE, 60, 30), ("b", 10, HOSTILE)], title="t"),
        timeline(
            rows=[(HOSTILE, [1000])],
            markers=[(500, HOSTILE)],
            marker_symbol="<",
            end_ms=2000,
            title="t",
        ),
    ]
    for svg in svgs:
        root = parse(svg)
        assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
        assert "onload" not in {name for el in root.iter() for name in el.attrib}
        tags = {el.tag.removeprefix(NS) for el in root.iter()}
        assert tags <= SVG_TAGS
        assert any("<script>" in t or "&" in t for t in texts(root))


def test_characters_xml_cannot_hold_are_dropped():
    svg = make_line(title="bad \x00\x08\x1b bytes \ud800 here")
    root = parse(svg)
    assert root.find(f"{NS}title").text == "bad bytes here"


# --------------------------------------------------------------------------- empty data


@pytest.mark.parametrize(
    "svg",
    [
        line_chart(series=[], title="Empty", x_label="x", y_label="y"),
        line_chart(
            series=[Series("nan", [(math.nan, 1), (1, math.inf), (-math.inf, 0)])],
            title="Empty",
            x_label="x",
            y_label="y",
        ),
        histogram(edges=[], counts=[], title="Empty", x_label="x"),
        histogram(edges=[0, math.nan], counts=[4], title="Empty", x_label="x"),
        scatter(points=[], title="Empty", x_label="x", y_label="y"),
        scatter(points=[(math.nan, 1)], title="Empty", x_label="x", y_label="y"),
        bar_chart(bars=[], title="Empty", y_label="y"),
        bar_chart(bars=[("a", math.nan)], title="Empty", y_label="y"),
        radar_chart(axes=[], series=[], max_value=4, title="Empty"),
        radar_chart(axes=RUBRIC, series=[Series("s", [(0, math.nan)])], max_value=4, title="E"),
        budget_bars(rows=[], title="Empty"),
        budget_bars(rows=[("a", math.nan, 60), ("b",)], title="Empty"),
        timeline(rows=[], markers=[(math.inf, "q")], end_ms=1000, title="Empty"),
    ],
)
def test_empty_input_says_no_data(svg):
    root = parse(svg)
    assert "No data" in texts(root)
    assert root.find(f"{NS}desc").text == "No data."
    assert root.get("aria-label") in ("Empty", "E")


# --------------------------------------------------------------------------- non-finite data


def test_line_chart_drops_non_finite_points():
    points = [(0, 0.1), (math.nan, 0.5), (0.5, math.inf), (1, -math.inf), (1, 0.9), (2, None)]
    svg = line_chart(series=[Series("s", points)], title="t", x_label="x", y_label="y")
    root = parse(svg)
    assert "2 points" in root.find(f"{NS}desc").text
    assert not re.search(r"nan|inf", svg.lower().replace("information", ""))
    (path,) = by_class(root, "chart-series")
    assert len(re.findall(r"-?[\d.]+ -?[\d.]+", path.get("d"))) == 2


def test_scatter_histogram_and_bars_drop_non_finite_values():
    svg = scatter(
        points=[(1, 1), (math.nan, 2), (2, math.inf), (3, 3)], title="t", x_label="x", y_label="y"
    )
    assert len(list(parse(svg).iter(f"{NS}circle"))) == 2
    assert "nan" not in svg.lower()

    svg = histogram(edges=[0, 1, 2, math.inf], counts=[1, math.nan, 3], title="t", x_label="x")
    assert "1 bins" in parse(svg).find(f"{NS}desc").text

    svg = bar_chart(bars=[("a", 1.0), ("b", math.inf), ("c", 2.0)], title="t", y_label="y")
    root = parse(svg)
    assert len(by_class(root, "chart-bar")) == 2
    assert "b" not in texts(root)


def test_invalid_ranges_fall_back_to_the_data():
    svg = line_chart(
        series=[Series("s", [(0, 0), (10, 5)])],
        title="t",
        x_label="x",
        y_label="y",
        x_range=(math.nan, 1),
        y_range=(3, 3),
    )
    labels = texts(parse(svg))
    assert "10" in labels and "5" in labels


# --------------------------------------------------------------------------- line chart


# --------------------------------------------------------------------------- ticks


def is_nice_step(step: float) -> bool:
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-12)
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 5, 10))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        (0, 1),
        (0, 0.93),
        (0.71, 0.74),
        (-3.2, 2.9),
        (0, 1234),
        (1e-5, 3e-5),
        (-1e6, 5e6),
        (17, 18),
        (0.5, 0.5000001),
    ],
)
def test_nice_ticks_are_multiples_of_a_1_2_5_step(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert 2 <= len(ticks) <= 9
    assert all(lo - 1e-12 <= t <= hi + 1e-12 for t in ticks)
    step = ticks[1] - ticks[0]
    assert is_nice_step(step)
    for tick in ticks:
        assert math.isclose(tick / step, round(tick / step), abs_tol=1e-6)
        assert tick == float(f"{tick:.12g}")  # no 0.30000000000000004


def test_nice_ticks_edge_cases():
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1]
    assert nice_ticks(1, 0) == nice_ticks(0, 1)
    assert nice_ticks(2, 2) == [2]
    assert nice_ticks(math.nan, 1) == []


@pytest.mark.parametrize("make", [make_line, make_histogram, make_scatter, make_bars])
def test_rendered_y_ticks_are_nice(make):
    root = parse(make())
    labels = texts(by_class(root, "chart-ticks-y")[0])
    values = [float(t.replace("k", "e3").replace("M", "e6")) for t in labels]
    assert len(values) >= 3
    steps = {round(b - a, 9) for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1 and is_nice_step(steps.pop())


def test_large_tick_values_use_one_unit():
    svg = line_chart(
        series=[Series("s", [(0, 800_000), (1, 1_600_000)])], title="t", x_label="x", y_label="y"
    )
    labels = texts(by_class(parse(svg), "chart-ticks-y")[0])
    assert all(t == "0" or t.endswith("M") for t in labels), labels
