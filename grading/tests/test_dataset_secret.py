"""Held-out data that needs the deployment's dataset secret (issue 13).

The repository is public: before this, every dataset came from a committed seed and anyone
could rebuild the held-out labels and the public/private split. Here:

* the repository alone (no secret, the old committed seed, or any secret one could guess
  from what is committed) gives labels and a split no closer to the server's than chance;
* every random draw depends on the secret, and two workers with the same secret rebuild
  byte-identical data while a worker with another one refuses and scores nothing;
* production without a secret refuses to build, and ``check --deploy`` says so;
* no committed text file carries a secret or a seed that rebuilds data.
"""

from __future__ import annotations

import math
import os
import re
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.datasets import (
    CASE_SLUGS,
    DatasetSecret,
    DatasetSecretInvalid,
    build_dataset,
    build_dataset_from_seed,
    dataset_spec,
)
from grading.datasets.assemble import public_mask
from grading.tests.dataset_secrets import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]

#: What the server uses: random, as a deployment's is.
SERVER = DatasetSecret.generate()
#: The seed the repository committed (docs, Makefile, code) before datasets had a secret.
OLD_COMMITTED_SEED = 20261129
#: Keys an attacker would try from what is committed: empty and default strings, the old
#: seed, the test settings' and the development SECRET_KEY. Built with ``DatasetSecret(key)``,
#: skipping the length check, as an attacker's own code would.
GUESSED_KEYS = (
    b"", b"default", b"secret", b"changeme", b"mlsd", b"mlsd-mock",
    str(OLD_COMMITTED_SEED).encode(),
    b"test-only-secret-key-not-used-anywhere-else-0123456789",
    b"django-insecure-development-key-do-not-use-in-production",
)
#: Farther than this many standard errors from chance would be information about the server's
#: data. Measured over 30 pairs of random secrets per case, |z| stayed below 2 (labels below 1).
Z_MAX = 5.0


def attacker_builds(slug: str):
    """Every build of ``slug`` (tiny) someone with the repository alone can make."""
    yield "the old committed seed", build_dataset_from_seed(
        slug, seed=OLD_COMMITTED_SEED, size="tiny")
    yield "seed 0", build_dataset_from_seed(slug, seed=0, size="tiny")
    for key in GUESSED_KEYS:
        for data_version in (1, 2):
            yield (f"secret {key!r} v{data_version}",
                   build_dataset(slug, secret=DatasetSecret(key), data_version=data_version,
                                 size="tiny"))


def agreement_z(a: np.ndarray, b: np.ndarray) -> float:
    """How many standard errors the share of equal entries of ``a`` and ``b`` (aligned, over
    the shorter length) lies above chance: two independent draws with these value
    frequencies agree with probability sum_v P_a(v) P_b(v) (for a 2 % base rate, 96 %)."""
    n = min(len(a), len(b))
    a, b = np.asarray(a[:n]), np.asarray(b[:n])
    chance = sum(float((a == v).mean() * (b == v).mean()) for v in np.union1d(a, b))
    return (float((a == b).mean()) - chance) / math.sqrt(chance * (1 - chance) / n)


def minutes_residual(built) -> np.ndarray:
    """Delivery minutes less their mean per hour of day: rows are ordered by time, and the
    dinner rush (public structure, not the server's rows) would correlate any two builds."""
    minutes = pd.Series(built.heldout_labels.astype(np.float64))
    hour = built.heldout_features["hour"].to_numpy()
    return (minutes - minutes.groupby(hour).transform("mean")).to_numpy()


def per_group(built, values: np.ndarray) -> np.ndarray:
    """One value per group (grouped tasks are split by group), in row order."""
    if built.heldout_groups is None:
        return np.asarray(values)
    groups = built.heldout_groups
    return np.asarray(values)[np.r_[True, groups[1:] != groups[:-1]]]


# --- (a) the repository alone ----------------------------------------------------------------


