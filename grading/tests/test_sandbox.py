"""Hostile-artifact tests for the validation + sandbox layer. Plain pytest, no Django.

Run: ``.venv/bin/python -m pytest grading/tests/test_sandbox.py -p no:django -q``

Every hostile case asserts the specific failure reason (and code) *and* that this
process can still score an honest model afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grading.datasets import build_dataset
from grading.engine.artifacts import ArtifactFormat, ArtifactLimits, sniff_format
from grading.engine.contract import InputContract, contract_validate_predictions
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.onnx_checks import check_onnx
from grading.engine.sandbox import SandboxLimits, SandboxResult, failures, run_in_sandbox, runner
from grading.engine.sandbox.limits import MiB
from grading.tests import dataframe_models, hostile
from grading.tests.dataset_secrets import TEST_SECRET
from grading.tests.sandbox_probe import probe_child

N_ROWS = 200
CONTRACT = InputContract(
    columns=(("a", "float32"), ("b", "float32"), ("c", "float32")), task_type="binary"
)
# Short limits keep the suite fast; the production defaults are far looser.
FAST = SandboxLimits(wall_clock_seconds=30, cpu_seconds=20, latency_repeats=5, request_rows=50)


@pytest.fixture(scope="module")
def features_frame() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    frame = pd.DataFrame(rng.normal(size=(N_ROWS, 3)).astype(np.float32), columns=list("abc"))
    # A label column in the file must never reach the child (only contract columns are sent).
    frame["label"] = (frame["a"] > 0).astype(np.int64)
    return frame


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory, features_frame: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("features") / "heldout.parquet"
    features_frame.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def good_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile.good_onnx(tmp_path_factory.mktemp("good") / "good.onnx")


@pytest.fixture
def still_alive(good_model: Path, features: Path, features_frame: pd.DataFrame):
    """Call after a hostile case: an honest model must still score correctly."""

    def check() -> None:
        result = run_in_sandbox(good_model, ArtifactFormat.ONNX, features, CONTRACT, FAST)
        expected = hostile.expected_good_scores(features_frame[list("abc")].to_numpy())
        np.testing.assert_allclose(result.predictions, expected, atol=1e-6)

    return check


def score(path: Path, features: Path, limits: SandboxLimits = FAST, contract=CONTRACT):
    return run_in_sandbox(path, None, features, contract, limits)


def expect_failure(
    path: Path,
    features: Path,
    reason: FailureReason,
    code: str | None = None,
    limits: SandboxLimits = FAST,
) -> ScoringError:
    with pytest.raises(ScoringError) as info:
        score(path, features, limits)
    error = info.value
    assert error.reason == reason, error
    if code is not None:
        assert error.code == code, error
    # Messages are for candidates: no tracebacks, no server paths.
    assert "Traceback" not in error.message
    assert str(path.parent) not in error.message and "/tmp" not in error.message
    return error


# --- pickles: refused by content, whatever the name --------------------------------------


@pytest.mark.parametrize("protocol", [0, 1, 2, 5])
@pytest.mark.parametrize("name", ["m.onnx", "m.skops", "m.pkl", "m.joblib", "m.bin", "model"])
def test_pickle_under_any_name_is_refused(
    tmp_path: Path, features: Path, still_alive, name: str, protocol: int
) -> None:
    marker = tmp_path / "pwned"
    path = hostile.write(tmp_path / name, hostile.malicious_pickle(marker, protocol))
    error = expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.PICKLE)
    assert isinstance(error, ArtifactRejected)
    assert "pickle" in error.message.lower()
    still_alive()
    assert not marker.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_sniff_detects_every_pickle_protocol(tmp_path: Path, protocol: int) -> None:
    from sklearn.linear_model import LogisticRegression

    payloads = [{"coef": [1.0, 2.0]}, np.arange(5.0), LogisticRegression(), "x", None]
    for i, payload in enumerate(payloads):
        path = hostile.write(tmp_path / f"p{i}", pickle.dumps(payload, protocol=protocol))
        with pytest.raises(ArtifactRejected) as info:
            sniff_format(path)
        assert info.value.code == RejectionCode.PICKLE, payload


def test_sniff_detects_uncompressed_joblib(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "model.bin"
    joblib.dump({"weights": np.ones((50, 50))}, path, compress=0)
    with pytest.raises(ArtifactRejected) as info:
        sniff_format(path)
    assert info.value.code == RejectionCode.PICKLE


@pytest.mark.parametrize("method", ["zlib", "gzip", "bz2", "lzma", "xz"])
def test_joblib_compressed_pickle_is_refused(
    tmp_path: Path, features: Path, still_alive, method: str
) -> None:
    marker = tmp_path / "pwned"
    path = hostile.joblib_pickle(marker, tmp_path / "model.onnx", method)
    error = expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.JOBLIB)
    assert "joblib" in error.message
    still_alive()
    assert not marker.exists()


def test_raw_zlib_pickle_and_cloudpickle_are_refused(
    tmp_path: Path, features: Path, still_alive
) -> None:
    marker = tmp_path / "pwned"
    path = hostile.zlib_pickle(marker, tmp_path / "model.skops")
    expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.JOBLIB)
    path = hostile.cloudpickle_function(marker, tmp_path / "model.onnx")
    expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.PICKLE)
    still_alive()
    assert not marker.exists()


# --- skops ---------------------------------------------------------------------------------


def test_skops_with_posix_system_is_refused_naming_the_type(
    tmp_path: Path, features: Path, still_alive
) -> None:
    path = hostile.skops_posix_system(tmp_path / "model.skops")
    error = expect_failure(
        path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.SKOPS_TYPE_REFUSED
    )
    assert "posix.system" in error.message
    assert "ONNX" in error.message
    still_alive()


def test_skops_tree_model_scores_like_scikit_learn(
    tmp_path: Path, features: Path, features_frame: pd.DataFrame, still_alive
) -> None:
    # Tree types are on our allow-list (skops' default trust leaves them out): their node
    # indices are checked before the model predicts (grading/tests/test_skops_allow_list.py).
    import skops.io as sio
    from sklearn.ensemble import GradientBoostingClassifier

    x = features_frame[list("abc")].to_numpy()
    model = GradientBoostingClassifier(n_estimators=5, random_state=0)
    model.fit(x, features_frame["label"])
    path = tmp_path / "gbc.skops"
    sio.dump(model, path)
    result = run_in_sandbox(path, ArtifactFormat.SKOPS, features, CONTRACT, FAST)
    np.testing.assert_allclose(result.predictions, model.predict_proba(x)[:, 1], atol=1e-9)
    still_alive()


# --- ONNX: static refusals ------------------------------------------------------------------


@pytest.mark.parametrize("location", ["/etc/passwd", "../../../../etc/passwd"])
def test_onnx_external_data_is_refused(
    tmp_path: Path, features: Path, still_alive, location: str
) -> None:
    path = hostile.external_data_onnx(tmp_path / "model.onnx", location)
    with pytest.raises(ArtifactRejected) as info:
        check_onnx(path, CONTRACT)
    assert info.value.code == RejectionCode.EXTERNAL_DATA
    expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.EXTERNAL_DATA)
    still_alive()


def test_onnx_custom_operator_domain_is_refused(
    tmp_path: Path, features: Path, still_alive
) -> None:
    path = hostile.custom_op_onnx(tmp_path / "model.onnx")
    error = expect_failure(
        path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.CUSTOM_OPERATOR
    )
    assert "com.evil.ops" in error.message
    still_alive()


def test_onnx_wrong_input_names_are_refused(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.wrong_input_names_onnx(tmp_path / "model.onnx")
    error = expect_failure(
        path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.INPUT_MISMATCH
    )
    assert "'a'" in error.message and "'f0'" in error.message
    still_alive()


def test_truncated_onnx_is_refused(
    tmp_path: Path, features: Path, good_model: Path, still_alive
) -> None:
    path = hostile.truncated(good_model, tmp_path / "model.onnx")
    expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.TRUNCATED)
    still_alive()


# --- other refused files ------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.write(tmp_path / "model.onnx", b"")
    expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.EMPTY)
    still_alive()


def test_zip_bomb_is_refused_before_extraction(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.zip_bomb(tmp_path / "model.skops", megabytes=50)
    assert path.stat().st_size < 1024 * 1024  # 50 MB of zeros in well under 1 MB
    error = expect_failure(path, features, FailureReason.INVALID_ARTIFACT, RejectionCode.ZIP_BOMB)
    assert "zip bomb" in error.message
    still_alive()


def test_zip_total_uncompressed_cap_is_settable(tmp_path: Path) -> None:
    path = hostile.stored_zip(tmp_path / "model.skops", megabytes=2)
    assert sniff_format(path) is ArtifactFormat.SKOPS
    with pytest.raises(ArtifactRejected) as info:
        sniff_format(path, ArtifactLimits(max_uncompressed_bytes=1024 * 1024))
    assert info.value.code == RejectionCode.ZIP_BOMB


@pytest.mark.parametrize(
    ("builder", "code"),
    [
        (hostile.npy_file, RejectionCode.NUMPY),
        (hostile.npz_file, RejectionCode.NUMPY),
        (hostile.plain_zip, RejectionCode.ZIP_NOT_SKOPS),
        (
            lambda p: hostile.write(p, b"just some text, not a model\n"),
            RejectionCode.UNKNOWN_FORMAT,
        ),
        (lambda p: hostile.write(p, os.urandom(4096)), None),
    ],
    ids=["npy", "npz", "zip", "text", "random"],
)
def test_non_model_files_are_refused(tmp_path: Path, builder, code) -> None:
    path = builder(tmp_path / "model.onnx")
    with pytest.raises(ArtifactRejected) as info:
        sniff_format(path)
    if code is not None:
        assert info.value.code == code


def test_oversized_file_is_refused(tmp_path: Path, good_model: Path) -> None:
    limits = ArtifactLimits(max_file_bytes=good_model.stat().st_size - 1)
    with pytest.raises(ArtifactRejected) as info:
        sniff_format(good_model, limits)
    assert info.value.code == RejectionCode.TOO_LARGE


def test_symlink_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "model.onnx"
    link.symlink_to("/etc/passwd")
    with pytest.raises(ArtifactRejected) as info:
        sniff_format(link)
    assert info.value.code == RejectionCode.NOT_A_FILE


# --- ONNX: runtime limits ----------------------------------------------------------------


def test_memory_hog_hits_resource_limit(tmp_path: Path, features: Path, still_alive) -> None:
    """40 GB asked for at once: stopped by the address-space backstop, said as such."""
    path = hostile.memory_hog_onnx(tmp_path / "model.onnx")
    error = expect_failure(path, features, FailureReason.RESOURCE_LIMIT, "memory")
    assert "1536 MiB memory limit" in error.message
    assert f"{FAST.address_space_limit // MiB} MiB cap on reserved memory" in error.message
    still_alive()


def test_model_holding_more_resident_memory_than_the_limit_is_stopped(
        tmp_path: Path, features: Path, still_alive) -> None:
    """~580 MB really written (a filled [12000, 12000] float32 tensor) under a 256 MiB limit,
    far below the address-space backstop: the parent's measurement stops it."""
    path = hostile.memory_hog_onnx(tmp_path / "model.onnx", side=12_000)
    limits = dataclasses.replace(FAST, memory_bytes=256 * MiB, address_space_bytes=8192 * MiB)
    error = expect_failure(path, features, FailureReason.RESOURCE_LIMIT, "memory", limits)
    assert error.message.startswith("Your model needed more than the 256 MiB memory limit: "
                                    "its resident memory reached "), error.message
    reached = float(error.message.split("reached ")[1].split(" MiB")[0])
    assert reached > 256
    still_alive()


