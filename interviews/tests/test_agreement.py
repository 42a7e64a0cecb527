"""Agreement figures (pure): quadratic weighted kappa checked against scikit-learn and
against the textbook formula worked by hand, exact and adjacent agreement."""

import pytest
from sklearn.metrics import cohen_kappa_score

from interviews.scorecards import agreement

# Ten sessions, one step, two raters. Rater B is a little harsher and disagrees by two
# levels once.
RATER_A = [3, 4, 2, 3, 1, 4, 3, 2, 3, 4]
RATER_B = [3, 3, 2, 2, 1, 4, 3, 2, 1, 4]


def kappa_by_hand(a, b, levels=(1, 2, 3, 4)):
    """1 - sum(w * observed) / sum(w * expected), with w = (i - j)^2 / (k - 1)^2."""
    k = len(levels)
    n = len(a)
    index = {level: i for i, level in enumerate(levels)}
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[index[x]][index[y]] += 1 / n
    row = [sum(observed[i]) for i in range(k)]
    col = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    weight = [[(i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]
    disagreement = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k))
    chance = sum(weight[i][j] * row[i] * col[j] for i in range(k) for j in range(k))
    return 1 - disagreement / chance


def test_quadratic_kappa_matches_scikit_learn_and_the_formula():
    ours = agreement.quadratic_kappa(RATER_A, RATER_B)
    sklearn_value = cohen_kappa_score(RATER_A, RATER_B, weights="quadratic")
    assert ours == pytest.approx(sklearn_value, abs=1e-12)
    assert ours == pytest.approx(kappa_by_hand(RATER_A, RATER_B), abs=1e-12)
    # The value itself, so that a change in either implementation shows.
    assert ours == pytest.approx(5 / 7, abs=1e-12)


def test_exact_and_adjacent_agreement():
    result = agreement.agreement(zip(RATER_A, RATER_B, strict=True))
    assert result.pairs == 10
    assert result.exact == pytest.approx(0.7)  # 7 of 10 identical
    assert result.adjacent == pytest.approx(0.9)  # only 3 vs 1 is two levels apart
    assert result.kappa_band == "substantial"  # 0.71


def test_perfect_and_chance_and_undefined_kappa():
    assert agreement.quadratic_kappa([1, 2, 3, 4], [1, 2, 3, 4]) == pytest.approx(1.0)
    assert agreement.quadratic_kappa([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Both raters gave the same single level throughout: kappa is undefined, not 1.
    assert agreement.quadratic_kappa([3, 3, 3], [3, 3, 3]) is None
    assert agreement.quadratic_kappa([3], [4]) is None
    empty = agreement.agreement([])
    assert (empty.pairs, empty.kappa, empty.exact, empty.adjacent) == (0, None, None, None)
    assert empty.kappa_band == "not enough data"


@pytest.mark.parametrize(("kappa", "band"), [
    (-0.1, "worse than chance"), (0.1, "slight"), (0.3, "fair"), (0.5, "moderate"),
    (0.7, "substantial"), (0.9, "almost perfect"),
])
def test_kappa_bands(kappa, band):
    assert agreement.kappa_band(kappa) == band


def test_distribution_counts_levels_and_not_reached():
    result = agreement.distribution([1, 3, 3, "not_reached", 4])
    assert result.counts == {"1": 1, "2": 0, "3": 2, "4": 1, "not_reached": 1}
    assert result.total == 5 and result.share("3") == pytest.approx(0.4)
