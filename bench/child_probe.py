"""The sandbox child with a stopwatch: runs ``grading.engine.sandbox.child.main`` unchanged, in the
same locked-down process, and writes when each phase started and ended to ``probe.json`` in
the job folder, for the scoring benchmark's breakdown.

Only the instrumented scoring run uses it (``bench.scoring`` swaps the bootstrap that
``grading.engine.sandbox.runner`` gives the child); the timed runs use the real child untouched.
Wall-clock times (``time.time``) so that they line up with the parent's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BOOTSTRAP = (
    "import time; _t0 = time.time(); import sys; sys.path.insert(0, sys.argv[1]); "
    "from bench.child_probe import main; from grading.engine.sandbox.child import exit_now; "
    "exit_now(main(sys.argv[2:], _t0))"
)
PROBE_FILE = "probe.json"


def main(argv: list[str], started: float) -> int:
    marks: dict[str, float] = {"start": started}
    spans: dict[str, list[tuple[float, float]]] = {}

    def span(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            begin = time.time()
            try:
                return fn(*args, **kwargs)
            finally:
                spans.setdefault(name, []).append((begin, time.time()))

        return wrapper

    import numpy as np

    from grading.engine.contract import InputContract
    from grading.engine.sandbox import child as sandbox_child

    marks["numpy_imported"] = time.time()
    import onnxruntime as ort

    marks["onnxruntime_imported"] = time.time()

    sandbox_child._load_features = span("features_in", sandbox_child._load_features)
    sandbox_child._write_status = span("status_out", sandbox_child._write_status)
    InputContract.feeds = span("feeds", InputContract.feeds)
    ort.InferenceSession = span("model_load", ort.InferenceSession)
    np.save = span("predictions_out", np.save)
    make_predictor = sandbox_child._onnx_predictor

    in_load_test = [False]

    def predictor(*args: Any, **kwargs: Any) -> Callable[[int | None], np.ndarray]:
        predict = make_predictor(*args, **kwargs)
        full, one_request = span("predict", predict), span("latency", predict)

        def run(rows: int | None, start: int = 0) -> np.ndarray:
            if rows is None:
                return full(rows)
            # The load test's requests count in its own span, not the latency one.
            return predict(rows, start) if in_load_test[0] else one_request(rows, start)

        return run

    sandbox_child._onnx_predictor = predictor
    measure = sandbox_child.measure_service_times

    def load_test(predict_request: Callable[[int], Any], **kwargs: Any) -> list[float]:
        begin, in_load_test[0] = time.time(), True
        try:
            return measure(predict_request, **kwargs)
        finally:
            in_load_test[0] = False
            spans.setdefault("load_test", []).append((begin, time.time()))

    sandbox_child.measure_service_times = load_test
    code = sandbox_child.main(argv)  # changes into the job folder
    marks["end"] = time.time()
    Path(PROBE_FILE).write_text(json.dumps({"marks": marks, "spans": spans}))
    return code