@pytest.fixture(scope="module")
def ad_click_tiny():
    return build_dataset("ad-click-prediction", secret=TEST_SECRET, size="tiny")


def test_dataframe_fitted_skops_pipeline_scores_within_the_memory_limit(
        tmp_path: Path, ad_click_tiny) -> None:
    """The issue's model: a ColumnTransformer pipeline fitted on the ad-click DataFrame. Its
    child reserves ~1.6 GB of address space for ~215 MB resident, so an address-space limit
    of 1536 MiB refused it; the resident-memory limit scores it, and says what it used."""
    built = ad_click_tiny
    model = dataframe_models.dataframe_pipeline_skops(built, tmp_path / "pipeline.skops")
    contract = InputContract(columns=built.spec.contract_columns,
                             task_type=built.spec.task_type)
    limits = SandboxLimits(latency_repeats=5, request_rows=built.spec.request_rows)
    assert limits.memory_bytes == 1536 * MiB  # the servers' default
    result = run_in_sandbox(tmp_path / "pipeline.skops", ArtifactFormat.SKOPS,
                            built.heldout_features, contract, limits)
    expected = model.predict_proba(built.heldout_features)[:, 1]
    np.testing.assert_allclose(result.predictions, expected, atol=1e-9)
    assert result.peak_memory_bytes is not None
    assert 50 * MiB < result.peak_memory_bytes < limits.memory_bytes


