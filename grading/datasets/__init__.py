"""Synthetic, deterministic datasets for the mlsd-mock case studies (no Django).

Public API::

    from grading.datasets import (
        CASE_SLUGS, build_dataset, data_dictionary, dataset_spec, write_training_files,
    )
    built = build_dataset("ad-click-prediction", seed=20261129, size="default")
    built.train                 # downloadable training split (features, label, group, time)
    built.heldout_features      # the only thing a sandboxed model sees
    built.heldout_labels / heldout_groups / heldout_slices / heldout_public  # server-side

See docs/datasets.md for what each generator models and measured figures.
"""

from .base import (
    DEFAULT_SEED,
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
from .registry import (
    CASE_SLUGS,
    GENERATOR_VERSIONS,
    build_dataset,
    data_dictionary,
    dataset_spec,
    write_training_files,
)

__all__ = [
    "CASE_SLUGS",
    "GENERATOR_VERSIONS",
    "SIZES",
    "DEFAULT_SEED",
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
    "data_dictionary",
    "write_training_files",
]
