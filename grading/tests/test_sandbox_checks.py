"""Static checks of an untrusted model run in the sandbox child, not in the worker; and no
free re-runs: predictions that break the metrics are the candidate's ``invalid_output``,
while data that cannot be scored stays our ``internal_error``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grading.engine import metrics, scoring
from grading.engine.artifacts import sniff_format
from grading.engine.contract import (
    REGRESSION_OUTPUT_BOUND,
    InputContract,
    contract_validate_predictions,
)
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.onnx_checks import inspect_onnx_bytes
from grading.engine.sandbox import SandboxLimits, run_in_sandbox
from grading.engine.scoring import HeldoutSplit, ScoringTask, evaluate_predictions
from grading.tests import hostile

REPO = Path(__file__).resolve().parents[2]
N_ROWS = 400
COLUMNS = (("a", "float32"), ("b", "float32"), ("c", "float32"))
BINARY = InputContract(columns=COLUMNS, task_type="binary")
REGRESSION = InputContract(columns=COLUMNS, task_type="regression")
FAST = SandboxLimits(wall_clock_seconds=30, cpu_seconds=20, latency_repeats=3, request_rows=10)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(rng.normal(size=(N_ROWS, 3)).astype(np.float32), columns=list("abc"))


# --- the worker only sniffs ----------------------------------------------------------------

# Runs in a fresh interpreter so that its peak RSS is the parent's own: the sandbox child's
# CPU and memory are counted apart (RUSAGE_CHILDREN), so what is left is the worker's side.
_PARENT_COST = """
import json, resource, sys, time
import numpy as np, pandas as pd
from grading.engine.contract import InputContract
from grading.engine.errors import ScoringError
from grading.engine.sandbox import SandboxLimits, run_in_sandbox
contract = InputContract(columns=(("a", "float32"), ("b", "float32"), ("c", "float32")),
                         task_type="binary")
frame = pd.DataFrame(np.zeros((50, 3), dtype=np.float32), columns=list("abc"))
limits = SandboxLimits(wall_clock_seconds=60, cpu_seconds=30, latency_repeats=1, request_rows=5)
run_in_sandbox(sys.argv[1], None, frame, contract, limits)  # warm: every import paid
before = resource.getrusage(resource.RUSAGE_SELF)
try:
    run_in_sandbox(sys.argv[2], None, frame, contract, limits)
    outcome = None
except ScoringError as error:
    outcome = [str(error.reason), error.code]
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"outcome": outcome,
                  "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
                  "rss_growth_mb": (after.ru_maxrss - before.ru_maxrss) / 1024}))
"""


def test_a_file_of_a_million_empty_onnx_nodes_costs_the_worker_almost_nothing(tmp_path):
    good = hostile.good_onnx(tmp_path / "good.onnx")
    hostile_model = hostile.empty_nodes_onnx(tmp_path / "empty.onnx", megabytes=2)
    assert sniff_format(hostile_model).value == "onnx"  # the sniff alone lets it through
    done = subprocess.run([sys.executable, "-c", _PARENT_COST, str(good), str(hostile_model)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    cost = json.loads(done.stdout.strip().splitlines()[-1])
    assert cost["outcome"] == ["invalid_artifact", RejectionCode.INVALID_GRAPH]
    # Walking the graph in the worker cost 2.4 s of CPU and 355 MB here before it moved into
    # the child; reading and sniffing the 2 MB file costs a few milliseconds and megabytes.
    assert cost["cpu"] < 0.5, cost
    assert cost["rss_growth_mb"] < 40, cost


@pytest.mark.parametrize("build", [
    lambda d: hostile.external_data_onnx(d / "m.onnx"),
    lambda d: hostile.custom_op_onnx(d / "m.onnx"),
    lambda d: hostile.wrong_input_names_onnx(d / "m.onnx"),
    lambda d: hostile.empty_nodes_onnx(d / "m.onnx", megabytes=1),
], ids=["external data", "custom domain", "input names", "empty nodes"])
def test_the_child_refuses_a_graph_with_the_same_code_and_message(tmp_path, frame, build):
    path = build(tmp_path)
    with pytest.raises(ArtifactRejected) as direct:
        inspect_onnx_bytes(path.read_bytes(), BINARY)
    with pytest.raises(ArtifactRejected) as sandboxed:
        run_in_sandbox(path, None, frame, BINARY, FAST)
    assert (sandboxed.value.code, sandboxed.value.message) == (
        direct.value.code, direct.value.message)
    # The same sandbox scores an honest model next.
    result = run_in_sandbox(hostile.good_onnx(tmp_path / "good.onnx"), None, frame, BINARY,
                            FAST)
    np.testing.assert_allclose(result.predictions,
                               hostile.expected_good_scores(frame.to_numpy()), atol=1e-6)


def test_a_node_damaged_inside_the_graph_is_refused_by_the_child(tmp_path, frame):
    """The sniff reads the outline only: a node whose bytes are damaged passes it, and the
    child's full parse refuses the file as truncated or corrupted."""
    good = hostile.good_onnx(tmp_path / "good.onnx").read_bytes()
    op_type = b"\x22\x06MatMul"  # NodeProto field 4 (op_type), length 6
    assert good.count(op_type) == 1
    # Wire type 7 does not exist: a full parse fails there; the outline skips the node.
    path = hostile.write(tmp_path / "damaged.onnx", good.replace(op_type, b"\x27" + op_type[1:]))
    assert sniff_format(path).value == "onnx"
    with pytest.raises(ArtifactRejected) as info:
        run_in_sandbox(path, None, frame, BINARY, FAST)
    assert info.value.code == RejectionCode.TRUNCATED