def test_infinite_loop_hits_cpu_limit(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.infinite_loop_onnx(tmp_path / "model.onnx")
    limits = SandboxLimits(wall_clock_seconds=10, cpu_seconds=2, latency_repeats=1)
    expect_failure(path, features, FailureReason.TIMEOUT, "cpu_limit", limits)
    still_alive()


def test_infinite_loop_hits_wall_clock(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.infinite_loop_onnx(tmp_path / "model.onnx")
    limits = SandboxLimits(wall_clock_seconds=2, cpu_seconds=30, latency_repeats=1)
    expect_failure(path, features, FailureReason.TIMEOUT, "wall_clock", limits)
    still_alive()


# --- ONNX: bad outputs ---------------------------------------------------------------------


@pytest.mark.parametrize("shift", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_outputs_are_invalid(
    tmp_path: Path, features: Path, still_alive, shift: float
) -> None:
    path = hostile.shifted_onnx(tmp_path / "model.onnx", shift)
    expect_failure(path, features, FailureReason.INVALID_OUTPUT, "non_finite")
    still_alive()


def test_probabilities_above_one_are_invalid(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.shifted_onnx(tmp_path / "model.onnx", 1.0)
    expect_failure(path, features, FailureReason.INVALID_OUTPUT, "probability_range")
    still_alive()


def test_wrong_row_count_is_invalid(tmp_path: Path, features: Path, still_alive) -> None:
    path = hostile.wrong_rows_onnx(tmp_path / "model.onnx", rows=3)
    error = expect_failure(path, features, FailureReason.INVALID_OUTPUT, "row_count")
    assert f"3 predictions for {N_ROWS}" in error.message
    still_alive()


def test_prediction_validation_rules() -> None:
    ok = contract_validate_predictions(np.array([[0.2, 0.8], [1.0 + 5e-7, -5e-7]]), 2, "binary")
    np.testing.assert_array_equal(ok, [0.8, 0.0])
    assert ok.dtype == np.float64
    for raw, rows, task, code in [
        (np.zeros((2, 3)), 2, "binary", "shape"),
        (np.zeros((2, 2)), 2, "regression", "shape"),
        (np.array(["a", "b"]), 2, "regression", "dtype"),
        (np.array([0.5]), 2, "binary", "row_count"),
        (np.array([-0.1, 0.5]), 2, "binary", "probability_range"),
    ]:
        with pytest.raises(ScoringError) as info:
            contract_validate_predictions(raw, rows, task)
        assert info.value.reason == FailureReason.INVALID_OUTPUT
        assert info.value.code == code
    # Regression scores are not probabilities: any finite value is fine.
    np.testing.assert_array_equal(
        contract_validate_predictions(np.array([[-3.0], [7.5]]), 2, "regression"), [-3.0, 7.5]
    )


def test_child_signals_map_to_reasons() -> None:
    limits = SandboxLimits(cpu_seconds=5, memory_bytes=512 * MiB)
    cases = [
        (signal.SIGXCPU, 5.0, None, FailureReason.TIMEOUT),
        (signal.SIGKILL, 6.0, None, FailureReason.TIMEOUT),  # kernel hard CPU limit
        # The OOM killer: the model's problem when it held more than its limit (or nobody
        # could measure it), the server's when it was within it (the quota slot comes back).
        (signal.SIGKILL, 0.5, None, FailureReason.RESOURCE_LIMIT),
        (signal.SIGKILL, 0.5, 600 * MiB, FailureReason.RESOURCE_LIMIT),
        (signal.SIGKILL, 0.5, 300 * MiB, FailureReason.INTERNAL_ERROR),
        (signal.SIGXFSZ, 0.1, None, FailureReason.RESOURCE_LIMIT),
        (signal.SIGSEGV, 0.1, None, FailureReason.RESOURCE_LIMIT),
    ]
    for sig, cpu, peak, reason in cases:
        assert failures._error_from_signal(sig, cpu, "", limits, peak).reason == reason
    host = failures._error_from_signal(signal.SIGKILL, 0.5, "", limits, 300 * MiB)
    assert host.code == "host_memory" and "300 MiB, within its 512 MiB limit" in host.message
    abort = failures._error_from_signal(signal.SIGABRT, 0.1, "std::bad_alloc", limits)
    assert abort.reason == FailureReason.RESOURCE_LIMIT


# --- honest models --------------------------------------------------------------------------


def _sklearn_onnx(model, n_features: int, path: Path, zipmap: bool = False) -> Path:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    # zipmap is a classifier option; skl2onnx rejects it for regressors.
    options = {id(model): {"zipmap": zipmap}} if hasattr(model, "predict_proba") else None
    onx = to_onnx(
        model, initial_types=[("input", FloatTensorType([None, n_features]))], options=options
    )
    return hostile.save(onx, path)


def test_logistic_regression_pipeline_skops_and_onnx_agree(
    tmp_path: Path, features: Path, features_frame: pd.DataFrame
) -> None:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = features_frame[list("abc")].to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, features_frame["label"])
    expected = model.predict_proba(x)[:, 1]

    skops_path = tmp_path / "lr.skops"
    sio.dump(model, skops_path)
    onnx_path = _sklearn_onnx(model, 3, tmp_path / "lr.onnx")
    zipmap_path = _sklearn_onnx(model, 3, tmp_path / "lr_zipmap.onnx", zipmap=True)

    results: list[SandboxResult] = []
    for path, fmt in [
        (skops_path, ArtifactFormat.SKOPS),
        (onnx_path, ArtifactFormat.ONNX),
        (zipmap_path, ArtifactFormat.ONNX),
    ]:
        assert sniff_format(path) is fmt
        result = run_in_sandbox(path, fmt, features, CONTRACT, FAST)
        assert result.predictions.shape == (N_ROWS,) and result.predictions.dtype == np.float64
        np.testing.assert_allclose(result.predictions, expected, atol=1e-5)
        assert 0 < result.latency_p50_ms <= result.latency_p99_ms
        assert result.isolated_network  # bubblewrap's network namespace, always
        results.append(result)
    np.testing.assert_allclose(results[0].predictions, results[1].predictions, atol=1e-5)


def test_gradient_boosting_onnx_matches_sklearn(
    tmp_path: Path, features: Path, features_frame: pd.DataFrame
) -> None:
    from sklearn.ensemble import GradientBoostingClassifier

    x = features_frame[list("abc")].to_numpy()
    model = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0)
    model.fit(x, features_frame["label"])
    path = _sklearn_onnx(model, 3, tmp_path / "gbc.onnx")
    result = run_in_sandbox(path, ArtifactFormat.ONNX, features, CONTRACT, FAST)
    np.testing.assert_allclose(result.predictions, model.predict_proba(x)[:, 1], atol=1e-5)


def test_per_column_layout_with_string_column(tmp_path: Path) -> None:
    """Layout (b): a ColumnTransformer pipeline exported with one named input per column."""
    import skops.io as sio
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, N_ROWS).astype(np.float32),
            "visits": rng.integers(0, 20, N_ROWS).astype(np.int64),
            "city": rng.choice(["paris", "lyon", "nice"], N_ROWS),
        }
    )
    target = frame["age"] * 0.1 + frame["visits"] + (frame["city"] == "nice") * 3.0
    contract = InputContract(
        columns=(("age", "float32"), ("visits", "int64"), ("city", "string")),
        task_type="regression",
    )
    prep = ColumnTransformer(
        [("num", StandardScaler(), ["age", "visits"]), ("cat", OneHotEncoder(), ["city"])]
    )
    model = make_pipeline(prep, Ridge()).fit(frame, target)
    expected = model.predict(frame)
    features = tmp_path / "features.parquet"
    frame.assign(target=target).to_parquet(features)

    onx = to_onnx(
        model,
        initial_types=[
            ("age", FloatTensorType([None, 1])),
            ("visits", Int64TensorType([None, 1])),
            ("city", StringTensorType([None, 1])),
        ],
    )
    onnx_path = hostile.save(onx, tmp_path / "ridge.onnx")
    skops_path = tmp_path / "ridge.skops"
    sio.dump(model, skops_path)
    for path in (onnx_path, skops_path):
        result = run_in_sandbox(path, None, features, contract, FAST)
        np.testing.assert_allclose(result.predictions, expected, rtol=1e-5, atol=1e-4)

    with pytest.raises(ArtifactRejected) as info:  # string columns rule out layout (a)
        check_onnx(_sklearn_onnx(model[-1], 5, tmp_path / "single.onnx"), contract)
    assert info.value.code == RejectionCode.INPUT_MISMATCH


