"""Writes for datasets: build a case study's dataset, record it by fingerprint, rebuild
(materialize) it on any machine and check the fingerprint, and load the held-out split."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction

from grading import datasets
from grading.engine.scoring import HeldoutSplit
from grading.models import (
    Dataset,
)
from interviews.models import CaseStudy

logger = logging.getLogger(__name__)

FINGERPRINT_FILE = "FINGERPRINT"


class DatasetMismatch(RuntimeError):
    """A rebuilt dataset does not have the rows its fingerprint promises."""


def dataset_directory(dataset: Dataset) -> Path:
    """Where this machine keeps the dataset's files: under PRIVATE_DATA_ROOT, never served
    as static or media files."""
    return Path(settings.PRIVATE_DATA_ROOT) / "datasets" / dataset.storage_key


def _write_heldout(built: datasets.BuiltDataset, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    built.heldout_features.to_parquet(directory / "features.parquet", index=False)
    np.save(directory / "labels.npy", np.asarray(built.heldout_labels), allow_pickle=False)
    np.save(directory / "slices.npy", np.asarray(built.heldout_slices).astype(str),
            allow_pickle=False)
    np.save(directory / "public.npy", np.asarray(built.heldout_public, dtype=bool),
            allow_pickle=False)
    if built.heldout_groups is not None:
        np.save(directory / "groups.npy", np.asarray(built.heldout_groups), allow_pickle=False)


def _write_dataset_files(built: datasets.BuiltDataset, target: Path) -> None:
    """Write both splits into a temporary folder, then move it into place, so a reader
    never sees half a dataset; the fingerprint file is written last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        datasets.write_training_files(built, staging / "train")
        _write_heldout(built, staging / "heldout")
        (staging / FINGERPRINT_FILE).write_text(built.fingerprint)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@transaction.atomic
def dataset_build(*, case_study: CaseStudy, seed: int = datasets.DEFAULT_SEED,
                  size: str = "default", activate: bool = True
                  ) -> tuple[Dataset, datasets.BuiltDataset]:
    """Build (or rebuild) the case study's dataset from the generator, write its files and
    record it; returns the row and the built data. Building the same version, seed and size
    again must give the same fingerprint; if not, ``DatasetMismatch`` is raised."""
    built = datasets.build_dataset(case_study.slug, seed=seed, size=size)
    version = built.spec.generator_version
    dataset = Dataset.objects.filter(case_study=case_study, generator_version=version,
                                     seed=seed, size=size).first()
    if dataset is not None and dataset.fingerprint != built.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt rows differ from the recorded fingerprint")
    if dataset is None:
        dataset = Dataset(case_study=case_study, generator_version=version, seed=seed,
                          size=size, fingerprint=built.fingerprint, is_active=False)
    dataset.train_rows = len(built.train)
    dataset.heldout_rows = len(built.heldout_labels)
    dataset.public_rows = int(np.count_nonzero(built.heldout_public))
    dataset.build_seconds = round(built.build_seconds, 3)
    dataset.save()
    _write_dataset_files(built, dataset_directory(dataset))
    if activate:
        dataset_activate(dataset=dataset)
    return dataset, built


def dataset_activate(*, dataset: Dataset) -> None:
    with transaction.atomic():
        Dataset.objects.filter(case_study=dataset.case_study, is_active=True).exclude(
            pk=dataset.pk).update(is_active=False)
        Dataset.objects.filter(pk=dataset.pk).update(is_active=True)
    dataset.is_active = True


def dataset_materialize(*, dataset: Dataset) -> Path:
    """Make sure this machine has the dataset's files, rebuilding them from generator
    version and seed if missing, and proving by fingerprint that they are the same rows.

    Raises ``DatasetMismatch`` if this machine's generator gives other rows (for example a
    different generator version is installed)."""
    directory = dataset_directory(dataset)
    marker = directory / FINGERPRINT_FILE
    if marker.exists() and marker.read_text().strip() == dataset.fingerprint:
        return directory
    current_version = datasets.GENERATOR_VERSIONS[dataset.case_study.slug]
    if current_version != dataset.generator_version:
        raise DatasetMismatch(
            f"{dataset} needs generator v{dataset.generator_version}; this machine has "
            f"v{current_version}"
        )
    built = datasets.build_dataset(dataset.case_study.slug, seed=dataset.seed, size=dataset.size)
    if built.fingerprint != dataset.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt fingerprint {built.fingerprint[:12]} "
                              f"differs from recorded {dataset.fingerprint[:12]}")
    _write_dataset_files(built, directory)
    logger.info("rebuilt %s from version and seed; fingerprint verified", dataset)
    return directory


def heldout_load(*, dataset: Dataset) -> HeldoutSplit:
    """The held-out split of ``dataset`` (materialized on this machine if needed)."""
    directory = dataset_materialize(dataset=dataset) / "heldout"
    groups_path = directory / "groups.npy"
    return HeldoutSplit(
        features=pd.read_parquet(directory / "features.parquet"),
        labels=np.load(directory / "labels.npy", allow_pickle=False),
        groups=np.load(groups_path, allow_pickle=False) if groups_path.exists() else None,
        slices=np.load(directory / "slices.npy", allow_pickle=False),
        public=np.load(directory / "public.npy", allow_pickle=False),
    )


def training_file_path(*, dataset: Dataset, name: str) -> Path:
    """A downloadable training file of ``dataset``; only the training split's files."""
    allowed = {"train.csv", "train.parquet", "data_dictionary.json", "data_dictionary.md"}
    if name not in allowed:
        raise FileNotFoundError(name)
    return dataset_materialize(dataset=dataset) / "train" / name
