import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from grading.tests.conftest import train_example_model
from grading.tests.dataframe_models import dataframe_pipeline_skops
from grading.tests.hostile import malicious_pickle

pytestmark = pytest.mark.django_db


def test_build_datasets_builds_every_case_study(catalogue, data_dirs, capsys, settings):
    call_command("build_datasets", "--size", "tiny")
    out = capsys.readouterr().out
    from grading.models import Dataset
    from grading.services.datasets import dataset_secret

    assert Dataset.objects.filter(is_active=True).count() == 5
    assert out.count("fingerprint") == 5
    secret = dataset_secret()
    for dataset in Dataset.objects.select_related("case_study"):
        assert f"data v1 (id {dataset.dataset_id}, secret key id {secret.key_id})" in out
        seed = secret.seed(case_slug=dataset.case_study.slug, size="tiny", data_version=1,
                           generator_version=dataset.generator_version)
        assert str(seed) not in out  # what is printed does not rebuild the data
    assert settings.DATASET_SECRET not in out


def test_build_datasets_new_version_rotates_the_data(catalogue, data_dirs, capsys):
    from grading.models import Dataset

    call_command("build_datasets", "--case", "feed-ranking", "--size", "tiny")
    first = Dataset.objects.get(is_active=True)
    call_command("build_datasets", "--case", "feed-ranking", "--size", "tiny", "--new-version")
    assert "feed-ranking: data v2" in capsys.readouterr().out
    second = Dataset.objects.get(is_active=True)
    assert second.data_version == 2 and second.fingerprint != first.fingerprint
    assert Dataset.objects.count() == 2  # the old version stays for the scores on it


def test_build_datasets_if_missing_keeps_its_own_data_and_replaces_data_from_before_secrets(
        catalogue, data_dirs, capsys):
    from grading.models import Dataset

    call_command("build_datasets", "--case", "ad-click-prediction", "--size", "tiny")
    call_command("build_datasets", "--case", "ad-click-prediction", "--size", "tiny",
                 "--if-missing")
    assert "ad-click-prediction: data already built" in capsys.readouterr().out
    Dataset.objects.update(key_id="legacy")
    call_command("build_datasets", "--case", "ad-click-prediction", "--size", "tiny",
                 "--if-missing")
    assert "built before dataset secrets" in capsys.readouterr().out
    assert Dataset.objects.get(is_active=True).data_version == 2
    Dataset.objects.filter(is_active=True).update(key_id="0123456789ab")
    with pytest.raises(CommandError, match="key id is 0123456789ab"):
        call_command("build_datasets", "--case", "ad-click-prediction", "--size", "tiny",
                     "--if-missing")


def test_build_datasets_without_a_secret_says_how_to_set_one(catalogue, data_dirs, settings):
    from grading.models import Dataset

    settings.DATASET_SECRET = ""
    with pytest.raises(CommandError, match="MLSD_DATASET_SECRET"):
        call_command("build_datasets", "--size", "tiny")
    assert not Dataset.objects.exists()


def test_score_refuses_on_a_machine_with_another_secret(tiny_dataset, tmp_path, settings):
    from grading.datasets import DatasetSecret

    tiny_dataset("ad-click-prediction")
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    settings.DATASET_SECRET = DatasetSecret.generate().key.decode()
    with pytest.raises(CommandError, match="dataset secret differs"):
        call_command("score", str(model), "--case", "ad-click-prediction")


