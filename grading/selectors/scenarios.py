"""Reads for the scenario slices of a score: what the submission page's "Scenario slices"
table shows, under the same rules as ``submission_view``'s headline (the public part rounded
to ``public_decimals`` while the round is open; the whole split at full precision after)."""

from dataclasses import dataclass

from grading.datasets.scenarios import SCENARIOS, TRAFFIC_SPIKE, Scenario
from grading.models import Leaderboard, Score


@dataclass(frozen=True)
class ScenarioLine:
    """One slice: the primary metric on its rows, with its 95 % interval."""

    scenario: Scenario
    value: float
    low: float
    high: float
    rows: int


@dataclass(frozen=True)
class SpikeLine:
    """The traffic-spike scenario: the serving load test at twice the target rate. Measured
    on the server, not from labels, so it is shown unrounded during a round too."""

    scenario: Scenario
    rate_rps: float
    p99_ms: float
    budget_ms: float
    within_budget: bool


@dataclass(frozen=True)
class ScenarioTable:
    split: str  # "public" while the round is open, "all" after it closes
    decimals: int
    lines: list[ScenarioLine]
    spike: SpikeLine | None


def _spike_line(serving: dict) -> SpikeLine | None:
    spike = (serving or {}).get("spike")
    if not isinstance(spike, dict) or "p99_ms" not in spike:
        return None
    budget = float(serving.get("budget_ms", 0.0))
    p99 = float(spike["p99_ms"])
    return SpikeLine(scenario=TRAFFIC_SPIKE, rate_rps=float(spike.get("rate_rps", 0.0)),
                     p99_ms=p99, budget_ms=budget,
                     within_budget=bool(spike.get("within_budget", p99 <= budget)))


def submission_scenarios(*, score: Score | None, leaderboard: Leaderboard
                         ) -> ScenarioTable | None:
    """The scenario slices of ``score`` for the submission page, in ``SCENARIOS`` order
    (slices the scorer left out, too small or undefined, are absent), plus the traffic-spike
    line when the serving load test ran. None when there is nothing to show."""
    if score is None:
        return None
    reveal = leaderboard.is_closed
    split = "all" if reveal else "public"
    decimals = 6 if reveal else leaderboard.public_decimals

    def shown(value: float) -> float:
        return float(value) if reveal else round(float(value), decimals)

    values = (score.scenarios or {}).get(split, {})
    lines = [
        ScenarioLine(scenario=scenario, value=shown(values[name]["value"]),
                     low=shown(values[name]["low"]), high=shown(values[name]["high"]),
                     rows=int(values[name]["rows"]))
        for name, scenario in SCENARIOS.items() if name in values
    ]
    spike = _spike_line(score.serving)
    if not lines and spike is None:
        return None
    return ScenarioTable(split=split, decimals=decimals, lines=lines, spike=spike)
