"""Scenario slices of the held-out split: the generators' masks and defaulted features, the
scorer's per-slice metric with its interval, and a model that ignores cold start losing to
one that handles it. Plain pytest (runs with ``-p no:django``), tests' own secret."""

import numpy as np
import pandas as pd
import pytest

from grading.datasets import CASE_SLUGS, N_SLICES, build_dataset, dataset_spec, scenario_choices
from grading.datasets.scenarios import SCENARIOS
from grading.engine.contract import InputContract
from grading.engine.scoring import (
    MIN_SCENARIO_ROWS,
    HeldoutSplit,
    ScoringTask,
    evaluate_predictions,
    scenario_metrics,
)
from grading.tests.dataset_secrets import TEST_SECRET

cases = pytest.mark.parametrize("slug", CASE_SLUGS)
_CACHE: dict[tuple[str, str, int], object] = {}


def built(slug: str, size: str = "tiny", data_version: int = 1):
    key = (slug, size, data_version)
    if key not in _CACHE:
        _CACHE[key] = build_dataset(slug, secret=TEST_SECRET, size=size,
                                    data_version=data_version)
    return _CACHE[key]


#: The tiny rental build (57 searches) has no search in the new market; the default has ~5 %.
MASK_SIZE = {"rental-search-ranking": "default"}


@cases
def test_every_scenario_mask_is_a_non_empty_bool_mask_over_the_heldout_rows(slug):
    b = built(slug, MASK_SIZE.get(slug, "tiny"))
    assert set(b.heldout_scenarios) == set(SCENARIOS)
    for name, mask in b.heldout_scenarios.items():
        assert mask.dtype == bool and len(mask) == b.n_heldout, name
        assert 0 < mask.sum() < b.n_heldout, name
    assert (b.heldout_scenarios["latest_week"] == (b.heldout_slices == f"week {N_SLICES}")).all()


@cases
def test_cold_start_rows_are_unseen_in_training(slug):
    """Ungrouped: every cold-start row has an id the training split never shows. Grouped:
    the slice keeps whole groups, each with at least half of its rows unseen (a new user's
    request is unseen throughout; a search in the newly opened market nearly so), and no
    other group is mostly unseen."""
    b = built(slug, MASK_SIZE.get(slug, "tiny"))
    spec = b.spec
    mask = b.heldout_scenarios["cold_start"]
    unseen = np.zeros(b.n_heldout, dtype=bool)
    for name in spec.cold_start_columns:
        unseen |= ~np.isin(b.heldout_features[name].to_numpy(), b.train[name].to_numpy())
    if spec.group_column is None:
        assert (mask == unseen).all()
        return
    groups = pd.Series(b.heldout_groups)
    share = pd.Series(unseen).groupby(groups).mean()
    in_slice = pd.Series(mask).groupby(groups).agg(["min", "max"])
    assert (in_slice["min"] == in_slice["max"]).all()  # whole groups only
    assert (share[in_slice["max"]] >= 0.5).all() and (share[~in_slice["max"]] < 0.5).all()
    if spec.cold_start_columns[0] == spec.group_column or slug == "feed-ranking":
        assert unseen[mask].all()  # a new user's (viewer's) whole request is unseen


def test_new_viewers_have_no_engagement_history_and_the_others_return():
    """feed-ranking's cold start is real: the viewers unseen in train are new ones, whose
    affinity is the smoothing prior a feature store serves for an empty history."""
    from grading.datasets.feed_ranking import NEW_VIEWER_AFFINITY

    b = built("feed-ranking", "default")
    mask = b.heldout_scenarios["cold_start"]
    affinity = b.heldout_features["viewer_author_affinity"].to_numpy()
    missing = b.heldout_scenarios["missing_features"]
    assert np.allclose(affinity[mask], NEW_VIEWER_AFFINITY)
    assert not np.allclose(affinity[~mask & ~missing], NEW_VIEWER_AFFINITY)
    assert 0.03 < mask.mean() < 0.15  # new viewers' sessions, not every unseen-by-chance one


@cases
def test_missing_feature_rows_carry_the_defaults_and_only_they_are_defaulted(slug):
    b = built(slug)
    mask = b.heldout_scenarios["missing_features"]
    spec = b.spec
    assert spec.missing_feature_defaults
    for name, default in spec.missing_feature_defaults:
        column = b.heldout_features[name].to_numpy()
        assert (column[mask] == default).all(), name
        assert (column[~mask] != default).any(), name  # the other rows keep their values
        assert b.heldout_features[name].dtype == b.train[name].dtype
    if spec.group_column is not None:  # a timed-out feature service fails whole requests
        per_group = pd.Series(mask).groupby(b.heldout_groups).nunique()
        assert (per_group == 1).all()


@cases
def test_the_same_secret_gives_the_same_masks_and_another_version_other_ones(slug):
    again = build_dataset(slug, secret=TEST_SECRET, size="tiny")
    other = built(slug, data_version=2)
    for name, mask in built(slug).heldout_scenarios.items():
        assert (again.heldout_scenarios[name] == mask).all()
    assert again.fingerprint == built(slug).fingerprint
    assert other.fingerprint != built(slug).fingerprint


def test_the_fingerprint_covers_the_scenario_masks():
    from grading.datasets.files import compute_fingerprint

    b = build_dataset("food-delivery-time", secret=TEST_SECRET, size="tiny")
    original = b.fingerprint
    b.heldout_scenarios["cold_start"] = ~b.heldout_scenarios["cold_start"]
    assert compute_fingerprint(b) != original


