"""Registry of the case studies: generators, column specs and baseline recipes (no Django).

``build_dataset(case_slug, secret=..., data_version=..., size=...)`` is deterministic in
(secret, case_slug, generator_version, size, data_version): the seed is a keyed hash of
those (``secret.py``); see ``spec.py`` for conventions.
``baseline_recipes(case_slug)``, ``design_choice(case_slug)`` and ``scenario_choices(case_slug)``
hand out the case's ``BASELINES``, ``DESIGN_CHOICE`` and ``SCENARIO_CHOICES`` (plain data, see
``recipes.py``).
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
from .files import data_dictionary_for
from .files import write_training_files as _write_training_files
from .recipes import BaselineRecipe, DesignChoice, ScenarioChoice, recipes_by_name
from .secret import DatasetSecret
from .spec import SIZES, BuiltDataset, DatasetSpec, check_size

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

# checked once at import, so a recipe naming a missing recipe fails loudly and early
_RECIPES: dict[str, dict[str, BaselineRecipe]] = {
    slug: recipes_by_name(slug, module.BASELINES, module.DESIGN_CHOICE,
                          module.SCENARIO_CHOICES)
    for slug, module in _MODULES.items()
}


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
    case_slug: str, *, secret: DatasetSecret, data_version: int = 1, size: str = "default"
) -> BuiltDataset:
    """Build train + held-out for one case from the deployment's dataset secret.

    ``data_version`` (1, 2, ...) numbers the builds of one case study: a new version draws
    new data. Sizes: "tiny", "default", "bench". The same arguments give the same rows (and
    fingerprint) on any machine; another secret gives unrelated rows and split.
    """
    if not isinstance(secret, DatasetSecret):
        raise TypeError("build_dataset needs the deployment's DatasetSecret")
    if isinstance(data_version, bool) or not isinstance(data_version, int) or data_version < 1:
        raise ValueError("data_version must be an int >= 1")
    spec = dataset_spec(case_slug)
    check_size(size)
    key = {"case_slug": case_slug, "generator_version": spec.generator_version, "size": size,
           "data_version": data_version}
    built = build_dataset_from_seed(case_slug, seed=secret.seed(**key), size=size)
    built.dataset_id = secret.dataset_id(**key)
    return built


def build_dataset_from_seed(case_slug: str, *, seed: int, size: str = "default") -> BuiltDataset:
    """The generator itself, for a seed the caller derived (``build_dataset`` does this from
    the secret). A seed that is not secret gives data anyone can rebuild."""
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


def baseline_recipes(case_slug: str) -> dict[str, BaselineRecipe]:
    """``{name: recipe}`` of the case's baselines, in the order its module declares them.

    KeyError for an unknown case. The dict is a copy; the recipes are frozen.
    """
    _module(case_slug)
    return dict(_RECIPES[case_slug])


def design_choice(case_slug: str) -> DesignChoice:
    """The modelling choice the case's data rewards (KeyError for an unknown case)."""
    return _module(case_slug).DESIGN_CHOICE


def scenario_choices(case_slug: str) -> tuple[ScenarioChoice, ...]:
    """The case's (ignores, handles) recipe pairs per scenario slice (KeyError for an
    unknown case)."""
    return _module(case_slug).SCENARIO_CHOICES


__all__ = [
    "CASE_SLUGS",
    "GENERATOR_VERSIONS",
    "SIZES",
    "dataset_spec",
    "build_dataset",
    "build_dataset_from_seed",
    "data_dictionary",
    "write_training_files",
    "baseline_recipes",
    "design_choice",
    "scenario_choices",
]
