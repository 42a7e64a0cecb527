"""Registry of case-study dataset generators (pure Python, no Django).

``build_dataset(case_slug, seed=..., size=...)`` is deterministic in
(case_slug, generator_version, seed, size); see ``base.py`` for conventions.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import ModuleType

from . import (
    ad_click_prediction,
    feed_ranking,
    food_delivery_time,
    rental_search_ranking,
    video_recommendation,
)
from .base import (
    DEFAULT_SEED,
    SIZES,
    BuiltDataset,
    DatasetSpec,
    check_size,
    data_dictionary_for,
)
from .base import write_training_files as _write_training_files

_MODULES: dict[str, ModuleType] = {
    m.CASE_SLUG: m
    for m in (
        video_recommendation,
        feed_ranking,
        ad_click_prediction,
        rental_search_ranking,
        food_delivery_time,
    )
}

CASE_SLUGS: tuple[str, ...] = (
    "video-recommendation",
    "feed-ranking",
    "ad-click-prediction",
    "rental-search-ranking",
    "food-delivery-time",
)
GENERATOR_VERSIONS: dict[str, int] = {slug: _MODULES[slug].GENERATOR_VERSION for slug in CASE_SLUGS}

assert set(CASE_SLUGS) == set(_MODULES), "registry out of sync with generator modules"


def _module(case_slug: str) -> ModuleType:
    try:
        return _MODULES[case_slug]
    except KeyError:
        raise KeyError(
            f"unknown case study {case_slug!r}; known: {', '.join(CASE_SLUGS)}"
        ) from None


def dataset_spec(case_slug: str) -> DatasetSpec:
    return _module(case_slug).SPEC


def build_dataset(
    case_slug: str, *, seed: int = DEFAULT_SEED, size: str = "default"
) -> BuiltDataset:
    """Build train + held-out for one case. Sizes: "tiny", "default", "bench"."""
    module = _module(case_slug)
    check_size(size)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError("seed must be a non-negative int")
    t0 = time.perf_counter()
    built = module.build(seed, size)
    built.build_seconds = time.perf_counter() - t0
    return built


def data_dictionary(case_slug: str) -> list[dict]:
    """name, dtype, role, model_input, description for every train column (label included)."""
    return data_dictionary_for(dataset_spec(case_slug))


def write_training_files(built: BuiltDataset, directory: str | Path) -> dict[str, Path]:
    return _write_training_files(built, directory)


__all__ = [
    "CASE_SLUGS",
    "GENERATOR_VERSIONS",
    "SIZES",
    "DEFAULT_SEED",
    "dataset_spec",
    "build_dataset",
    "data_dictionary",
    "write_training_files",
]
