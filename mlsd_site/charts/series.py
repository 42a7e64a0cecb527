"""The data a line or radar chart draws: named series of points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KINDS = ("line", "points", "step")


@dataclass(frozen=True)
class Series:
    """One data series. ``points`` are (x, y) pairs; for :func:`radar_chart` they are
    (axis_index, value). ``kind``: "line", "points" (markers only) or "step" (the value holds
    until the next x, e.g. best score so far)."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str | None = None
    dashed: bool = False
    kind: str = "line"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Series.kind must be one of {KINDS}, not {self.kind!r}")
