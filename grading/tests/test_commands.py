import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from grading.tests.conftest import train_example_model
from grading.tests.hostile import malicious_pickle

pytestmark = pytest.mark.django_db


def test_build_datasets_builds_every_case_study(catalogue, data_dirs, capsys):
    call_command("build_datasets", "--size", "tiny")
    out = capsys.readouterr().out
    from grading.models import Dataset

    assert Dataset.objects.filter(is_active=True).count() == 5
    assert out.count("fingerprint") == 5


def test_score_prints_metrics_as_json(tiny_dataset, tmp_path, capsys):
    _, built = tiny_dataset("ad-click-prediction")
    model = train_example_model(built, tmp_path / "work")
    call_command("score", str(model), "--case", "ad-click-prediction")
    report = json.loads(capsys.readouterr().out)
    assert report["primary_metric"] == "log_loss"
    assert 0 < report["metrics"]["private"]["log_loss"] < 1
    assert "roc_auc" in report["metrics"]["public"]
    assert "plots" not in report


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
