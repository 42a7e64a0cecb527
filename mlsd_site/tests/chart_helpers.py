"""Shared by the chart tests: parsing the SVG, finding elements, and one typical call of
every chart function (each test file covers one concept of ``mlsd_site.charts``)."""

import xml.etree.ElementTree as ET

from mlsd_site.charts import (
    Series,
    bar_chart,
    budget_bars,
    histogram,
    line_chart,
    radar_chart,
    scatter,
    timeline,
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


STEPS = [
    ("1. Problem statement", 150, 300),
    ("2. Metrics", 600, 240),
    ("3. Requirements", 0, 360),
]


def make_budget(title: str = "Time per step", **kwargs) -> str:
    return budget_bars(**({"rows": STEPS, "title": title} | kwargs))


def make_timeline(title: str = "Saves", **kwargs) -> str:
    defaults = {
        "rows": [("1. Problem", [60_000, 300_000]), ("2. Metrics", [540_000]), ("3. Data", [])],
        "markers": [(120_000, "What is the scale?")],
        "marker_symbol": "?",
        "end_ms": 600_000,
        "title": title,
        "cursor_ms": 300_000,
        "cursor_id": "replay-cursor",
    }
    return timeline(**(defaults | kwargs))


MAKERS = [
    make_line,
    make_histogram,
    make_scatter,
    make_bars,
    make_radar,
    make_budget,
    make_timeline,
]