def test_only_contract_columns_reach_the_child(tmp_path: Path, features: Path) -> None:
    dest = tmp_path / "features"
    rows = runner._write_features(features, CONTRACT, dest)
    assert rows == N_ROWS
    files = sorted(p.name for p in dest.iterdir())
    assert files == ["c0.npy", "c1.npy", "c2.npy"]  # no label column
    assert all(np.load(dest / f, allow_pickle=False).dtype == np.float32 for f in files)


def test_child_runs_isolated(tmp_path: Path, monkeypatch) -> None:
    """Swap the child's code for a probe and inspect what a hostile payload would see.
    (What it can reach of the host: test_sandbox_isolation.py.)"""
    seen = probe_child(monkeypatch, tmp_path, """
import resource, socket
names = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
attempt("limits", lambda: {n: resource.getrlimit(getattr(resource, n)) for n in names})
attempt("raise", lambda: resource.setrlimit(resource.RLIMIT_AS, (-1, -1)))
attempt("fds", lambda: sorted(os.listdir("/proc/self/fd")))
attempt("env", lambda: dict(os.environ))
attempt("files", lambda: sorted(os.listdir(".")))
attempt("interfaces", lambda: [name for _, name in socket.if_nameindex()])
# A session and group of its own PID namespace (bubblewrap's init is 1 there); one led
# from outside would read as 0.
attempt("own group", lambda: os.getpgid(0) in (1, os.getpid()) and os.getsid(0) in (1, os.getpid()))
""", SandboxLimits(memory_bytes=1024 * 1024 * 1024, cpu_seconds=7, max_open_files=32))
    env = seen["env"][1]
    assert "SECRET_KEY" not in env and "DATABASE_URL" not in env
    assert set(env) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_CTYPE",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "PWD",  # bubblewrap's, for its --chdir
    }
    assert env["HOME"] == env["TMPDIR"] == env["PWD"] == "/job"  # no host path reaches it
    assert seen["files"][1] == ["features", "job.json", "model.onnx"]  # no labels
    limits = seen["limits"][1]
    # Address space is only the backstop, four times the resident-memory limit.
    assert limits["RLIMIT_AS"] == [4 * 1024**3, 4 * 1024**3]
    assert limits["RLIMIT_CPU"][0] == 7
    assert limits["RLIMIT_NOFILE"] == [32, 32]
    assert limits["RLIMIT_CORE"] == [0, 0]
    assert seen["own group"] == ["ok", True]
    # stdio + the listdir fd: nothing inherited, not even bubblewrap's own
    assert seen["fds"][1] == ["0", "1", "2", "3"]
    assert seen["raise"][0] == "error", "the child could raise its own memory limit"
    assert seen["interfaces"] == ["ok", ["lo"]]


def test_child_import_loads_none_of_the_parents_side() -> None:
    """The child imports ``grading.engine.sandbox.child`` through its package, from the
    runner's ``REPO_ROOT``, as its bootstrap does; the package must not load the runner's
    imports (onnx, subprocess, logging, ...) into every child before it reads the model."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import grading.engine.sandbox.child; "
            "print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(runner.REPO_ROOT)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert {"grading.engine.sandbox.child", "grading.engine.contract", "numpy"} <= loaded
    parent_side = {"onnx", "pandas", "subprocess", "logging", "grading.engine.artifacts",
                   "grading.engine.onnx_checks", "grading.engine.sandbox.runner",
                   "grading.engine.sandbox.isolation", "grading.engine.sandbox.limits"}
    assert not loaded & parent_side


def test_malicious_pickle_fixture_really_is_malicious(tmp_path: Path) -> None:
    """Guard against a vacuous suite: loading the pickle *would* create the marker."""
    marker = tmp_path / "pwned"
    handle = pickle.loads(hostile.malicious_pickle(marker))  # deliberate: proves the payload works
    handle.close()
    assert marker.exists()
