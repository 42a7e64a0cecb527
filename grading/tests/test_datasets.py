"""Tests for the synthetic case-study datasets (plain pytest, no Django).

Run: ``.venv/bin/python -m pytest -p no:django grading/tests/test_datasets.py``.
Most tests use the "tiny" size; rate checks use "default" (built once per case,
about 1 s each). The bench-size check only runs with ``MLSD_BENCH_TESTS=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grading.datasets import (
    CASE_SLUGS,
    GENERATOR_VERSIONS,
    HELDOUT_DAYS,
    PUBLIC_FRACTION,
    TIME_COLUMN,
    TRAIN_DAYS,
    BaselineRecipe,
    DatasetSecret,
    DesignChoice,
    baseline_recipes,
    build_dataset,
    build_dataset_from_seed,
    data_dictionary,
    dataset_spec,
    design_choice,
    write_training_files,
)
from grading.datasets.files import compute_fingerprint
from grading.datasets.recipes import LINEAR_REGRESSION, recipes_by_name
from grading.tests.dataset_secrets import TEST_SECRET

#: Fingerprints of the tiny builds, data version 1, with the tests' secret (TEST_SECRET). If
#: one changes, the generator's output changed (code, numpy or pandas): bump that module's
#: GENERATOR_VERSION, because stored datasets are rebuilt from (secret, version, data version).
GOLDEN_TINY = {
    "video-recommendation": "295c1881cce1903714bd4399c8134fbf78e7235613de1fbe78d6fc4e549e0a7a",
    "feed-ranking": "10e9691ac6b4b51c155f413a760807ff40fe304dfd8d775089129530da986674",
    "ad-click-prediction": "2b6bf6ac634a0485fd8dd08bad0b2b7b869f19170470f46d5e67169e0e2dbbc8",
    "rental-search-ranking": "2588e6f3acf1ca8e5fb218edd307f4f6365a6905403505b8742f2ec229fd51e9",
    "food-delivery-time": "bf7a11080839c37d13df9da163468dfe079902575ea8e4052dcfa3ab25836a03",
}

_CACHE: dict[tuple[str, str], object] = {}


def built(slug: str, size: str = "tiny"):
    key = (slug, size)
    if key not in _CACHE:
        _CACHE[key] = build_dataset(slug, secret=TEST_SECRET, size=size)
    return _CACHE[key]


cases = pytest.mark.parametrize("slug", CASE_SLUGS)


# --- registry / spec ------------------------------------------------------------------------
def test_registry_lists_every_case():
    assert CASE_SLUGS == (
        "video-recommendation",
        "feed-ranking",
        "ad-click-prediction",
        "rental-search-ranking",
        "food-delivery-time",
    )
    assert all(isinstance(v, int) and v >= 1 for v in GENERATOR_VERSIONS.values())
    with pytest.raises(KeyError):
        dataset_spec("no-such-case")
    with pytest.raises(ValueError):
        build_dataset("feed-ranking", secret=TEST_SECRET, size="huge")
    with pytest.raises(ValueError):
        build_dataset("feed-ranking", secret=TEST_SECRET, data_version=0, size="tiny")
    with pytest.raises(ValueError):
        build_dataset_from_seed("feed-ranking", seed=-1, size="tiny")
    with pytest.raises(TypeError):  # no build without the secret
        build_dataset("feed-ranking", secret=None, size="tiny")


@cases
def test_baseline_recipes_name_only_contract_columns(slug):
    """The recipes beside each generator fit the case's contract: every column a block reads
    is a model input, and the design choice names recipes that exist."""
    spec = dataset_spec(slug)
    recipes = baseline_recipes(slug)
    assert {"trivial", "reasonable", "without_design_choice"} <= set(recipes)
    assert set(design_choice(slug).recipe_names) <= set(recipes)
    for recipe in recipes.values():
        for block in recipe.blocks:
            assert _block_columns(block) <= set(spec.feature_names), (recipe.name, block)


def _block_columns(block: tuple) -> set[str]:
    kind, *args = block
    if kind in ("te", "haversine"):
        return set(args[0])
    if kind in ("num", "onehot", "cyclic"):
        return {args[0]}
    if kind == "rate":
        return set(args)
    assert kind == "const", block
    return set()


def test_recipes_naming_a_missing_recipe_are_rejected():
    trivial = BaselineRecipe("trivial", "Constant.", (("const",),), LINEAR_REGRESSION,
                             "continuous", "minutes")
    reasonable = BaselineRecipe("reasonable", "Constant.", (("const",),), LINEAR_REGRESSION,
                                "continuous", "minutes")
    with pytest.raises(ValueError, match="without_design_choice"):
        recipes_by_name("x", (trivial, reasonable), DesignChoice("a feature"))
    with pytest.raises(ValueError, match="duplicate"):
        recipes_by_name("x", (trivial, trivial, reasonable), DesignChoice("a feature"))
    with pytest.raises(ValueError, match="output"):
        BaselineRecipe("trivial", "Constant.", (), LINEAR_REGRESSION, "continuous", "hours")


def test_importing_the_datasets_does_not_load_scikit_learn():
    """The web process imports grading.datasets for specs and data dictionaries; recipes are
    plain data so that import stays light."""
    code = "import sys, grading.datasets; print('sklearn' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=root)
    assert out.stdout.strip() == "False"


@cases
def test_spec_is_consistent(slug):
    spec = dataset_spec(slug)
    assert spec.case_slug == slug
    assert spec.generator_version == GENERATOR_VERSIONS[slug]
    assert spec.task_type in ("binary", "ranking", "regression")
    names = spec.feature_names
    assert spec.label_column not in names
    assert TIME_COLUMN not in names
    assert all(c.dtype in ("float32", "int64", "string") for c in spec.feature_columns)
    assert spec.request_rows >= 1
    assert spec.contract_columns == tuple((c.name, c.dtype) for c in spec.feature_columns)
    if spec.task_type == "ranking":
        assert spec.group_column is not None
    # data dictionary documents every train column, label included
    dd = data_dictionary(slug)
    assert [d["name"] for d in dd] == list(spec.train_columns)
    assert dd[-1]["name"] == spec.label_column and dd[-1]["role"] == "label"
    assert all(d["description"] for d in dd)
    assert {d["name"] for d in dd if d["model_input"]} == set(names)


@cases
def test_spec_matches_platform_contract(slug):
    contract_mod = pytest.importorskip("grading.engine.contract")
    spec = dataset_spec(slug)
    contract = spec.input_contract()
    assert isinstance(contract, contract_mod.InputContract)
    assert contract.columns == spec.contract_columns
    assert contract.all_numeric == spec.all_numeric


def test_position_is_train_only_for_rental():
    spec = dataset_spec("rental-search-ranking")
    assert "position" not in spec.feature_names
    assert spec.column("position").role == "train_only"
    b = built("rental-search-ranking")
    assert "position" in b.train.columns
    assert "position" not in b.heldout_features.columns


def test_group_ids_are_not_inputs_except_video_user():
    assert "session_id" not in dataset_spec("feed-ranking").feature_names
    assert "search_id" not in dataset_spec("rental-search-ranking").feature_names
    assert dataset_spec("video-recommendation").group_column == "user_id"
    assert "user_id" in dataset_spec("video-recommendation").feature_names


# --- determinism ------------------------------------------------------------------------------
@cases
def test_same_secret_same_rows_other_secret_or_version_differs(slug):
    a = built(slug)
    b = build_dataset(slug, secret=DatasetSecret(TEST_SECRET.key), size="tiny")
    assert a.fingerprint == b.fingerprint and a.dataset_id == b.dataset_id
    pd.testing.assert_frame_equal(a.train, b.train)
    pd.testing.assert_frame_equal(a.heldout_features, b.heldout_features)
    np.testing.assert_array_equal(a.heldout_labels, b.heldout_labels)
    np.testing.assert_array_equal(a.heldout_public, b.heldout_public)
    other_secret = build_dataset(slug, secret=DatasetSecret.generate(), size="tiny")
    next_version = build_dataset(slug, secret=TEST_SECRET, data_version=2, size="tiny")
    for c in (other_secret, next_version):
        assert c.fingerprint != a.fingerprint and c.dataset_id != a.dataset_id
    assert compute_fingerprint(a) == a.fingerprint
    assert len(a.fingerprint) == 64


@cases
def test_golden_fingerprint(slug):
    assert built(slug).fingerprint == GOLDEN_TINY[slug], (
        "generator output changed: bump GENERATOR_VERSION in the case module and update GOLDEN_TINY"
    )


@cases
def test_fingerprint_sees_every_part(slug):
    b = build_dataset(slug, secret=TEST_SECRET, size="tiny")
    original = b.fingerprint
    b.heldout_public = ~b.heldout_public
    assert compute_fingerprint(b) != original
    b = build_dataset(slug, secret=TEST_SECRET, size="tiny")
    labels = b.heldout_labels.copy()
    labels[0] = labels[0] + 1
    b.heldout_labels = labels
    assert compute_fingerprint(b) != original


# --- shape, dtypes, leakage -----------------------------------------------------------------------
@cases
def test_columns_dtypes_and_no_label_leak(slug):
    b = built(slug)
    spec = b.spec
    assert list(b.heldout_features.columns) == list(spec.feature_names)
    assert list(b.train.columns) == list(spec.train_columns)
    assert spec.label_column not in b.heldout_features.columns
    for c in spec.meta_columns:  # time / group / train-only columns never reach the model
        if c not in spec.feature_names:
            assert c not in b.heldout_features.columns
    for c in spec.feature_columns:
        for frame in (b.train, b.heldout_features):
            col = frame[c.name]
            if c.dtype == "string":
                assert pd.api.types.is_string_dtype(
                    col.dtype
                ) and not pd.api.types.is_numeric_dtype(col.dtype)
            else:
                assert col.dtype == np.dtype(c.dtype), (c.name, col.dtype)
            assert not col.isna().any(), c.name
    n = len(b.heldout_features)
    assert 1000 <= n <= 4000 and 1000 <= len(b.train) <= 4000  # tiny: ~2k / ~2k
    for arr in (b.heldout_labels, b.heldout_slices, b.heldout_public):
        assert len(arr) == n
    assert b.heldout_public.dtype == bool
    label_dtype = np.float32 if spec.label_dtype == "float32" else np.int64
    assert b.heldout_labels.dtype == label_dtype
    assert b.train[spec.label_column].dtype == label_dtype
    if spec.group_column:
        assert len(b.heldout_groups) == n
        source = (
            b.heldout_meta if spec.group_column in b.heldout_meta.columns else b.heldout_features
        )
        np.testing.assert_array_equal(b.heldout_groups, source[spec.group_column].to_numpy())
    else:
        assert b.heldout_groups is None
    # ids fit the baselines' key packing
    for c in spec.feature_columns:
        if c.role in ("id", "group"):
            assert b.train[c.name].min() >= 0 and b.train[c.name].max() < (1 << 21) - 1


@cases
def test_heldout_is_later_than_train_in_four_weekly_slices(slug):
    b = built(slug)
    tday = b.train[TIME_COLUMN].to_numpy()
    hday = b.heldout_time
    assert tday.min() >= 0 and tday.max() < TRAIN_DAYS
    assert hday.min() >= TRAIN_DAYS and hday.max() < TRAIN_DAYS + HELDOUT_DAYS
    assert tday.max() < hday.min()
    assert set(np.unique(b.heldout_slices)) == {"week 1", "week 2", "week 3", "week 4"}
    week = (hday - TRAIN_DAYS) // 7 + 1
    np.testing.assert_array_equal(b.heldout_slices, np.array([f"week {w}" for w in week]))


@cases
def test_groups_are_contiguous_and_within_group_order_is_shuffled(slug):
    b = built(slug)
    g = b.heldout_groups
    if g is None:
        pytest.skip("ungrouped task")
    change = np.r_[True, g[1:] != g[:-1]]
    assert change.sum() == len(np.unique(g)), "rows of a group must be contiguous"
    if slug == "rental-search-ranking":  # row order must not leak the logged position
        pos = b.heldout_meta["position"].to_numpy()
        first = pos[change]
        assert (first == 1).mean() < 0.5


# --- public mask --------------------------------------------------------------------------------
@cases
def test_public_mask_about_30_percent_and_by_group(slug):
    b = built(slug)
    share = b.heldout_public.mean()
    assert abs(share - PUBLIC_FRACTION) < 0.08
    if b.heldout_groups is not None:
        frame = pd.DataFrame({"g": b.heldout_groups, "p": b.heldout_public})
        per_group = frame.groupby("g")["p"].agg(["min", "max", "mean"])
        assert (per_group["min"] == per_group["max"]).all(), "a group straddles public/private"
        assert abs(per_group["mean"].mean() - PUBLIC_FRACTION) < 0.02
    again = build_dataset(slug, secret=TEST_SECRET, size="tiny")
    np.testing.assert_array_equal(again.heldout_public, b.heldout_public)


# --- case-specific realism ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_builds():
    return {slug: built(slug, "default") for slug in CASE_SLUGS}


@pytest.mark.parametrize(
    "slug,low,high",
    [
        ("ad-click-prediction", 0.01, 0.03),
        ("feed-ranking", 0.007, 0.014),
        ("video-recommendation", 0.02, 0.05),
    ],
)
def test_positive_rates_in_range(default_builds, slug, low, high):
    b = default_builds[slug]
    label = b.spec.label_column
    for rate in (b.train[label].mean(), b.heldout_labels.mean()):
        assert low <= rate <= high, rate


def test_default_sizes(default_builds):
    for slug, b in default_builds.items():
        assert 50_000 <= b.n_heldout <= 200_000, slug
        assert b.n_train >= b.n_heldout, slug


def test_ad_cardinalities(default_builds):
    t = default_builds["ad-click-prediction"].train
    assert t["user_id"].nunique() > 20_000
    assert t["ad_id"].nunique() > 8_000
    assert 500 <= t["advertiser_id"].nunique() <= 1_000
    assert set(t["device"].unique()) <= {"android", "ios", "desktop", "tablet"}
    assert (t["user_past_clicks"] <= t["user_past_impressions"]).all()
    # position bias is visible in the log
    ctr = t.groupby("position")["clicked"].mean()
    assert ctr.loc[1] > ctr.loc[5]


def test_rental_searches_and_labels(default_builds):
    b = default_builds["rental-search-ranking"]
    for frame, groups, labels in (
        (b.train, b.train["search_id"].to_numpy(), b.train["relevance"].to_numpy()),
        (b.heldout_features, b.heldout_groups, b.heldout_labels),
    ):
        sizes = pd.Series(groups).value_counts()
        assert sizes.min() >= 20 and sizes.max() <= 50
        assert set(np.unique(labels)) == {0, 1, 2}
        bookings = pd.Series(labels == 2).groupby(groups).sum()
        assert bookings.max() <= 1
        dup = pd.DataFrame({"g": groups, "l": frame["listing_id"].to_numpy()}).duplicated().sum()
        assert dup == 0
    t = b.train
    assert (
        t.groupby("search_id")["position"]
        .apply(lambda p: sorted(p) == list(range(1, len(p) + 1)))
        .all()
    )
    ctr = t.assign(c=t["relevance"] > 0).groupby("position")["c"].mean()
    assert ctr.loc[1] > 2 * ctr.loc[20]  # position bias


def test_rental_tiny_search_sizes():
    b = built("rental-search-ranking")
    sizes = pd.Series(b.heldout_groups).value_counts()
    assert sizes.min() >= 20 and sizes.max() <= 50
    assert set(np.unique(b.heldout_labels)) <= {0, 1, 2}


def test_feed_sessions(default_builds):
    b = default_builds["feed-ranking"]
    sizes = pd.Series(b.heldout_groups).value_counts()
    assert sizes.min() >= 10 and sizes.max() <= 50
    assert set(b.train["activity_type"].unique()) <= {
        "photo",
        "video",
        "status",
        "link",
        "share",
        "comment",
        "like",
    }
    assert b.train["connection_strength"].between(0, 1).all()
    assert b.train["viewer_author_affinity"].between(0, 1).all()
    # drift: video share grows over time
    video_train = (b.train["activity_type"] == "video").mean()
    video_held = (b.heldout_features["activity_type"] == "video").mean()
    assert video_held > video_train


def test_video_requests(default_builds):
    b = default_builds["video-recommendation"]
    sizes = pd.Series(b.heldout_groups).value_counts()
    assert sizes.min() >= 95 and sizes.max() <= 100  # ~100 candidates per user
    requests = b.heldout_meta["request_id"].groupby(b.heldout_groups).nunique()
    assert (requests == 1).all()  # one request per held-out user
    dup = (
        pd.DataFrame({"u": b.heldout_groups, "v": b.heldout_features["video_id"].to_numpy()})
        .duplicated()
        .sum()
    )
    assert dup == 0
    seen = np.isin(b.heldout_groups, b.train["user_id"].unique())
    assert 0.8 < seen.mean() < 0.95  # mostly returning users, some cold-start
    # per-user watch rates differ (user/genre tastes), i.e. the label is not just popularity
    per_user = pd.Series(b.heldout_labels).groupby(b.heldout_groups).mean()
    assert per_user.std() > 0.01


def test_delivery_geometry_and_rush(default_builds):
    b = default_builds["food-delivery-time"]
    t = b.train
    assert t["store_lat"].between(52.3, 52.75).all() and t["customer_lng"].between(13.1, 13.7).all()
    minutes = t["delivery_minutes"]
    assert 25 < minutes.mean() < 60 and minutes.min() >= 5
    assert set(t["day_of_week"].unique()) == set(range(7))
    by_hour = t.groupby("hour")["delivery_minutes"].mean()
    assert by_hour.loc[19] > by_hour.loc[15]  # dinner rush
    assert t.groupby("hour").size().loc[19] > t.groupby("hour").size().loc[15]


# --- files -----------------------------------------------------------------------------
@cases
def test_write_training_files(tmp_path, slug):
    b = built(slug)
    paths = write_training_files(b, tmp_path / slug)
    assert set(paths) == {
        "train_csv",
        "train_parquet",
        "data_dictionary_json",
        "data_dictionary_md",
    }
    assert {p.name for p in paths.values()} == {
        "train.csv",
        "train.parquet",
        "data_dictionary.json",
        "data_dictionary.md",
    }
    pq = pd.read_parquet(paths["train_parquet"])
    pd.testing.assert_frame_equal(pq, b.train, check_dtype=False)
    assert [str(d) for d in pq.dtypes if str(d) not in ("str", "object", "string")] == [
        str(d) for d in b.train.dtypes if str(d) not in ("str", "object", "string")
    ]
    csv = pd.read_csv(paths["train_csv"])
    assert list(csv.columns) == list(b.train.columns)
    for c in b.spec.train_column_specs:
        if c.dtype == "float32":  # 7 significant digits round-trip the stored float32 values
            np.testing.assert_array_equal(
                csv[c.name].to_numpy().astype(np.float32), b.train[c.name].to_numpy()
            )
        elif c.dtype == "int64":
            np.testing.assert_array_equal(csv[c.name].to_numpy(), b.train[c.name].to_numpy())
    doc = json.loads(paths["data_dictionary_json"].read_text())
    assert doc["fingerprint"] == b.fingerprint and doc["case_slug"] == slug
    assert doc["dataset_id"] == b.dataset_id and "seed" not in doc  # downloads carry no seed
    assert str(b.seed) not in paths["data_dictionary_json"].read_text()
    assert str(b.seed) not in repr(b)
    assert [c["name"] for c in doc["columns"]] == list(b.train.columns)
    md = paths["data_dictionary_md"].read_text()
    assert all(f"`{c}`" in md for c in b.train.columns)
    if slug == "rental-search-ranking":
        assert "not a serving-time input" in md


def test_float_columns_round_trip_through_csv(default_builds):
    """Stored float32 values have <= 7 significant digits, so "%.7g" CSV is lossless."""
    for slug, b in default_builds.items():
        for c in b.spec.train_column_specs:
            if c.dtype != "float32":
                continue
            values = b.train[c.name].to_numpy()[::10]
            text = np.char.mod("%.7g", values.astype(np.float64))
            back = text.astype(np.float64).astype(np.float32)
            assert (back == values).all(), (slug, c.name)


# --- size ------------------------------------------------------------------------------
# (How long builds take is measured by scripts/measure_datasets.py and `make bench`, never
# asserted here.)
@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("MLSD_BENCH_TESTS") != "1",
    reason="set MLSD_BENCH_TESTS=1 (builds ~1M rows per case)",
)
@cases
def test_bench_size(slug):
    b = build_dataset(slug, secret=TEST_SECRET, size="bench")
    assert b.n_heldout >= 1_000_000