@pytest.mark.parametrize("slug", CASE_SLUGS)
def test_the_repository_alone_rebuilds_neither_the_heldout_labels_nor_the_split(slug):
    server = build_dataset(slug, secret=SERVER, size="tiny")
    with pytest.raises(TypeError):  # no secret, no build
        build_dataset(slug, secret=None, size="tiny")
    for label, guess in attacker_builds(slug):
        assert guess.fingerprint != server.fingerprint, label
        n = min(len(server.heldout_labels), len(guess.heldout_labels))
        assert not np.array_equal(server.heldout_labels[:n], guess.heldout_labels[:n]), label
        if server.spec.task_type == "regression":
            r = float(np.corrcoef(minutes_residual(server)[:n], minutes_residual(guess)[:n])[0, 1])
            assert abs(r) < Z_MAX / math.sqrt(n), (label, r)
        else:  # binary and graded labels: agreement at the chance level of the base rates
            z = agreement_z(server.heldout_labels, guess.heldout_labels)
            assert abs(z) < Z_MAX, (label, z)
        ours, theirs = per_group(server, server.heldout_public), per_group(guess,
                                                                          guess.heldout_public)
        m = min(len(ours), len(theirs))
        assert not np.array_equal(ours[:m], theirs[:m]), label
        assert abs(agreement_z(ours, theirs)) < Z_MAX, label


@pytest.mark.parametrize("grouped", [False, True])
def test_a_guessed_seed_splits_public_and_private_no_better_than_chance(grouped):
    """The split alone, at a size where a leak of a few percent would show: 100,000 rows, or
    10,000 groups of 10 (the tiny builds have as few as 20 groups)."""
    spec = dataset_spec("video-recommendation" if grouped else "ad-click-prediction")
    groups = np.repeat(np.arange(10_000), 10) if grouped else None
    rows = 100_000
    key = {"case_slug": spec.case_slug, "generator_version": spec.generator_version,
           "size": "tiny", "data_version": 1}
    server = public_mask(spec, SERVER.seed(**key), rows, groups)
    guesses = [OLD_COMMITTED_SEED, 0] + [DatasetSecret(k).seed(**key) for k in GUESSED_KEYS]
    for seed in guesses:
        guess = public_mask(spec, seed, rows, groups)
        step = 10 if grouped else 1
        assert abs(agreement_z(server[::step], guess[::step])) < Z_MAX, seed
    assert abs(agreement_z(server, public_mask(spec, SERVER.seed(**key), rows, groups))) > 100


#: Columns that are not drawn: video requests are numbered 1, 2, ... in time order, the same
#: in any two builds unless a duplicate candidate was dropped (it says nothing about a row).
COUNTERS = {"train.request_id", "meta.request_id"}


@pytest.mark.parametrize("slug", CASE_SLUGS)
def test_every_random_draw_depends_on_the_secret(slug):
    """World parameters, rows, label noise and the split: two secrets share no drawn column."""
    a = build_dataset(slug, secret=DatasetSecret.generate(), size="tiny")
    b = build_dataset(slug, secret=DatasetSecret.generate(), size="tiny")
    parts = [(f"train.{c}", a.train[c], b.train[c]) for c in a.train.columns]
    parts += [(f"features.{c}", a.heldout_features[c], b.heldout_features[c])
              for c in a.heldout_features.columns]
    parts += [(f"meta.{c}", a.heldout_meta[c], b.heldout_meta[c]) for c in a.heldout_meta.columns]
    parts += [("labels", a.heldout_labels, b.heldout_labels),
              ("slices", a.heldout_slices, b.heldout_slices),
              ("public", a.heldout_public, b.heldout_public)]
    if a.heldout_groups is not None:
        parts.append(("groups", a.heldout_groups, b.heldout_groups))
    for name, x, y in parts:
        if name not in COUNTERS:
            assert not np.array_equal(np.asarray(x), np.asarray(y)), name


def test_the_seed_names_case_generator_size_and_data_version():
    key = {"case_slug": "feed-ranking", "generator_version": 1, "size": "tiny",
           "data_version": 1}
    seeds = {SERVER.seed(**key)}
    for change in ({"case_slug": "ad-click-prediction"}, {"generator_version": 2},
                   {"size": "default"}, {"data_version": 2}):
        seeds.add(SERVER.seed(**{**key, **change}))
    assert len(seeds) == 5
    assert all(seed.bit_length() > 200 for seed in seeds)
    assert SERVER.dataset_id(**key) != DatasetSecret.generate().dataset_id(**key)
    assert str(SERVER.seed(**key)) not in repr(SERVER) and SERVER.key_id in repr(SERVER)


