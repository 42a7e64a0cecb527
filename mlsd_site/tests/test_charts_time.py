"""Charts of time in mlsd_site.charts: time spent against a budget per row (the review
page's time per step) and a timeline of events with markers and a movable cursor (the
replay page), and the clock format both use."""

import math
import re

import pytest

from mlsd_site.charts import (
    AMBER,
    PALETTE,
    budget_bars,
    clock,
    timeline_plot,
)
from mlsd_site.charts.svg import AMBER_INK
from mlsd_site.tests.chart_helpers import (
    HOSTILE,
    NS,
    STEPS,
    by_class,
    make_budget,
    make_timeline,
    parse,
    texts,
)


def test_clock_formats_minutes_and_hours():
    assert clock(0) == "0:00"
    assert clock(725) == "12:05"
    assert clock(725.6) == "12:06"
    assert clock(3725) == "1:02:05"
    assert clock(-3) == "0:00"
    assert clock(math.nan) == "0:00"


# --------------------------------------------------------------------------- budget bars


def geometry(element) -> tuple[float, float]:
    return float(element.get("x")), float(element.get("width"))


def test_budget_bars_share_one_scale_the_longest_time():
    root = parse(make_budget())  # 2:30 of 5:00, 10:00 of 4:00, 0:00 of 6:00
    tracks = list(by_class(root, "chart-tracks")[0].iter(f"{NS}rect"))
    bars = by_class(root, "chart-bar")
    assert len(tracks) == len(bars) == 3
    plot_x, plot_w = geometry(tracks[0])
    assert [geometry(bar) for bar in bars] == [
        (plot_x, pytest.approx(plot_w / 4, abs=0.1)),
        (plot_x, plot_w),  # 600 s is the longest time
        (plot_x, 0),
    ]
    (reference,) = by_class(root, "chart-reference")
    ticks = [float(x) for x in re.findall(r"M(\S+) ", reference.get("d"))]
    assert ticks == pytest.approx(
        [plot_x + plot_w / 2, plot_x + plot_w * 0.4, plot_x + plot_w * 0.6], abs=0.1
    )


def test_budget_bars_over_their_budget_are_amber_with_bold_text():
    root = parse(make_budget())
    assert [bar.get("fill") for bar in by_class(root, "chart-bar")] == [
        PALETTE[0],
        AMBER,
        PALETTE[0],
    ]
    over_bar, over_text = by_class(root, "chart-over")
    assert over_bar.tag == f"{NS}rect" and "Metrics" in over_bar.find(f"{NS}title").text
    assert over_text.get("fill") == AMBER_INK and over_text.get("font-weight") == "700"
    assert texts(by_class(root, "chart-values")[0]) == [
        "2:30 / 5:00",
        "10:00 / 4:00",
        "0:00 / 6:00",
    ]
    desc = root.find(f"{NS}desc").text
    assert "2. Metrics: 10:00 of 4:00, over budget." in desc
    assert "In all 12:30 of 15:00; 1 of 3 over budget." in desc


def test_budget_bars_count_whole_seconds_as_the_labels_read():
    root = parse(budget_bars(rows=[("on time", 300.4, 300), ("late", 300.6, 300)], title="t"))
    assert [bar.get("class") for bar in by_class(root, "chart-bar")] == [
        "chart-bar",
        "chart-bar chart-over",
    ]
    assert texts(by_class(root, "chart-values")[0]) == ["5:00 / 5:00", "5:01 / 5:00"]


def test_budget_bars_without_a_budget_have_no_tick_and_are_never_over():
    rows = [("none", 90, 0), ("nan", 90, math.nan), ("negative", -5, -60), ("hours", 3725, 3600)]
    root = parse(budget_bars(rows=rows, title="t"))
    over = [
        el.find(f"{NS}title").text for el in by_class(root, "chart-over") if el.tag.endswith("rect")
    ]
    assert over == ["hours: 1:02:05 of 1:00:00, over budget"]
    assert by_class(root, "chart-reference")[0].get("d").count("M") == 1
    assert texts(by_class(root, "chart-values")[0]) == ["1:30", "1:30", "0:00", "1:02:05 / 1:00:00"]
    assert float(by_class(root, "chart-bar")[2].get("width")) == 0