@cases
def test_scenario_choices_name_real_scenarios_and_recipes(slug):
    from grading.datasets import baseline_recipes

    choices = scenario_choices(slug)
    assert {c.scenario for c in choices} == {"cold_start", "latest_week"}
    recipes = baseline_recipes(slug)
    for c in choices:
        assert c.scenario in SCENARIOS and {c.ignores, c.handles} <= set(recipes)
    assert recipes["recency_weighted"].recency_half_life_days > 0
    assert recipes["recency_weighted"].blocks == recipes["reasonable"].blocks


# --- scoring ---------------------------------------------------------------------------


def _split_and_task(slug: str):
    b = built(slug)
    spec = b.spec
    heldout = HeldoutSplit(features=b.heldout_features, labels=b.heldout_labels,
                           groups=b.heldout_groups, slices=b.heldout_slices,
                           public=b.heldout_public, scenarios=b.heldout_scenarios)
    task = ScoringTask(contract=InputContract(columns=spec.contract_columns,
                                              task_type=spec.task_type),
                       primary_metric=spec.primary_metric)
    return b, heldout, task


def _informative_predictions(b) -> np.ndarray:
    """Noisy labels: a model that knows something, so every metric is defined."""
    rng = np.random.default_rng(7)
    y = np.asarray(b.heldout_labels, dtype=np.float64)
    if b.spec.task_type == "regression":
        return y + rng.normal(0.0, 5.0, len(y))
    return np.clip(0.3 * y / max(y.max(), 1) + rng.uniform(0.01, 0.6, len(y)), 0.001, 0.999)


@pytest.mark.parametrize("slug", ["food-delivery-time", "video-recommendation"])
def test_scenario_values_match_the_metric_on_the_slice_and_their_intervals_are_ordered(slug):
    from grading.engine import metrics

    b, heldout, task = _split_and_task(slug)
    predictions = _informative_predictions(b)
    evaluate_predictions(task=task, heldout=heldout, predictions=predictions)
    report = scenario_metrics(task=task, heldout=heldout, predictions=predictions)
    assert set(report) == {"public", "all"}
    assert report["all"], "no scenario slice was scored"
    for split, slices in report.items():
        for name, entry in slices.items():
            rows = b.heldout_scenarios[name] & (b.heldout_public if split == "public" else True)
            assert entry["rows"] == rows.sum() >= MIN_SCENARIO_ROWS
            groups = None if b.heldout_groups is None else b.heldout_groups[rows]
            expected = metrics.compute(task.primary_metric, b.heldout_labels[rows],
                                       predictions[rows], groups=groups)
            assert entry["value"] == pytest.approx(expected, rel=1e-9)
            assert entry["low"] <= entry["value"] <= entry["high"]
    assert any(e["low"] < e["high"] for e in report["all"].values())


def test_a_slice_with_too_few_rows_is_left_out_and_no_masks_give_no_scenarios():
    b, heldout, task = _split_and_task("food-delivery-time")
    few = np.zeros(b.n_heldout, dtype=bool)
    few[: MIN_SCENARIO_ROWS - 1] = True
    enough = np.zeros(b.n_heldout, dtype=bool)
    enough[: 4 * MIN_SCENARIO_ROWS] = True
    split = HeldoutSplit(features=heldout.features, labels=heldout.labels, groups=None,
                         slices=heldout.slices, public=heldout.public,
                         scenarios={"cold_start": few, "latest_week": enough})
    report = scenario_metrics(task=task, heldout=split,
                              predictions=_informative_predictions(b))
    assert "cold_start" not in report["all"] and "latest_week" in report["all"]
    bare = HeldoutSplit(features=heldout.features, labels=heldout.labels, groups=None,
                        slices=heldout.slices, public=heldout.public)
    assert scenario_metrics(task=task, heldout=bare,
                            predictions=_informative_predictions(b)) == {}


def test_a_scenario_mask_of_the_wrong_length_is_refused():
    b, heldout, _ = _split_and_task("food-delivery-time")
    with pytest.raises(ValueError, match="scenario cold_start"):
        HeldoutSplit(features=heldout.features, labels=heldout.labels, groups=None,
                     slices=heldout.slices, public=heldout.public,
                     scenarios={"cold_start": np.ones(3, dtype=bool)})


# --- the data makes cold start matter ---------------------------------------------------


@pytest.mark.slow
def test_a_model_of_id_histories_only_loses_on_the_cold_start_slice():
    """feed-ranking (default size, the tests' secret): the engagement-history-only model
    (``id_history_only``) against the reasonable one on new viewers' sessions. The gap on
    the slice is positive with its paired 95 % interval above zero, and larger than on the
    returning viewers' sessions: the loss is the cold start's, not a weaker model's."""
    from grading.baselines.training import scenario_gaps

    gaps = {g["scenario"]: g for g in scenario_gaps(built("feed-ranking", "default"))}
    parts = {p["part"]: p for p in gaps["cold_start"]["parts"]}
    cold, rest = parts["slice"], parts["rest"]
    assert cold["gap_low"] > 0
    assert cold["gap"] > rest["gap"]
    # normalized entropy: lower is better, so the handling model's value is below
    assert cold["handles"]["value"] < cold["ignores"]["value"]


def test_recency_weights_reach_the_estimator():
    """The recency-weighted recipe fits other coefficients than the same recipe unweighted,
    on the same rows (the weights reach the estimator, not just the recipe)."""
    from grading.baselines.training import fit_recipe

    b = built("food-delivery-time")
    plain = fit_recipe(b, "reasonable").predict(b.heldout_features)
    weighted = fit_recipe(b, "recency_weighted").predict(b.heldout_features)
    assert not np.allclose(plain, weighted)


def test_every_case_declares_cold_start_columns_that_are_model_inputs():
    for slug in CASE_SLUGS:
        spec = dataset_spec(slug)
        assert spec.cold_start_columns
        assert set(spec.cold_start_columns) <= set(spec.feature_names)
