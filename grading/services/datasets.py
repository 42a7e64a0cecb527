"""Writes for datasets: build a case study's dataset from the deployment's dataset secret,
record it by fingerprint, rebuild (materialize) it on any machine that holds the same secret
and check the fingerprint, and load the held-out split.

Every build needs the secret (``settings.DATASET_SECRET``): without it ``DatasetSecretMissing``
is raised, and a machine whose secret is not the one a dataset was built with raises
``DatasetSecretDiffers`` instead of rebuilding other rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Max

from grading import datasets
from grading.engine.contract import InputContract
from grading.engine.sandbox.features import (
    FeatureColumns,
    feature_columns_open,
    feature_columns_write,
)
from grading.engine.scoring import HeldoutSplit
from grading.models import (
    Dataset,
)
from interviews.models import CaseStudy

logger = logging.getLogger(__name__)

FINGERPRINT_FILE = "FINGERPRINT"
#: Held-out scenario masks are stored as ``scenario-<name>.npy`` beside the labels.
SCENARIO_FILE_PREFIX = "scenario-"


class DatasetMismatch(RuntimeError):
    """A rebuilt dataset does not have the rows its fingerprint promises."""


class DatasetSecretDiffers(DatasetMismatch):
    """This machine's dataset secret is not the one the dataset was built with (or the
    dataset predates secrets): it cannot rebuild those rows, and says so."""


class DatasetSecretMissing(ImproperlyConfigured):
    """No usable dataset secret is configured: nothing can be built or rebuilt."""


def dataset_secret() -> datasets.DatasetSecret:
    """This deployment's dataset secret, from ``MLSD_DATASET_SECRET`` (or the file named by
    ``MLSD_DATASET_SECRET_FILE``). Raises ``DatasetSecretMissing`` if none is set or it is
    too weak; the message never contains the secret."""
    text = settings.DATASET_SECRET
    if not text:
        where = ""
        if settings.DATASET_SECRET_FILE:
            where = f" ({settings.DATASET_SECRET_FILE} does not exist or is empty)"
        raise DatasetSecretMissing(
            f"No dataset secret is configured{where}. Set MLSD_DATASET_SECRET (or "
            "MLSD_DATASET_SECRET_FILE) to the deployment's secret, the same for the web "
            "server and every worker; `make run` creates one under var/. Without it no "
            "dataset is built or rebuilt, because data from a known seed can be rebuilt by "
            "anyone with the public repository.")
    try:
        return datasets.DatasetSecret.from_text(text)
    except datasets.DatasetSecretInvalid as error:
        raise DatasetSecretMissing(f"MLSD_DATASET_SECRET is not usable: {error}.") from None


def _secret_differs(dataset: Dataset, secret: datasets.DatasetSecret) -> DatasetSecretDiffers:
    if dataset.key_id == datasets.LEGACY_KEY_ID:
        return DatasetSecretDiffers(
            f"dataset secret differs: {dataset} was built before datasets had a secret, from a "
            "seed anyone can rebuild, so no machine rebuilds it. Build a new data version: "
            f"`python manage.py build_datasets --case {dataset.case_study.slug} --new-version`.")
    return DatasetSecretDiffers(
        f"dataset secret differs: {dataset} was built with the dataset secret whose key id is "
        f"{dataset.key_id}, and this machine's MLSD_DATASET_SECRET has key id "
        f"{secret.key_id}. Give every web and worker process the deployment's secret.")


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
    for name, mask in built.heldout_scenarios.items():
        np.save(directory / f"{SCENARIO_FILE_PREFIX}{name}.npy", np.asarray(mask, dtype=bool),
                allow_pickle=False)


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
def dataset_build(*, case_study: CaseStudy, size: str = "default", new_version: bool = False,
                  activate: bool = True) -> tuple[Dataset, datasets.BuiltDataset]:
    """Build the case study's data from the dataset secret, write its files and record it;
    returns the row and the built data.

    Without ``new_version`` this (re)builds the case study's latest data version, which
    must give the recorded fingerprint again (else ``DatasetMismatch``) and must have been
    built with this secret (else ``DatasetSecretDiffers``). With ``new_version`` it draws
    the next version's data: new rows and a new public/private split, while scores on older
    versions keep pointing at theirs. Raises ``DatasetSecretMissing`` without a secret."""
    secret = dataset_secret()
    # One build at a time per case study, so two cannot take the same new version number.
    CaseStudy.objects.select_for_update().filter(pk=case_study.pk).first()
    builds = Dataset.objects.filter(case_study=case_study)
    latest = builds.aggregate(latest=Max("data_version"))["latest"] or 0
    if not new_version and latest:
        foreign = builds.filter(data_version=latest).exclude(key_id=secret.key_id).first()
        if foreign is not None:
            raise _secret_differs(foreign, secret)
    data_version = latest + 1 if new_version or not latest else latest
    built = datasets.build_dataset(case_study.slug, secret=secret, data_version=data_version,
                                   size=size)
    version = built.spec.generator_version
    dataset = builds.filter(generator_version=version, size=size,
                            data_version=data_version).first()
    if dataset is not None and dataset.fingerprint != built.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt rows differ from the recorded fingerprint")
    if dataset is None:
        dataset = Dataset(case_study=case_study, generator_version=version,
                          data_version=data_version, size=size, dataset_id=built.dataset_id,
                          key_id=secret.key_id, fingerprint=built.fingerprint, is_active=False)
    dataset.train_rows = len(built.train)
    dataset.heldout_rows = len(built.heldout_labels)
    dataset.public_rows = int(np.count_nonzero(built.heldout_public))
    dataset.build_seconds = round(built.build_seconds, 3)
    dataset.save()
    _write_dataset_files(built, dataset_directory(dataset))
    logger.info("built %s with dataset secret key id %s; fingerprint %s", dataset,
                dataset.key_id, dataset.fingerprint[:16])
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
    """Make sure this machine has the dataset's files, rebuilding them from the dataset
    secret and the recorded versions if missing, and proving by fingerprint that they are
    the same rows.

    Raises ``DatasetSecretMissing`` without a secret and ``DatasetSecretDiffers`` if this
    machine's secret is not the one the dataset was built with, even when the files are
    already here (a worker that cannot rebuild the data must not score on it). Raises
    ``DatasetMismatch`` if this machine's generator gives other rows (for example a
    different generator version is installed)."""
    secret = dataset_secret()
    if dataset.key_id != secret.key_id:
        raise _secret_differs(dataset, secret)
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
    built = datasets.build_dataset(dataset.case_study.slug, secret=secret,
                                   data_version=dataset.data_version, size=dataset.size)
    if built.fingerprint != dataset.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt fingerprint {built.fingerprint[:12]} "
                              f"differs from recorded {dataset.fingerprint[:12]}")
    _write_dataset_files(built, directory)
    logger.info("rebuilt %s from the dataset secret (key id %s); fingerprint verified",
                dataset, secret.key_id)
    return directory


def heldout_load(*, dataset: Dataset, contract: InputContract | None = None) -> HeldoutSplit:
    """The held-out split of ``dataset`` (materialized on this machine if needed), with its
    scenario masks (none for data built before generators flagged them). With ``contract``
    the features are the contract's columns as the sandbox reads them, written once per
    dataset and contract (``heldout_feature_columns``), not a DataFrame."""
    directory = dataset_materialize(dataset=dataset) / "heldout"
    groups_path = directory / "groups.npy"
    scenarios = {
        path.name.removeprefix(SCENARIO_FILE_PREFIX).removesuffix(".npy"):
            np.load(path, allow_pickle=False)
        for path in sorted(directory.glob(f"{SCENARIO_FILE_PREFIX}*.npy"))
    }
    return HeldoutSplit(
        features=(pd.read_parquet(directory / "features.parquet") if contract is None
                  else heldout_feature_columns(directory, contract)),
        labels=np.load(directory / "labels.npy", allow_pickle=False),
        groups=np.load(groups_path, allow_pickle=False) if groups_path.exists() else None,
        slices=np.load(directory / "slices.npy", allow_pickle=False),
        public=np.load(directory / "public.npy", allow_pickle=False),
        scenarios=scenarios,
    )


def heldout_feature_columns(directory: Path, contract: InputContract) -> FeatureColumns:
    """The held-out features in ``directory`` as the sandbox child reads them (a .npy per
    contract column), written under the dataset's ``cache/`` the first time a job needs
    them; a job's folder gets a copy of these files instead of a parquet read and an
    encoding per job."""
    key = hashlib.sha256(json.dumps(contract.to_dict(), sort_keys=True).encode()).hexdigest()
    # Beside the split, not in it: heldout/ holds the dataset's own files only.
    folder = directory.parent / "cache" / f"sandbox-columns-{key[:16]}"
    return (feature_columns_open(folder, contract)
            or feature_columns_write(directory / "features.parquet", contract, folder))


def heldout_public_labels(*, dataset: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """The labels and groups (None when ungrouped) of the public rows of ``dataset``'s
    held-out split: what the Ladder's paired test needs, without reading the features
    (about 0.2 s of parquet at a million rows)."""
    directory = dataset_materialize(dataset=dataset) / "heldout"
    public = np.load(directory / "public.npy", allow_pickle=False)
    labels = np.load(directory / "labels.npy", allow_pickle=False)[public]
    groups_path = directory / "groups.npy"
    groups = np.load(groups_path, allow_pickle=False)[public] if groups_path.exists() else None
    return labels, groups


def training_file_path(*, dataset: Dataset, name: str) -> Path:
    """A downloadable training file of ``dataset``; only the training split's files."""
    allowed = {"train.csv", "train.parquet", "data_dictionary.json", "data_dictionary.md"}
    if name not in allowed:
        raise FileNotFoundError(name)
    return dataset_materialize(dataset=dataset) / "train" / name