def test_an_untouched_session_has_empty_bars_in_every_row():
    rows = [(f"{n}. Step {n}", 0, 0) for n in range(1, 7)]
    root = parse(budget_bars(rows=rows, title="t"))
    assert [float(bar.get("width")) for bar in by_class(root, "chart-bar")] == [0] * 6
    assert int(root.get("viewBox").split()[3]) > 6 * 30


def test_budget_bars_labels_are_escaped_and_long_ones_cut_with_the_whole_as_tooltip():
    svg = budget_bars(rows=[(HOSTILE, 60, 120), ("2. Metrics", 60, 120)], title="t", width=600)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    cut, short = by_class(parse(svg), "chart-labels")[0].iter(f"{NS}text")
    assert cut.text is None and cut.find(f"{NS}title").text == HOSTILE
    assert HOSTILE.startswith(cut.find(f"{NS}title").tail.removesuffix("…"))
    assert cut.find(f"{NS}title").tail.endswith("…")
    assert short.text == "2. Metrics" and short.find(f"{NS}title") is None


def test_budget_bars_are_responsive_and_do_not_draw_their_title():
    root = parse(make_budget(title="Time spent per step"))
    assert root.get("viewBox").startswith("0 0 900 ") and root.get("width") == "100%"
    assert root.get("style") == "max-width:900px"
    assert not by_class(root, "chart-title") and "Time spent per step" not in texts(root)
    assert root.get("aria-label") == "Time spent per step"


def test_narrow_budget_bars_put_label_and_times_above_a_full_width_bar():
    root = parse(make_budget(width=360))
    assert root.get("viewBox").startswith("0 0 360 ") and root.get("style") == "max-width:360px"
    labels = list(by_class(root, "chart-labels")[0].iter(f"{NS}text"))
    values = list(by_class(root, "chart-values")[0].iter(f"{NS}text"))
    bars = by_class(root, "chart-bar")
    assert [t.text for t in labels] == [label for label, _, _ in STEPS]  # room for them all
    for label, value, bar in zip(labels, values, bars, strict=True):
        assert label.get("y") == value.get("y") and float(label.get("y")) < float(bar.get("y"))
    assert float(bars[1].get("x")) == 1 and float(bars[1].get("width")) == 358  # the longest
    wide = parse(make_budget(width=900))
    label, bar = by_class(wide, "chart-labels")[0].find(f"{NS}text"), by_class(wide, "chart-bar")[0]
    assert float(bar.get("x")) > 100 and float(label.get("y")) > float(bar.get("y"))  # beside


# --------------------------------------------------------------------------- timeline


def circles_x(group) -> list[float]:
    return [float(c.get("cx")) for c in group.iter(f"{NS}circle")]


def test_timeline_puts_each_event_on_its_row_at_its_time():
    root = parse(make_timeline())  # 10 minutes
    plot_x, plot_w = timeline_plot()
    rows = by_class(root, "chart-series")
    assert [row.get("data-series") for row in rows] == ["1. Problem", "2. Metrics", "3. Data"]
    assert [circles_x(row) for row in rows] == [
        pytest.approx([plot_x + plot_w * 0.1, plot_x + plot_w * 0.5], abs=0.1),
        pytest.approx([plot_x + plot_w * 0.9], abs=0.1),
        [],
    ]
    (tracks,) = by_class(root, "chart-tracks")
    assert tracks.get("d").startswith(f"M{plot_x:g} 26H{plot_x + plot_w:g}")
    assert "1. Problem: 2 at 1:00, 5:00; 2. Metrics: 1 at 9:00; 3. Data: none." in (
        root.find(f"{NS}desc").text
    )