# --- regression outputs are bounded --------------------------------------------------------


def test_regression_outputs_must_be_finite_and_within_the_bound():
    bound = REGRESSION_OUTPUT_BOUND
    edge = contract_validate_predictions(np.array([-bound, 0.0, bound]), 3, "regression")
    np.testing.assert_array_equal(edge, [-bound, 0.0, bound])
    for raw, code in [(np.array([1.0, 1e200, 2.0]), "out_of_range"),
                      (np.array([1.0, -2 * bound, 2.0]), "out_of_range"),
                      (np.array([1.0, np.inf, 2.0]), "non_finite")]:
        with pytest.raises(ScoringError) as info:
            contract_validate_predictions(raw, 3, "regression")
        assert (info.value.reason, info.value.code) == (FailureReason.INVALID_OUTPUT, code)
    with pytest.raises(ScoringError) as info:
        contract_validate_predictions(np.array([3.0, 1e200]), 2, "regression")
    assert "between -1e+09 and 1e+09" in info.value.message
    assert "1 of your model's 2 predictions" in info.value.message
    # Ranking scores only order rows: any finite value is fine.
    contract_validate_predictions(np.array([1e200, -1e300]), 2, "ranking")


def _heldout(labels: np.ndarray, frame: pd.DataFrame) -> HeldoutSplit:
    n = len(labels)
    return HeldoutSplit(features=frame.iloc[:n], labels=labels, groups=None,
                        slices=np.array([f"week {i % 4 + 1}" for i in range(n)]),
                        public=np.arange(n) % 3 == 0)


def test_a_regression_model_predicting_1e200_is_an_invalid_output(tmp_path, frame):
    labels = np.random.default_rng(0).gamma(5.0, 6.0, N_ROWS).astype(np.float32)
    task = ScoringTask(contract=REGRESSION, primary_metric="rmse",
                       secondary_metrics=("mae", "mape"), request_rows=10)
    with pytest.raises(ScoringError) as info:
        scoring.score_artifact(artifact_path=hostile.huge_regression_onnx(tmp_path / "m.onnx"),
                               task=task, heldout=_heldout(labels, frame), limits=FAST)
    assert (info.value.reason, info.value.code) == (FailureReason.INVALID_OUTPUT,
                                                   "out_of_range")
    assert "1e+200" in info.value.message


def test_predictions_that_break_the_metrics_are_the_candidates_fault(frame):
    """Past the contract's bound (as a model could be without it), RMSE is infinite: the
    candidate's invalid_output, charged, not an internal error that refunds the submission."""
    labels = np.random.default_rng(0).gamma(5.0, 6.0, N_ROWS).astype(np.float32)
    task = ScoringTask(contract=REGRESSION, primary_metric="rmse", secondary_metrics=("mae",))
    heldout = _heldout(labels, frame)
    evaluate_predictions(task=task, heldout=heldout,  # at the bound, everything is finite
                         predictions=np.full(N_ROWS, REGRESSION_OUTPUT_BOUND))
    with pytest.raises(ValueError) as failure:
        evaluate_predictions(task=task, heldout=heldout, predictions=np.full(N_ROWS, 1e200))
    error = scoring._evaluation_error(task, heldout, failure.value)
    assert (error.reason, error.code) == (FailureReason.INVALID_OUTPUT, "unscorable")


def test_held_out_data_that_cannot_be_scored_stays_our_fault(frame):
    labels = np.zeros(N_ROWS, dtype=np.int64)  # one class only: ROC AUC is undefined
    task = ScoringTask(contract=BINARY, primary_metric="roc_auc")
    heldout = _heldout(labels, frame)
    with pytest.raises(metrics.MetricUndefined) as failure:
        evaluate_predictions(task=task, heldout=heldout, predictions=np.full(N_ROWS, 0.3))
    error = scoring._evaluation_error(task, heldout, failure.value)
    assert (error.reason, error.code) == (FailureReason.INTERNAL_ERROR, "primary_undefined")
