import shutil

import numpy as np
import pandas as pd
import pytest
from django.db import IntegrityError

from grading.models import Dataset
from grading.services.datasets import (
    FINGERPRINT_FILE,
    DatasetMismatch,
    dataset_directory,
    heldout_load,
    training_file_path,
)
from grading.tests.factories import DatasetFactory
from interviews.models import CaseStudy

pytestmark = pytest.mark.django_db


def test_build_writes_both_splits_outside_media_and_static(tiny_dataset, settings):
    dataset, built = tiny_dataset("ad-click-prediction")
    directory = dataset_directory(dataset)
    assert directory.is_relative_to(settings.PRIVATE_DATA_ROOT)
    assert not directory.is_relative_to(settings.MEDIA_ROOT)
    assert not directory.is_relative_to(settings.STATIC_ROOT)
    assert {p.name for p in (directory / "train").iterdir()} == {
        "train.csv", "train.parquet", "data_dictionary.json", "data_dictionary.md"}
    assert (directory / "heldout" / "labels.npy").exists()
    assert dataset.fingerprint == built.fingerprint and len(dataset.fingerprint) == 64
    assert dataset.heldout_rows == len(built.heldout_labels)
    assert dataset.is_active


def test_training_csv_holds_no_heldout_rows_and_is_earlier_in_time(tiny_dataset):
    dataset, built = tiny_dataset("food-delivery-time")
    train = pd.read_csv(dataset_directory(dataset) / "train" / "train.csv")
    assert len(train) == dataset.train_rows
    from grading.datasets import TIME_COLUMN

    heldout = heldout_load(dataset=dataset)
    assert TIME_COLUMN not in heldout.features.columns
    assert train[TIME_COLUMN].max() < built.heldout_meta[TIME_COLUMN].min()
    assert built.spec.label_column not in heldout.features.columns
    assert list(heldout.features.columns) == [c.name for c in built.spec.feature_columns]


def test_building_again_is_idempotent(tiny_dataset):
    first, _ = tiny_dataset("feed-ranking")
    again, _ = tiny_dataset("feed-ranking")
    assert again.pk == first.pk
    assert Dataset.objects.filter(case_study__slug="feed-ranking").count() == 1


def test_only_one_active_dataset_per_case_study(tiny_dataset):
    dataset, _ = tiny_dataset("feed-ranking")
    with pytest.raises(IntegrityError):
        DatasetFactory(case_study=dataset.case_study, generator_version=99, is_active=True)


def test_a_worker_without_files_rebuilds_them_and_proves_the_fingerprint(tiny_dataset):
    dataset, built = tiny_dataset("rental-search-ranking")
    directory = dataset_directory(dataset)
    shutil.rmtree(directory)
    heldout = heldout_load(dataset=dataset)
    assert (directory / FINGERPRINT_FILE).read_text() == dataset.fingerprint
    np.testing.assert_array_equal(heldout.labels, built.heldout_labels)
    np.testing.assert_array_equal(heldout.groups, built.heldout_groups)
    np.testing.assert_array_equal(heldout.public, built.heldout_public)


def test_the_ladders_labels_are_the_public_rows_of_the_split(tiny_dataset):
    from grading.services.datasets import heldout_public_labels

    for slug in ("rental-search-ranking", "ad-click-prediction"):  # grouped, ungrouped
        dataset, built = tiny_dataset(slug)
        labels, groups = heldout_public_labels(dataset=dataset)
        public = np.asarray(built.heldout_public, dtype=bool)
        assert 0 < len(labels) < len(public)
        np.testing.assert_array_equal(labels, np.asarray(built.heldout_labels)[public])
        if built.heldout_groups is None:
            assert groups is None
        else:
            np.testing.assert_array_equal(groups, np.asarray(built.heldout_groups)[public])


def test_a_rebuild_that_gives_other_rows_is_refused(tiny_dataset):
    dataset, _ = tiny_dataset("video-recommendation")
    shutil.rmtree(dataset_directory(dataset))
    Dataset.objects.filter(pk=dataset.pk).update(fingerprint="f" * 64)
    dataset.refresh_from_db()
    with pytest.raises(DatasetMismatch):
        heldout_load(dataset=dataset)


def test_training_file_path_refuses_anything_but_training_files(tiny_dataset):
    dataset, _ = tiny_dataset("video-recommendation")
    for name in ("labels.npy", "../heldout/labels.npy", "heldout/features.parquet",
                 "FINGERPRINT"):
        with pytest.raises(FileNotFoundError):
            training_file_path(dataset=dataset, name=name)


def test_every_catalogue_case_study_has_a_generator(catalogue):
    from grading import datasets

    assert set(CaseStudy.objects.values_list("slug", flat=True)) == set(datasets.CASE_SLUGS)
    for case in CaseStudy.objects.all():
        spec = datasets.dataset_spec(case.slug)
        assert spec.task_type == case.task_type, case.slug


# --- the dataset secret ---------------------------------------------------------------------


