"""Synthetic, deterministic datasets for the mlsd-mock case studies (no Django).

Public API::

    from grading.datasets import (
        CASE_SLUGS, DatasetSecret, build_dataset, data_dictionary, dataset_spec,
        write_training_files,
    )
    secret = DatasetSecret.from_text(deployment_secret_text)  # never a committed value
    built = build_dataset("ad-click-prediction", secret=secret, data_version=1)
    built.train                 # downloadable training split (features, label, group, time)
    built.heldout_features      # the only thing a sandboxed model sees
    built.heldout_labels / heldout_groups / heldout_slices / heldout_public  # server-side
    baseline_recipes("ad-click-prediction")  # {"trivial": BaselineRecipe, ...}, plain data

Modules: ``secret.py`` (the dataset secret, and the seed, dataset id and key id derived
from it), ``spec.py`` (ColumnSpec, DatasetSpec, BuiltDataset, constants), ``sampling.py``
(named random streams and vectorised draws), ``assemble.py`` (time split, held-out parts,
public mask), ``files.py`` (fingerprint, data dictionary, training files), ``recipes.py``
(what a baseline recipe is), ``scenarios.py`` (the scenario slices' names and labels), one
module per case study (its column spec, generator, scenario mechanics and baseline recipes)
and ``registry.py`` (slug -> module).

See docs/datasets.md for what each generator models and measured figures.
"""

from .recipes import BaselineRecipe, DesignChoice, Estimator, ScenarioChoice
from .registry import (
    CASE_SLUGS,
    GENERATOR_VERSIONS,
    baseline_recipes,
    build_dataset,
    build_dataset_from_seed,
    data_dictionary,
    dataset_spec,
    design_choice,
    scenario_choices,
    write_training_files,
)
from .secret import LEGACY_KEY_ID, MIN_SECRET_CHARS, DatasetSecret, DatasetSecretInvalid
from .spec import (
    EPOCH,
    HELDOUT_DAYS,
    N_SLICES,
    PUBLIC_FRACTION,
    SIZES,
    TIME_COLUMN,
    TRAIN_DAYS,
    BuiltDataset,
    ColumnSpec,
    DatasetSpec,
)

__all__ = [
    "CASE_SLUGS",
    "GENERATOR_VERSIONS",
    "SIZES",
    "EPOCH",
    "TRAIN_DAYS",
    "HELDOUT_DAYS",
    "N_SLICES",
    "PUBLIC_FRACTION",
    "TIME_COLUMN",
    "ColumnSpec",
    "DatasetSpec",
    "BuiltDataset",
    "dataset_spec",
    "build_dataset",
    "build_dataset_from_seed",
    "DatasetSecret",
    "DatasetSecretInvalid",
    "LEGACY_KEY_ID",
    "MIN_SECRET_CHARS",
    "data_dictionary",
    "write_training_files",
    "BaselineRecipe",
    "DesignChoice",
    "Estimator",
    "baseline_recipes",
    "design_choice",
    "scenario_choices",
    "ScenarioChoice",
]
