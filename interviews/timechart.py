"""Geometry for the time-per-step chart on the review page: one bar per step for the time
spent and a tick for its budget, drawn as an inline SVG by the template. Pure."""

from collections.abc import Sequence
from dataclasses import dataclass

CHART_WIDTH = 900
LABEL_WIDTH = 230
VALUE_WIDTH = 120
ROW_HEIGHT = 34
BAR_HEIGHT = 16
TOP = 8


@dataclass(frozen=True)
class ChartRow:
    number: int
    title: str
    spent_seconds: int
    budget_seconds: int
    y: float
    bar_y: float
    text_y: float
    bar_width: float
    budget_x: float
    over_budget: bool

    @property
    def tick_top(self) -> float:
        return self.bar_y - 5

    @property
    def tick_bottom(self) -> float:
        return self.bar_y + BAR_HEIGHT + 5

    @property
    def spent_label(self) -> str:
        return clock(self.spent_seconds)

    @property
    def budget_label(self) -> str:
        return clock(self.budget_seconds)


@dataclass(frozen=True)
class TimeChart:
    rows: list[ChartRow]
    width: int
    height: int
    plot_x: int
    plot_width: int
    scale_seconds: int
    total_spent: int
    total_budget: int


def clock(seconds: float) -> str:
    """12:05 for 725 seconds; 1:02:05 past an hour."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def time_chart(steps: Sequence[tuple[int, str, float, int]]) -> TimeChart:
    """``steps`` are ``(number, title, spent_seconds, budget_seconds)``."""
    plot_x = LABEL_WIDTH
    plot_width = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    scale = max([1, *(max(int(spent), budget) for _, _, spent, budget in steps)])
    rows = []
    for index, (number, title, spent, budget) in enumerate(steps):
        spent_int = int(round(spent))
        y = TOP + index * ROW_HEIGHT
        rows.append(ChartRow(
            number=number,
            title=title,
            spent_seconds=spent_int,
            budget_seconds=budget,
            y=y,
            bar_y=y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
            text_y=y + ROW_HEIGHT / 2 + 5,
            bar_width=round(plot_width * spent_int / scale, 1),
            budget_x=round(plot_x + plot_width * budget / scale, 1),
            over_budget=budget > 0 and spent_int > budget,
        ))
    return TimeChart(
        rows=rows,
        width=CHART_WIDTH,
        height=TOP * 2 + ROW_HEIGHT * len(rows),
        plot_x=plot_x,
        plot_width=plot_width,
        scale_seconds=scale,
        total_spent=sum(row.spent_seconds for row in rows),
        total_budget=sum(row.budget_seconds for row in rows),
    )
