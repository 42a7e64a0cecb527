"""Tests for mlsd_site.charts (pure Python; no Django or database needed).

Run: .venv/bin/python -m pytest grading/tests/test_charts.py -p no:django -q
"""

import math
import re
import xml.etree.ElementTree as ET

import pytest

from mlsd_site import charts
from mlsd_site.charts import (
    PALETTE,
    WARNING,
    Series,
    bar_chart,
    histogram,
    line_chart,
    nice_ticks,
    radar_chart,
    scatter,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script> & \"quotes\""
# every element the charts may emit: nothing else (no script, foreignObject, image, a)
SVG_TAGS = {
    "svg",
    "title",
    "desc",
    "g",
    "text",
    "tspan",
    "path",
    "rect",
    "circle",
    "line",
    "polygon",
}
RUBRIC = ["Problem framing", "Data", "Modelling", "Evaluation", "Serving", "Monitoring"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 -- our own output, the thing under test
    assert root.tag == f"{NS}svg"
    return root


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


def roc_points(n: int = 50) -> list[tuple[float, float]]:
    return [(i / n, (i / n) ** 0.3) for i in range(n + 1)]


def make_line(title: str = "ROC curve", **kwargs) -> str:
    defaults = {
        "series": [Series("model", roc_points()), Series("baseline", roc_points(), dashed=True)],
        "title": title,
        "x_label": "False positive rate",
        "y_label": "True positive rate",
        "x_range": (0, 1),
        "y_range": (0, 1),
        "diagonal": True,
    }
    return line_chart(**(defaults | kwargs))


def make_histogram(title: str = "Residuals", **kwargs) -> str:
    edges = [-2 + 0.5 * i for i in range(9)]
    defaults = {
        "edges": edges,
        "counts": [1, 4, 9, 20, 18, 8, 3, 1],
        "title": title,
        "x_label": "residual",
    }
    return histogram(**(defaults | kwargs))


def make_scatter(title: str = "Predicted vs actual", **kwargs) -> str:
    defaults = {
        "points": [(i, i * 1.1 - 2) for i in range(20)],
        "title": title,
        "x_label": "actual",
        "y_label": "predicted",
    }
    return scatter(**(defaults | kwargs))


def make_bars(title: str = "Latency", **kwargs) -> str:
    defaults = {
        "bars": [("p50", 12.0), ("p90", 48.0), ("p99", 130.0)],
        "title": title,
        "y_label": "ms",
        "reference": [20.0, 50.0, 100.0],
    }
    return bar_chart(**(defaults | kwargs))


def make_radar(title: str = "Rubric", **kwargs) -> str:
    defaults = {
        "axes": RUBRIC,
        "series": [
            Series("you", [(i, (i % 4) + 1) for i in range(6)]),
            Series("bar", [(i, 3) for i in range(6)], dashed=True),
        ],
        "max_value": 4,
        "title": title,
    }
    return radar_chart(**(defaults | kwargs))


MAKERS = [make_line, make_histogram, make_scatter, make_bars, make_radar]


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
    assert sizes <= {11, 12, 13}


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


def axis_box(root: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the plot, from the x axis and the y gridlines."""
    (axis,) = by_class(root, "chart-axis")
    left, bottom, right = map(float, re.fullmatch(r"M(\S+) (\S+)H(\S+)", axis.get("d")).groups())
    (grid,) = by_class(root, "chart-grid")
    tops = [float(y) for y in re.findall(r"M\S+ (\S+)H", grid.get("d"))]
    return left, min(tops), right, bottom


def test_roc_chart_has_the_chance_line_corner_to_corner():
    root = parse(make_line())
    (diagonal,) = by_class(root, "chart-diagonal")
    x0, y0, x1, y1 = map(
        float, re.fullmatch(r"M(\S+) (\S+)L(\S+) (\S+)", diagonal.get("d")).groups()
    )
    left, top, right, bottom = axis_box(root)
    assert (x0, y0, x1, y1) == (left, bottom, right, top)
    assert diagonal.get("stroke-dasharray")
    assert "y = x" in root.find(f"{NS}desc").text
    assert not by_class(parse(make_line(diagonal=False)), "chart-diagonal")


def test_roc_ticks_and_labels():
    root = parse(make_line())
    x_ticks = texts(by_class(root, "chart-ticks-x")[0])
    assert x_ticks == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    assert "False positive rate" in texts(root)
    assert "True positive rate" in texts(root)


def test_legend_only_with_more_than_one_series():
    two = parse(make_line())
    (legend,) = by_class(two, "chart-legend")
    assert texts(legend) == ["model", "baseline"]
    one = parse(make_line(series=[Series("model", roc_points())]))
    assert not by_class(one, "chart-legend")


def test_series_colours_follow_the_palette_and_reject_unsafe_values():
    series = [Series(f"s{i}", [(0, i), (1, i + 1)]) for i in range(3)]
    series.append(Series("custom", [(0, 1), (1, 2)], color="#123456"))
    series.append(Series("unsafe", [(0, 1), (1, 2)], color="url(javascript:x)"))
    root = parse(line_chart(series=series, title="t", x_label="x", y_label="y"))
    strokes = [p.get("stroke") for p in by_class(root, "chart-series")]
    assert strokes == [PALETTE[0], PALETTE[1], PALETTE[2], "#123456", PALETTE[4]]


def test_long_line_series_are_downsampled():
    points = [(i, math.sin(i / 50)) for i in range(5000)]
    root = parse(line_chart(series=[Series("s", points)], title="t", x_label="x", y_label="y"))
    (path,) = by_class(root, "chart-series")
    pairs = re.findall(r"-?[\d.]+ -?[\d.]+", path.get("d"))
    assert 300 <= len(pairs) <= charts.MAX_LINE_POINTS
    assert "5000 points (drawn as 400)" in root.find(f"{NS}desc").text


def test_lttb_keeps_ends_and_peaks():
    points = [(float(i), 0.0) for i in range(1000)]
    points[500] = (500.0, 100.0)
    sampled = charts._lttb(points, 50)
    assert len(sampled) == 50
    assert sampled[0] == points[0] and sampled[-1] == points[-1]
    assert (500.0, 100.0) in sampled


def test_step_series_draws_horizontal_then_vertical():
    svg = line_chart(
        series=[Series("best", [(0, 0), (1, 1), (2, 2)], kind="step")],
        title="t",
        x_label="x",
        y_label="y",
        x_range=(0, 2),
        y_range=(0, 2),
    )
    (path,) = by_class(parse(svg), "chart-series")
    pairs = [tuple(map(float, p.split())) for p in re.findall(r"-?[\d.]+ -?[\d.]+", path.get("d"))]
    assert len(pairs) == 5
    for (ax, ay), (bx, by) in zip(pairs, pairs[1:], strict=False):
        assert ax == bx or ay == by  # every segment is axis-parallel
    assert pairs[1][1] == pairs[0][1]  # first move is horizontal


def test_points_kind_draws_markers():
    svg = line_chart(
        series=[Series("bins", [(0.1, 0.12), (0.5, 0.45), (0.9, 0.8)], kind="points")],
        title="Reliability",
        x_label="predicted",
        y_label="observed",
        x_range=(0, 1),
        y_range=(0, 1),
        diagonal=True,
    )
    (group,) = by_class(parse(svg), "chart-series")
    assert len(list(group.iter(f"{NS}circle"))) == 3


def test_data_outside_an_explicit_range_is_clipped_to_the_plot():
    series = [
        Series("line", [(-5, -5), (0.5, 0.5), (5, 5)]),
        Series("dots", [(0.5, 0.5), (3, 0.5)], kind="points"),
    ]
    root = parse(
        line_chart(
            series=series, title="t", x_label="x", y_label="y", x_range=(0, 1), y_range=(0, 1)
        )
    )
    left, top, right, bottom = axis_box(root)
    line, dots = by_class(root, "chart-series")
    for pair in re.findall(r"-?[\d.]+ -?[\d.]+", line.get("d")):
        x, y = map(float, pair.split())
        assert left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1
    assert len(list(dots.iter(f"{NS}circle"))) == 1


def test_time_slices_use_the_given_tick_labels():
    weeks = [f"week {i}" for i in range(1, 7)]
    svg = line_chart(
        series=[Series("ndcg@10", [(i, 0.6 + 0.01 * i) for i in range(6)])],
        title="NDCG@10 per week",
        x_label="slice",
        y_label="NDCG@10",
        x_ticks_labels=weeks,
        y_format="{:.2f}",
    )
    root = parse(svg)
    assert texts(by_class(root, "chart-ticks-x")[0]) == weeks
    y_labels = texts(by_class(root, "chart-ticks-y")[0])
    assert all(re.fullmatch(r"0\.\d\d", t) for t in y_labels)


def test_many_tick_labels_are_thinned_not_overlapped():
    labels = [f"2025-01-{d:02d}" for d in range(1, 32)]
    svg = line_chart(
        series=[Series("s", [(i, i) for i in range(31)])],
        title="t",
        x_label="day",
        y_label="y",
        x_ticks_labels=labels,
    )
    shown = texts(by_class(parse(svg), "chart-ticks-x")[0])
    assert 2 <= len(shown) < 31
    assert shown[0] == labels[0]


def test_unknown_series_kind_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        Series("s", [], kind="area")


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


# --------------------------------------------------------------------------- histogram


def test_histogram_bars_and_zero_marker():
    root = parse(make_histogram())
    bars = list(by_class(root, "chart-bars")[0].iter(f"{NS}rect"))
    assert len(bars) == 8
    (zero,) = by_class(root, "chart-zero")
    x = float(re.match(r"M(\S+)", zero.get("d")).group(1))
    left, _, right, _ = axis_box(root)
    assert math.isclose(x, (left + right) / 2, abs_tol=0.1)  # 0 is the middle of [-2, 2]
    desc = root.find(f"{NS}desc").text
    assert "8 bins" in desc and "64 rows" in desc
    assert not by_class(parse(make_histogram(highlight_zero=False)), "chart-zero")
    no_zero = histogram(edges=[1, 2, 3], counts=[1, 2], title="t", x_label="x")
    assert not by_class(parse(no_zero), "chart-zero")


def test_histogram_count_ticks_are_whole_numbers():
    svg = histogram(edges=[0, 1, 2], counts=[1, 2], title="t", x_label="x")
    labels = texts(by_class(parse(svg), "chart-ticks-y")[0])
    assert labels == ["0", "1", "2"]


def test_histogram_rejects_mismatched_edges():
    with pytest.raises(ValueError, match="edges"):
        histogram(edges=[0, 1], counts=[1, 2], title="t", x_label="x")


# --------------------------------------------------------------------------- scatter


def test_scatter_draws_points_and_diagonal_on_a_shared_range():
    root = parse(make_scatter())
    assert len(list(by_class(root, "chart-series")[0].iter(f"{NS}circle"))) == 20
    assert by_class(root, "chart-diagonal")
    x_labels = texts(by_class(root, "chart-ticks-x")[0])
    y_labels = texts(by_class(root, "chart-ticks-y")[0])
    assert x_labels == y_labels
    assert not by_class(parse(make_scatter(diagonal=False)), "chart-diagonal")


def test_scatter_caps_the_number_of_markers():
    points = [(i % 97, i % 89) for i in range(10_000)]
    root = parse(scatter(points=points, title="t", x_label="x", y_label="y"))
    assert len(list(root.iter(f"{NS}circle"))) == charts.MAX_SCATTER_POINTS
    assert "10000 points (1500 drawn)" in root.find(f"{NS}desc").text


# --------------------------------------------------------------------------- bar chart


def test_bars_over_their_reference_get_the_warning_colour():
    root = parse(make_bars(bars=[("p50", 12.0), ("p90", 50.0), ("p99", 130.0)]))
    fills = [bar.get("fill") for bar in by_class(root, "chart-bar")]
    assert fills == [PALETTE[0], PALETTE[0], WARNING]  # equal to the budget is not over
    assert len(by_class(root, "chart-over")) == 1
    (reference,) = by_class(root, "chart-reference")
    assert reference.get("d").count("M") == 3
    assert texts(by_class(root, "chart-legend")[0]) == ["within budget", "over budget", "budget"]
    assert "1 of 3 over budget" in root.find(f"{NS}desc").text


def test_bars_without_reference_and_with_missing_references():
    root = parse(make_bars(reference=None))
    assert {bar.get("fill") for bar in by_class(root, "chart-bar")} == {PALETTE[0]}
    assert not by_class(root, "chart-reference") and not by_class(root, "chart-legend")
    root = parse(make_bars(reference=[10.0, math.nan, 100.0]))
    fills = [bar.get("fill") for bar in by_class(root, "chart-bar")]
    assert fills == [WARNING, PALETTE[0], WARNING]
    assert by_class(root, "chart-reference")[0].get("d").count("M") == 2


def test_bar_values_labels_and_negative_values():
    root = parse(bar_chart(bars=[("up", 3.0), ("down", -1.5)], title="t", y_label="change"))
    assert texts(by_class(root, "chart-values")[0]) == ["3", "-1.5"]
    assert {"up", "down"} <= set(texts(root))
    up, down = by_class(root, "chart-bar")
    assert float(up.get("y")) + float(up.get("height")) == pytest.approx(float(down.get("y")))


def test_long_bar_labels_are_rotated_and_kept():
    bars = [(f"Category number {i}", float(i + 1)) for i in range(9)]
    root = parse(bar_chart(bars=bars, title="t", y_label="y"))
    labels = list(by_class(root, "chart-ticks-x")[0].iter(f"{NS}text"))
    assert len(labels) == 9 and all("rotate(-35" in el.get("transform") for el in labels)


def test_bar_reference_length_must_match():
    with pytest.raises(ValueError, match="reference"):
        make_bars(reference=[1.0])


# --------------------------------------------------------------------------- radar chart


def test_radar_has_a_polygon_per_series_and_a_spoke_per_axis():
    root = parse(make_radar())
    assert len(list(root.iter(f"{NS}polygon"))) == 2
    assert len(by_class(root, "chart-series")) == 2
    assert len(by_class(root, "chart-spoke")) == 6
    labels = " ".join(texts(by_class(root, "chart-axis-labels")[0]))
    for axis in RUBRIC:
        assert all(word in labels for word in axis.split())
    assert texts(by_class(root, "chart-rings")[0]) == ["1", "2", "3", "4"]
    assert texts(by_class(root, "chart-legend")[0]) == ["you", "bar"]


def test_radar_vertices_scale_with_value():
    root = parse(
        radar_chart(
            axes=["a", "b", "c", "d"],
            series=[Series("s", [(0, 4), (1, 2), (2, 0), (3, 8)])],
            max_value=4,
            title="t",
        )
    )
    (polygon,) = root.iter(f"{NS}polygon")
    pts = [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]
    spokes = by_class(root, "chart-spoke")
    cx, cy = float(spokes[0].get("x1")), float(spokes[0].get("y1"))
    radius = cy - float(spokes[0].get("y2"))
    distances = [math.dist((cx, cy), p) for p in pts]
    assert distances == pytest.approx([radius, radius / 2, 0, radius], abs=0.2)  # 8 clamps to 4


def test_radar_ignores_bad_axis_indexes_and_non_finite_values():
    svg = radar_chart(
        axes=["a", "b", "c"],
        series=[Series("s", [(0, 1), (1.5, 2), (7, 3), (-1, 2), (2, math.inf), (1, 2)])],
        max_value=math.nan,
        title="t",
    )
    root = parse(svg)
    desc = root.find(f"{NS}desc").text
    assert "a 1, b 2, c none" in desc
    assert "scored 0 to 2" in desc  # max_value taken from the data