def test_the_row_stores_names_of_the_build_never_its_seed_or_secret(tiny_dataset, settings,
                                                                    caplog):
    from django.forms.models import model_to_dict

    from grading.services.datasets import dataset_secret

    caplog.set_level("INFO", logger="grading.services.datasets")
    dataset, built = tiny_dataset("ad-click-prediction")
    secret = dataset_secret()
    assert "seed" not in {field.name for field in Dataset._meta.get_fields()}
    assert dataset.key_id == secret.key_id and dataset.dataset_id == built.dataset_id
    assert dataset.data_version == 1
    stored = " ".join(str(value) for value in model_to_dict(dataset).values())
    shown = " ".join([stored, str(dataset), str(dataset_directory(dataset)), caplog.text])
    assert dataset.dataset_id in str(dataset_directory(dataset))
    assert dataset.dataset_id in caplog.text
    assert str(built.seed) not in shown and settings.DATASET_SECRET not in shown


def test_a_new_version_draws_new_data_and_older_scores_keep_theirs(tiny_dataset, scored):
    from grading.services.datasets import dataset_build
    from interviews.tests.factories import candidate

    submission = scored("food-delivery-time", candidate(), public=5.0, private=5.1)
    first = Dataset.objects.get(case_study__slug="food-delivery-time")
    second, built = dataset_build(case_study=first.case_study, size="tiny", new_version=True)
    first.refresh_from_db()
    assert second.data_version == 2 and second.is_active and not first.is_active
    assert second.fingerprint != first.fingerprint and second.dataset_id != first.dataset_id
    assert dataset_directory(second) != dataset_directory(first)
    assert submission.scores.get().dataset == first
    # Building without --new-version rebuilds the latest version: the same rows.
    again, _ = dataset_build(case_study=first.case_study, size="tiny")
    assert again.pk == second.pk and again.fingerprint == built.fingerprint


def test_a_machine_with_another_secret_refuses_even_with_the_files_here(tiny_dataset,
                                                                       settings):
    from grading.datasets import DatasetSecret
    from grading.services.datasets import DatasetSecretDiffers, dataset_build

    dataset, _ = tiny_dataset("feed-ranking")
    other = DatasetSecret.generate()
    settings.DATASET_SECRET = other.key.decode()
    with pytest.raises(DatasetSecretDiffers, match="dataset secret differs") as refused:
        heldout_load(dataset=dataset)
    assert dataset.key_id in str(refused.value) and other.key_id in str(refused.value)
    with pytest.raises(DatasetSecretDiffers):  # nor does it add rows to that version
        dataset_build(case_study=dataset.case_study, size="default")
    assert isinstance(refused.value, DatasetMismatch)


def test_data_from_before_secrets_is_never_rebuilt_and_a_new_version_replaces_it(
        tiny_dataset):
    from grading.services.datasets import DatasetSecretDiffers, dataset_build

    dataset, _ = tiny_dataset("video-recommendation")
    Dataset.objects.filter(pk=dataset.pk).update(key_id="legacy", dataset_id="legacy-1")
    dataset.refresh_from_db()
    with pytest.raises(DatasetSecretDiffers, match="--new-version"):
        heldout_load(dataset=dataset)
    with pytest.raises(DatasetSecretDiffers):
        dataset_build(case_study=dataset.case_study, size="tiny")
    fresh, _ = dataset_build(case_study=dataset.case_study, size="tiny", new_version=True)
    assert fresh.data_version == 2 and fresh.is_active
    assert heldout_load(dataset=fresh).labels.size == fresh.heldout_rows


@pytest.mark.parametrize("text", ["", "too-short-to-be-a-secret"])
def test_no_build_without_a_usable_secret(catalogue, data_dirs, settings, text):
    from grading.services.datasets import DatasetSecretMissing, dataset_build

    settings.DATASET_SECRET = text
    case_study = CaseStudy.objects.get(slug="food-delivery-time")
    with pytest.raises(DatasetSecretMissing, match="MLSD_DATASET_SECRET") as refused:
        dataset_build(case_study=case_study, size="tiny")
    assert not Dataset.objects.exists()
    if text:
        assert text not in str(refused.value)


def test_a_worker_writes_the_sandbox_columns_once_per_dataset_and_contract(tiny_dataset):
    from grading.engine.sandbox.features import FeatureColumns
    from grading.selectors.datasets import scoring_task_for

    dataset, built = tiny_dataset("food-delivery-time")
    contract = scoring_task_for(dataset.case_study).contract
    first = heldout_load(dataset=dataset, contract=contract)
    assert isinstance(first.features, FeatureColumns)
    assert len(first.features) == len(built.heldout_labels)
    files = {p.name: p.stat().st_mtime_ns for p in first.features.path.iterdir()}
    second = heldout_load(dataset=dataset, contract=contract)
    assert second.features == first.features
    assert {p.name: p.stat().st_mtime_ns for p in second.features.path.iterdir()} == files
    np.testing.assert_array_equal(second.labels, built.heldout_labels)