@pytest.mark.parametrize("text", ["", "short", "0" * 64, "ab" * 40])
def test_a_weak_secret_is_refused_without_repeating_it(text):
    with pytest.raises(DatasetSecretInvalid) as refused:
        DatasetSecret.from_text(text)
    if text:
        assert text not in str(refused.value)


# --- (b) and (c): real workers ---------------------------------------------------------------

SLUG = "food-delivery-time"


def _wait_for_final(submission, worker, timeout: float = 120.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission.refresh_from_db()
        if submission.is_final:
            return submission
        assert worker.poll() is None, worker.log_path.read_text()[-4000:]
        time.sleep(0.25)
    pytest.fail("timed out; worker log:\n" + worker.log_path.read_text()[-4000:])


def _upload(candidate, case_study, model: Path):
    from grading.services.submissions import submission_create

    return submission_create(candidate=candidate, case_study=case_study,
                             upload=SimpleUploadedFile("model.onnx", model.read_bytes()))


def _stop(worker) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=30)


def _heldout_files(private_root: Path, dataset) -> dict[str, bytes]:
    directory = private_root / "datasets" / dataset.storage_key
    files = {"FINGERPRINT": (directory / "FINGERPRINT").read_bytes()}
    for path in sorted((directory / "heldout").iterdir()):
        files[path.name] = path.read_bytes()
    return files


@pytest.mark.services
@pytest.mark.slow
def test_two_workers_with_the_same_secret_rebuild_byte_identical_data(
        tiny_dataset, tmp_path, settings, celery_workers):
    from grading.models import Score
    from grading.tests.conftest import train_example_model
    from interviews.tests.factories import candidate

    dataset, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "work")
    user = candidate(username="ada")
    server_files = _heldout_files(Path(settings.PRIVATE_DATA_ROOT), dataset)
    # One worker after the other, so each surely rebuilds the data in its own folder.
    rebuilt = []
    for number in (1, 2):
        worker = celery_workers(queue="scoring")
        submission = _wait_for_final(_upload(user, dataset.case_study, model), worker)
        assert submission.status == "scored", submission.failure_message
        log = worker.log_path.read_text()
        assert "fingerprint verified" in log and f"key id {dataset.key_id}" in log
        _stop(worker)
        rebuilt.append(_heldout_files(tmp_path / f"worker-private-{number}", dataset))
    assert rebuilt[0] == rebuilt[1] == server_files
    assert rebuilt[0]["FINGERPRINT"].decode() == dataset.fingerprint
    scores = Score.objects.filter(submission__candidate=user)
    assert scores.count() == 2
    assert len({s.private_primary for s in scores}) == 1  # same rows, same model, same score


@pytest.mark.services
@pytest.mark.slow
def test_a_worker_with_another_secret_says_so_and_scores_nothing(
        tiny_dataset, tmp_path, celery_workers):
    from grading.models import Score
    from grading.tests.conftest import train_example_model
    from interviews.tests.factories import candidate

    dataset, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "work")
    other = DatasetSecret.generate()
    worker = celery_workers(queue="scoring", env={"MLSD_DATASET_SECRET": other.key.decode()})
    submission = _wait_for_final(_upload(candidate(username="eve"), dataset.case_study, model),
                                 worker)
    assert submission.status == "failed" and submission.failure_reason == "internal_error"
    assert not Score.objects.filter(submission=submission).exists()
    log = worker.log_path.read_text()
    assert "dataset secret differs" in log
    assert dataset.key_id in log and other.key_id in log
    assert not (tmp_path / "worker-private-1" / "datasets").exists()  # built nothing


# --- (d) production without a secret -----------------------------------------------------------

NO_SECRET = {"MLSD_DATASET_SECRET": "", "MLSD_DATASET_SECRET_FILE": ""}