def test_score_prints_metrics_as_json(tiny_dataset, tmp_path, capsys):
    _, built = tiny_dataset("ad-click-prediction")
    model = train_example_model(built, tmp_path / "work")
    call_command("score", str(model), "--case", "ad-click-prediction", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["primary_metric"] == "log_loss"
    assert 0 < report["metrics"]["private"]["log_loss"] < 1
    assert "roc_auc" in report["metrics"]["public"]
    assert "plots" not in report


def test_score_scores_a_skops_pipeline_fitted_on_the_training_dataframe(tiny_dataset, tmp_path,
                                                                        capsys):
    """Once refused as resource_limit/memory: its child's address space, not its resident
    memory, was over the limit (issue 14)."""
    _, built = tiny_dataset("ad-click-prediction")
    model = tmp_path / "pipeline.skops"
    dataframe_pipeline_skops(built, model)
    call_command("score", str(model), "--case", "ad-click-prediction", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["artifact_format"] == "skops"
    assert 0 < report["metrics"]["private"]["log_loss"] < 1


def test_score_refuses_a_pickle_with_a_clear_error_and_exit_code(tiny_dataset, tmp_path):
    tiny_dataset("ad-click-prediction")
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.pkl"
    evil.write_bytes(malicious_pickle(marker))
    with pytest.raises(SystemExit) as exit_info:
        call_command("score", str(evil), "--case", "ad-click-prediction")
    assert exit_info.value.code == 2
    assert not marker.exists()


def test_score_names_the_known_case_studies_when_the_slug_is_wrong(catalogue, tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(CommandError, match="Known: video-recommendation"):
        call_command("score", str(model), "--case", "no-such-case")


def test_score_says_how_to_build_missing_data(catalogue, data_dirs, tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    with pytest.raises(CommandError, match="build_datasets --case feed-ranking"):
        call_command("score", str(model), "--case", "feed-ranking")


def test_downloaded_validator_accepts_a_good_model_and_refuses_a_pickle(tiny_dataset, tmp_path,
                                                                       client):
    from interviews.tests.factories import candidate

    _, built = tiny_dataset("rental-search-ranking")
    client.force_login(candidate())
    response = client.get("/case-studies/rental-search-ranking/validator.pyz")
    assert response.status_code == 200
    validator = tmp_path / "mlsd-validate.pyz"
    validator.write_bytes(response.content)
    model = train_example_model(built, tmp_path / "work")

    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    ok = subprocess.run([sys.executable, str(validator), str(model),
                         str(tmp_path / "work" / "train.parquet")],
                        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "OK: the server will accept this model." in ok.stdout

    evil = tmp_path / "model.onnx"
    evil.write_bytes(malicious_pickle(tmp_path / "pwned"))
    refused = subprocess.run([sys.executable, str(validator), str(evil)], capture_output=True,
                             text=True, env=env, cwd=tmp_path, timeout=120)
    assert refused.returncode == 2
    assert "REFUSED (invalid_artifact)" in refused.stderr and "pickle" in refused.stderr
    assert not (tmp_path / "pwned").exists()


def test_baselines_are_trained_exported_scored_and_kept_on_the_leaderboard(catalogue,
                                                                           data_dirs):
    from grading.models import LeaderboardEntry, Submission

    call_command("build_datasets", "--case", "food-delivery-time", "--size", "tiny",
                 "--baselines")
    baselines = Submission.objects.filter(case_study__slug="food-delivery-time")
    assert sorted(baselines.values_list("baseline_name", flat=True)) == ["reasonable",
                                                                          "trivial"]
    assert set(baselines.values_list("status", flat=True)) == {"scored"}
    assert set(baselines.values_list("artifact_format", flat=True)) == {"onnx"}
    entries = LeaderboardEntry.objects.filter(is_baseline=True)
    assert entries.count() == 2
    by_name = {e.display_name: e.private_primary for e in entries}
    assert by_name["reasonable"] < by_name["trivial"]  # rmse: the reasonable one is better
    # Running it again replaces the baselines instead of adding more.
    call_command("build_datasets", "--case", "food-delivery-time", "--size", "tiny",
                 "--baselines")
    assert LeaderboardEntry.objects.filter(is_baseline=True).count() == 2


def test_the_validator_counts_a_one_row_request_as_one_row_and_reports_peak_memory(
        tiny_dataset, tmp_path, client):
    """food-delivery-time times requests of one order: "1 row", not "1 rows"."""
    from interviews.tests.factories import candidate

    _, built = tiny_dataset("food-delivery-time")
    assert built.spec.request_rows == 1
    client.force_login(candidate())
    validator = tmp_path / "mlsd-validate.pyz"
    validator.write_bytes(client.get("/case-studies/food-delivery-time/validator.pyz").content)
    model = train_example_model(built, tmp_path / "work")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, str(validator), str(model),
                           str(tmp_path / "work" / "train.parquet")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "latency for one request of 1 row: " in done.stdout
    assert "1 rows" not in done.stdout
    assert "MiB resident, of the 1536 MiB limit" in done.stdout