@pytest.mark.parametrize(
    ("end_ms", "labels"),
    [
        (600_000, ["0:00", "2:00", "4:00", "6:00", "8:00", "10:00"]),
        (2_400_000, [f"{m}:00" for m in range(0, 41, 5)]),
        (2_700_000, [f"{m}:00" for m in range(0, 46, 5)]),
        (13_000, [f"0:{s:02d}" for s in range(0, 13, 2)]),
    ],
)
def test_timeline_ticks_fall_on_whole_clock_steps(end_ms, labels):
    root = parse(make_timeline(end_ms=end_ms))
    ticks = list(by_class(root, "chart-ticks-x")[0].iter(f"{NS}text"))
    assert [t.text for t in ticks] == labels
    plot_x, plot_w = timeline_plot()
    positions = [float(t.get("x")) for t in ticks]
    assert positions[0] == plot_x
    seconds = [int(t.split(":")[0]) * 60 + int(t.split(":")[1]) for t in labels]
    assert positions == pytest.approx(
        [plot_x + plot_w * s * 1000 / end_ms for s in seconds], abs=0.1
    )


def test_timeline_markers_span_the_rows_with_their_text_as_tooltip():
    markers = [(120_000, "What is the scale?"), (60_000, HOSTILE)]
    root = parse(make_timeline(markers=markers))
    plot_x, plot_w = timeline_plot()
    first, second = by_class(root, "chart-marker")  # in time order
    assert first.find(f"{NS}title").text == f"1:00 · {HOSTILE}"
    assert second.find(f"{NS}title").text == "2:00 · What is the scale?"
    assert circles_x(second) == pytest.approx([plot_x + plot_w * 0.2], abs=0.1)
    assert second.find(f"{NS}text").text == "?"
    assert second.find(f"{NS}path").get("stroke-dasharray")
    assert "2 markers: 1:00 <script>" in root.find(f"{NS}desc").text
    plain = parse(make_timeline(marker_symbol=""))
    assert by_class(plain, "chart-marker")[0].find(f"{NS}text") is None


def test_timeline_cursor_is_a_line_with_the_callers_id_a_script_can_move():
    root = parse(make_timeline(cursor_ms=150_000, cursor_id="replay-cursor"))
    plot_x, plot_w = timeline_plot()
    (cursor,) = by_class(root, "chart-cursor")
    assert cursor.tag == f"{NS}line" and cursor.get("id") == "replay-cursor"
    assert float(cursor.get("x1")) == float(cursor.get("x2")) == plot_x + plot_w / 4
    assert cursor.get("stroke") == AMBER
    at_start = parse(make_timeline(cursor_ms=None, cursor_id="c"))
    assert float(by_class(at_start, "chart-cursor")[0].get("x1")) == plot_x
    none = parse(make_timeline(cursor_ms=None, cursor_id=None))
    assert not by_class(none, "chart-cursor") and 'id="' not in make_timeline(cursor_id=None)


@pytest.mark.parametrize("bad", ['x" onclick="alert(1)', "two words", "1st", ""])
def test_timeline_refuses_a_cursor_id_that_is_not_a_plain_id(bad):
    with pytest.raises(ValueError, match="cursor_id"):
        make_timeline(cursor_id=bad)


def test_timeline_clamps_times_to_the_axis_and_drops_non_finite_ones():
    rows = [("a", [-5_000, 700_000, math.nan, math.inf, None])]
    root = parse(make_timeline(rows=rows, end_ms=600_000, markers=[]))
    plot_x, plot_w = timeline_plot()
    assert circles_x(by_class(root, "chart-series")[0]) == [plot_x, plot_x + plot_w]
    no_end = parse(make_timeline(rows=[("a", [90_000])], end_ms=math.nan, markers=[]))
    assert texts(by_class(no_end, "chart-ticks-x")[0])[-1] == "1:30"


def test_timeline_fills_its_container_and_follows_its_layout():
    svg = make_timeline(width=1000, label_width=200)
    root = parse(svg)
    assert root.get("style") is None and root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 1000 ")
    assert timeline_plot(width=1000, label_width=200) == (200, 776)
    (tracks,) = by_class(root, "chart-tracks")
    assert tracks.get("d").startswith("M200 26H976")
    labels = list(by_class(root, "chart-labels")[0].iter(f"{NS}text"))
    assert [t.text for t in labels] == ["1. Problem", "2. Metrics", "3. Data"]
