"""The ``mlsd`` command line, as a user runs it: the ``mlsd.pyz`` the site serves, in a
subprocess, against a live server and a real Celery worker scoring in the sandbox; then the
API page's notebook example, with the installed wheel."""

import json
import os
import stat
import subprocess
import sys
import urllib.request
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.models import Score, Submission
from grading.tests.conftest import train_example_model
from grading.tests.hostile import malicious_pickle
from interviews.tests.factories import candidate
from mlsd_site.tokens import token_create

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG = "ad-click-prediction"


def test_the_command_line_logs_in_downloads_validates_submits_and_shows_the_scores(
        tiny_dataset, tmp_path, live_server, celery_worker_process, client):
    _, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "train")
    user = candidate(username="ada")
    secret = token_create(user=user, name="laptop", scopes=["read", "submit"], days=7).secret
    pyz = tmp_path / "mlsd.pyz"
    with urllib.request.urlopen(f"{live_server.url}/api/mlsd.pyz") as response:  # noqa: S310
        pyz.write_bytes(response.read())
    work = tmp_path / "work"
    work.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLSD_TOKEN", "MLSD_SERVER", "MLSD_CONFIG"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")

    def mlsd(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(pyz), *args], capture_output=True,
                              text=True, env=env, cwd=work, timeout=300)

    login = mlsd("login", "--server", live_server.url, "--token", secret)
    assert login.returncode == 0, login.stderr
    assert "as ada (candidate) with the token 'laptop': read, submit" in login.stdout
    config = tmp_path / "config" / "mlsd" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert json.loads(config.read_text()) == {"server": live_server.url, "token": secret}

    cases = json.loads(mlsd("cases", "--json").stdout)
    assert any(case["slug"] == SLUG and case["remaining_today"] == 5 for case in cases)

    download = mlsd("download", SLUG)
    assert download.returncode == 0, download.stderr
    assert (work / f"{SLUG}-train.parquet").stat().st_size > 0
    assert (work / f"{SLUG}-data_dictionary.json").exists()

    validate = mlsd("validate", SLUG, str(model))  # finds the downloaded parquet itself
    assert validate.returncode == 0, validate.stderr
    assert "OK: the server will accept this model." in validate.stdout
    assert "predictions on 1000 rows" in validate.stdout or "predictions on" in validate.stdout

    submit = mlsd("submit", SLUG, str(model), "--wait", "--poll", "0.5", "--note", "cli")
    assert submit.returncode == 0, submit.stdout + submit.stderr + \
        celery_worker_process.log_path.read_text()[-3000:]
    assert "Uploading model.onnx" in submit.stderr and "100%" in submit.stderr
    assert "Queued: position 1" in submit.stdout or "Scoring…" in submit.stdout
    submission = Submission.objects.get(candidate=user)
    assert submission.status == "scored" and submission.note == "cli"
    score = Score.objects.get(submission=submission, is_current=True)
    assert "Scores on the public split, rounded to 4 decimals" in submit.stdout
    assert f"{round(score.public_primary, 4):.4f}" in submit.stdout
    assert f"{score.private_primary:.4f}" not in submit.stdout or (
        round(score.private_primary, 4) == round(score.public_primary, 4))

    # A pickle: refused before it counts, with the upload page's own message, exit 2.
    pickled = work / "model.pkl.onnx"
    pickled.write_bytes(malicious_pickle(tmp_path / "marker"))
    client.force_login(user)
    page = client.post(f"/case-studies/{SLUG}/submit/",
                       {"artifact": SimpleUploadedFile("model.onnx", pickled.read_bytes())},
                       headers={"HX-Request": "true"})
    page_message = unescape(page.content.decode()).split(">", 1)[1].split("</p>", 1)[0].strip()
    refused = mlsd("submit", SLUG, str(pickled), "--wait")
    assert refused.returncode == 2
    assert page_message and page_message in refused.stderr
    assert "[refused: pickle]" in refused.stderr
    refused_json = json.loads(mlsd("submit", SLUG, str(pickled), "--json").stdout)
    assert refused_json == {"code": "pickle", "reason": "invalid_artifact",
                            "message": page_message}

    status = json.loads(mlsd("status", "--json").stdout)
    assert [(row["uuid"], row["status"]) for row in status] == [(str(submission.uuid),
                                                                  "scored")]
    detail = mlsd("status", str(submission.uuid))
    assert "scored" in detail.stdout and submission.get_absolute_url() in detail.stdout
    board = mlsd("leaderboard", SLUG)
    assert board.returncode == 0 and "ada (you)" in board.stdout

    # A revoked token: the next command is refused and says why.
    from mlsd_site.tokens import token_revoke

    token_revoke(user=user, token_id=user.api_tokens.get().pk)
    after = mlsd("cases")
    assert after.returncode == 3 and "was revoked" in after.stderr


def test_the_api_pages_notebook_example_runs_with_the_installed_wheel(
        tiny_dataset, tmp_path, live_server, celery_worker_process):
    tiny_dataset(SLUG)
    user = candidate(username="nora")
    secret = token_create(user=user, name="notebook", scopes=["read", "submit"], days=7).secret
    with urllib.request.urlopen(f"{live_server.url}/api/") as response:  # noqa: S310
        html = unescape(response.read().decode())
    example = html.split('data-testid="notebook-example"', 1)[1].split("<code>", 1)[1]
    example = example.split("</code>", 1)[0]
    assert 'os.environ["MLSD_TOKEN"] = "mlsd_..."' in example
    example = example.replace('"mlsd_..."', json.dumps(secret))
    # pip install the wheel the page links to, offline, into a folder of its own.
    site = tmp_path / "site"
    with urllib.request.urlopen(f"{live_server.url}/api/mlsd-1.0.0-py3-none-any.whl"  # noqa: S310
                                ) as response:
        wheel = tmp_path / "mlsd-1.0.0-py3-none-any.whl"
        wheel.write_bytes(response.read())
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                                "--no-index", "--target", str(site), str(wheel)],
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr
    assert (site / "bin" / "mlsd").exists()
    notebook = tmp_path / "notebook"
    notebook.mkdir()
    (notebook / "notebook.py").write_text(example)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLSD_")}
    env.update(PYTHONPATH=str(site), XDG_CONFIG_HOME=str(tmp_path / "config"))
    run = subprocess.run([sys.executable, "notebook.py"], cwd=notebook, capture_output=True,
                         text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    submission = Submission.objects.get(candidate=user)
    assert submission.status == "scored" and submission.note == "from a notebook"
    score = Score.objects.get(submission=submission, is_current=True)
    printed = run.stdout.strip().splitlines()[-1]
    assert printed.startswith("{") and f"{round(score.public_primary, 4)}" in printed