def test_production_without_a_secret_refuses_to_build_but_the_site_starts():
    from mlsd_site.tests.test_security import PRODUCTION_ENV, run_manage

    env = {**PRODUCTION_ENV, **NO_SECRET}
    built = run_manage("build_datasets", "--case", SLUG, "--size", "tiny", env=env)
    assert built.returncode != 0
    assert "No dataset secret is configured" in built.stderr
    assert "MLSD_DATASET_SECRET" in built.stderr
    assert run_manage("check", env=env).returncode == 0  # the web process itself starts


def test_check_deploy_reports_a_missing_or_weak_secret():
    from mlsd_site.tests.test_security import PRODUCTION_ENV, run_manage

    missing = run_manage("check", "--deploy", env={**PRODUCTION_ENV, **NO_SECRET})
    assert missing.returncode != 0 and "grading.E001" in missing.stderr + missing.stdout
    weak = "0123456789" * 2
    result = run_manage("check", "--deploy", env={**PRODUCTION_ENV, **NO_SECRET,
                                                  "MLSD_DATASET_SECRET": weak})
    output = result.stderr + result.stdout
    assert result.returncode != 0 and "grading.E002" in output and weak not in output


@pytest.mark.django_db
def test_without_a_secret_nothing_is_built_or_rebuilt(tiny_dataset, settings):
    from grading.services.datasets import DatasetSecretMissing, dataset_build, heldout_load

    dataset, _ = tiny_dataset(SLUG)
    settings.DEBUG = False
    settings.DATASET_SECRET = ""
    with pytest.raises(DatasetSecretMissing, match="MLSD_DATASET_SECRET"):
        dataset_build(case_study=dataset.case_study, size="tiny")
    with pytest.raises(DatasetSecretMissing):
        heldout_load(dataset=dataset)  # even with the files on this machine


# --- (e) nothing committed rebuilds the data ---------------------------------------------------

SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__", ".ruff_cache",
                ".pytest_cache", ".import_linter_cache", ".grimp_cache", "test-results",
                "vendor", "media", "private"}
TEXT_SUFFIXES = {".md", ".json", ".html", ".txt", ".yml", ".yaml", ".toml", ".cfg", ".ini",
                 ".css", ".js", ".svg", ".sh", ".lock", ".py"}
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".dockerignore", ".gitignore"}
TEST_FILES = {"conftest.py", "mlsd_site/test_settings.py"}


def committed_text_files() -> list[Path]:
    """Docs, fixtures, templates, settings, build files and product code. Test code is left
    out: it holds the tests' own secrets and the old seed on purpose."""
    found = []
    for directory, subdirs, names in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
        relative = Path(directory).relative_to(ROOT)
        if "tests" in relative.parts:
            continue
        for name in names:
            path = Path(directory) / name
            is_text = path.suffix in TEXT_SUFFIXES or name in TEXT_NAMES
            if is_text and path.relative_to(ROOT).as_posix() not in TEST_FILES:
                found.append(path)
    return found


def test_no_committed_file_holds_a_secret_or_a_seed_that_rebuilds_data(settings):
    files = committed_text_files()
    names = {p.relative_to(ROOT).as_posix() for p in files}
    assert {"README.md", "docs/datasets.md", "mlsd_site/settings.py", "Makefile",
            "docker/compose.yml", "grading/datasets/spec.py"} <= names
    secrets_used = {settings.DATASET_SECRET, TEST_SECRET.key.decode()}
    # In docs, fixtures and templates, a seed next to a number ("seed 20261129", "--seed=7",
    # "seed: 42", a table of fingerprints with their seed) would let a reader rebuild the
    # rows it describes. (Code has seeds of its own, for benchmarks' request mixes.)
    printed_seed = re.compile(r"\bseed\b\W{0,4}\d{2,}", re.IGNORECASE)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(ROOT)
        for value in secrets_used:
            assert value not in text, f"{where} holds a dataset secret the tests use"
        assert str(OLD_COMMITTED_SEED) not in text, f"{where} holds the old committed seed"
        assert "DEFAULT_SEED" not in text, where
        if path.suffix != ".py":
            found = printed_seed.search(text)
            assert found is None, (where, found and found.group())
