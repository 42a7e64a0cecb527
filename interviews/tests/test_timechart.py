from interviews.timechart import clock, time_chart


def test_clock_formats_minutes_and_hours():
    assert clock(0) == "0:00"
    assert clock(725) == "12:05"
    assert clock(3725) == "1:02:05"
    assert clock(-3) == "0:00"


def test_chart_scales_bars_and_budget_ticks_to_the_longest_value():
    chart = time_chart([(1, "Problem", 150, 300), (2, "Metrics", 600, 240)])
    first, second = chart.rows
    assert second.bar_width == chart.plot_width  # 600 s is the longest value
    assert first.bar_width == chart.plot_width / 4
    assert first.budget_x == chart.plot_x + chart.plot_width / 2
    assert not first.over_budget and second.over_budget
    assert (chart.total_spent, chart.total_budget) == (750, 540)
    assert second.spent_label == "10:00" and second.budget_label == "4:00"


def test_chart_of_an_untouched_session_has_empty_bars():
    chart = time_chart([(n, f"Step {n}", 0, 0) for n in range(1, 7)])
    assert all(row.bar_width == 0 for row in chart.rows)
    assert chart.height > 6 * 30
