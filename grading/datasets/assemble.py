"""Turning a simulated log into a ``BuiltDataset``: time split, held-out parts, public mask."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .files import compute_fingerprint
from .sampling import make_rng, text_crc32
from .scenarios import COLD_START, LATEST_WEEK, MISSING_FEATURES
from .spec import (
    MISSING_FEATURE_SHARE,
    N_SLICES,
    PUBLIC_FRACTION,
    TIME_COLUMN,
    TRAIN_DAYS,
    BuiltDataset,
    DatasetSpec,
)


def _to_frame(spec: DatasetSpec, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {}
    for c in spec.train_column_specs:
        v = columns[c.name]
        if c.dtype == "float32":
            v = np.asarray(v, dtype=np.float32)
        elif c.dtype == "int64":
            v = np.asarray(v, dtype=np.int64)
        else:
            v = pd.array(np.asarray(v, dtype=object), dtype="str")
        data[c.name] = v
    return pd.DataFrame(data)


def assemble(
    spec: DatasetSpec, seed: int, size: str, columns: dict[str, np.ndarray]
) -> BuiltDataset:
    """Split a full simulated log into train / held-out and attach all metadata.

    ``columns`` maps every train column (features, extras, label) to an array.
    For grouped tasks rows of a group must be contiguous; the row order inside a
    group is shuffled here (so row order never leaks the logging ranker's order).
    Rows are ordered by day (groups kept contiguous).
    """
    rng = make_rng(spec.case_slug, spec.generator_version, seed, size, "assemble")
    day = np.asarray(columns[TIME_COLUMN], dtype=np.int64)
    n = len(day)
    if spec.group_column is not None:
        g = np.asarray(columns[spec.group_column])
        block = np.cumsum(np.r_[True, g[1:] != g[:-1]])  # contiguous run id
        # day is constant within a block by construction: sort by day, keep blocks
        # contiguous, shuffle rows inside each block
        order = np.lexsort((rng.random(n), block, day))
    else:
        order = np.argsort(day, kind="stable")
    frame = _to_frame(spec, {k: np.asarray(v)[order] for k, v in columns.items()})
    is_train = frame[TIME_COLUMN].to_numpy() < TRAIN_DAYS
    train = frame.loc[is_train].reset_index(drop=True)
    held = frame.loc[~is_train].reset_index(drop=True)

    heldout_features = held[list(spec.feature_names)].copy()
    labels = held[spec.label_column].to_numpy().copy()
    groups = held[spec.group_column].to_numpy().copy() if spec.group_column else None
    hday = held[TIME_COLUMN].to_numpy()
    week = np.clip((hday - TRAIN_DAYS) // 7 + 1, 1, N_SLICES)
    slices = np.array([f"week {w}" for w in range(1, N_SLICES + 1)])[week - 1]
    public = public_mask(spec, seed, len(held), groups)
    meta = held[list(spec.meta_columns)].copy()
    missing = missing_feature_mask(spec, seed, size, len(held), groups)
    default_missing_features(spec, heldout_features, missing)
    scenarios = {
        COLD_START.name: cold_start_mask(spec, train, held),
        LATEST_WEEK.name: week == N_SLICES,
        MISSING_FEATURES.name: missing,
    }

    built = BuiltDataset(
        spec=spec,
        seed=int(seed),
        size=size,
        train=train,
        heldout_features=heldout_features,
        heldout_labels=labels,
        heldout_groups=groups,
        heldout_slices=slices,
        heldout_public=public,
        fingerprint="",
        heldout_meta=meta,
        heldout_scenarios=scenarios,
    )
    built.fingerprint = compute_fingerprint(built)
    return built


def cold_start_mask(spec: DatasetSpec, train: pd.DataFrame, held: pd.DataFrame) -> np.ndarray:
    """Held-out rows whose value in any of ``spec.cold_start_columns`` is absent from train.

    Grouped tasks are ranked per group, so the slice keeps whole groups: those where at least
    half of the rows are unseen (a new user's request; a search in a newly opened market)."""
    mask = np.zeros(len(held), dtype=bool)
    for name in spec.cold_start_columns:
        mask |= ~np.isin(held[name].to_numpy(), train[name].to_numpy())
    if spec.group_column is None:
        return mask
    _, inverse = np.unique(held[spec.group_column].to_numpy(), return_inverse=True)
    unseen_share = np.bincount(inverse, weights=mask) / np.bincount(inverse)
    return unseen_share[inverse] >= 0.5


def missing_feature_mask(spec: DatasetSpec, seed: int, size: str, n_rows: int,
                         groups: np.ndarray | None) -> np.ndarray:
    """``MISSING_FEATURE_SHARE`` of the held-out rows, whole groups for grouped tasks (a
    timed-out feature service fails a whole request); empty if the case defaults nothing."""
    if not spec.missing_feature_defaults:
        return np.zeros(n_rows, dtype=bool)
    rng = make_rng(spec.case_slug, spec.generator_version, seed, size, "missing-features")
    if groups is None:
        return rng.random(n_rows) < MISSING_FEATURE_SHARE
    uniq, inverse = np.unique(groups, return_inverse=True)
    return (rng.random(len(uniq)) < MISSING_FEATURE_SHARE)[inverse]


def default_missing_features(spec: DatasetSpec, features: pd.DataFrame,
                             mask: np.ndarray) -> None:
    """Set the case's defaulted features to their defaults on the ``mask`` rows, in place
    (the labels were drawn from the true values: the model loses information, as in
    production)."""
    for name, default in spec.missing_feature_defaults:
        column = features[name].to_numpy().copy()
        column[mask] = default
        features[name] = column.astype(features[name].dtype)


def public_mask(spec: DatasetSpec, seed: int, n_rows: int, groups: np.ndarray | None) -> np.ndarray:
    """~30 % public rows; fixed per (case, version, seed), so as secret as the seed (which
    ``build_dataset`` derives from the dataset secret). Grouped tasks split by group."""
    rng = np.random.default_rng(
        np.random.SeedSequence(
            [
                int(seed),
                spec.generator_version,
                text_crc32(spec.case_slug),
                text_crc32("public-mask"),
            ]
        )
    )
    if groups is None:
        mask = np.zeros(n_rows, dtype=bool)
        mask[rng.permutation(n_rows)[: int(round(PUBLIC_FRACTION * n_rows))]] = True
        return mask
    uniq = np.unique(groups)
    chosen = uniq[rng.permutation(len(uniq))[: int(round(PUBLIC_FRACTION * len(uniq)))]]
    return np.isin(groups, chosen)

