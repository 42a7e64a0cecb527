"""Agreement between interviewers who graded the same sessions: quadratic weighted Cohen's
kappa (scikit-learn), exact and adjacent agreement, and leniency.

Pure (no Django import). Inputs are plain pairs of levels 1 to 4 ("not reached" is passed
in as 1, as in the verdict rules). Each pair is (the first-submitted grade's level, the
other grade's level), so the order of raters is fixed and the result reproducible.
"""

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import cohen_kappa_score

LEVELS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Agreement:
    pairs: int
    kappa: float | None  # None: fewer than two pairs, or no variation to agree on
    exact: float | None  # share of pairs with the same level
    adjacent: float | None  # share of pairs at most one level apart

    @property
    def kappa_band(self) -> str:
        """Landis and Koch's words for a kappa value."""
        return kappa_band(self.kappa)


def kappa_band(kappa: float | None) -> str:
    if kappa is None:
        return "not enough data"
    if kappa < 0:
        return "worse than chance"
    for limit, word in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"),
                        (0.8, "substantial")):
        if kappa <= limit:
            return word
    return "almost perfect"


def quadratic_kappa(first: Sequence[int], second: Sequence[int]) -> float | None:
    """Quadratic weighted Cohen's kappa on the 1-4 scale, or None where it is undefined
    (fewer than two pairs, or both raters used a single level throughout)."""
    if len(first) != len(second):
        raise ValueError("kappa needs two sequences of the same length")
    if len(first) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(list(first), list(second), labels=list(LEVELS),
                                  weights="quadratic", replace_undefined_by=np.nan)
    value = float(value)
    return None if math.isnan(value) else value


def agreement(pairs: Iterable[tuple[int, int]]) -> Agreement:
    pairs = list(pairs)
    if not pairs:
        return Agreement(pairs=0, kappa=None, exact=None, adjacent=None)
    first = [a for a, _ in pairs]
    second = [b for _, b in pairs]
    exact = sum(1 for a, b in pairs if a == b) / len(pairs)
    adjacent = sum(1 for a, b in pairs if abs(a - b) <= 1) / len(pairs)
    return Agreement(pairs=len(pairs), kappa=quadratic_kappa(first, second), exact=exact,
                     adjacent=adjacent)


@dataclass(frozen=True)
class Distribution:
    """How often a rater gave each level (1-4) and "not reached"."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, key: str) -> float:
        return self.counts.get(key, 0) / self.total if self.total else 0.0


DISTRIBUTION_KEYS = ("1", "2", "3", "4", "not_reached")


def distribution(levels: Iterable[int | str]) -> Distribution:
    counts = dict.fromkeys(DISTRIBUTION_KEYS, 0)
    for level in levels:
        counts[str(level)] = counts.get(str(level), 0) + 1
    return Distribution(counts=counts)
