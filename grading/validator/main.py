"""Check a model file before uploading it, with the same code the server runs.

Downloaded from a case-study page as ``mlsd-validate-<case>.pyz``; run it with the Python
you trained with (it needs numpy, pandas, onnx and onnxruntime; skops and scikit-learn for
.skops files):

    python mlsd-validate-<case>.pyz model.onnx train.parquet

It sniffs the file, checks the ONNX graph against the case study's input contract (or every
type a skops file names against the allow-list), then runs the model on the first rows of
your training data and validates the predictions. On Linux it runs the model in the same
sandbox as the scoring workers.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    meta = json.loads(pkgutil.get_data("grading.validator", "contract.json"))
    parser = argparse.ArgumentParser(description=f"Check a model for {meta['title']}.")
    parser.add_argument("model", type=Path)
    parser.add_argument("data", type=Path, nargs="?", help="train.parquet or train.csv")
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args(argv)
    return validate(meta, args.model, args.data, rows=args.rows)


def validate(meta: dict, model: Path, data: Path | None, *, rows: int = 1000) -> int:
    """Check ``model`` against ``meta`` (a ``contract.json``: the validator's own, or the
    one the API gives ``mlsd validate``) and run it on the first ``rows`` of ``data``.
    Prints what it finds; 0 when the server will accept the model, 2 when it would refuse
    it (the reason on stderr)."""
    from grading.engine.artifacts import ArtifactFormat, sniff_format
    from grading.engine.contract import InputContract, contract_validate_predictions
    from grading.engine.errors import ScoringError
    from grading.engine.onnx_checks import inspect_onnx

    contract = InputContract.from_dict(meta["contract"])
    args = argparse.Namespace(model=model, data=data, rows=rows)
    try:
        fmt = sniff_format(args.model)
        print(f"format: {fmt.value}")
        if fmt is ArtifactFormat.ONNX:
            plan = inspect_onnx(args.model, contract)
            print(f"inputs: {plan.layout.kind} ({len(plan.layout.inputs)}); "
                  f"score output: {plan.output.name!r}")
        else:
            from grading.engine.skops_checks import skops_check_archive, skops_policy

            skops_check_archive(args.model.read_bytes(), skops_policy())
            print("skops: every type in the file is on the allow-list")
        if args.data is None:
            print("OK: static checks passed (give the training data to also run the model).")
            return 0
        import pandas as pd

        frame = (pd.read_parquet(args.data) if args.data.suffix == ".parquet"
                 else pd.read_csv(args.data, keep_default_na=False))
        frame = frame.head(args.rows)
        if sys.platform.startswith("linux"):
            from grading.engine.sandbox import Isolation, SandboxLimits, run_in_sandbox

            # The candidate's own model on their own machine: bubblewrap's isolation when it
            # is installed, the plain child otherwise (the server's workers require it).
            # One job per run: no spare child for a next one (``warm``).
            limits = SandboxLimits(request_rows=meta["request_rows"],
                                   isolation=Isolation.OPTIONAL, warm=False)
            result = run_in_sandbox(args.model, fmt, frame, contract, limits)
            predictions = result.predictions
            rows = meta["request_rows"]
            print(f"latency for one request of {rows} row{'' if rows == 1 else 's'}: "
                  f"p50 {result.latency_p50_ms:.1f} ms, p99 {result.latency_p99_ms:.1f} ms "
                  f"(budget {meta['latency_budget_ms']} ms)")
            if result.peak_memory_bytes is not None:
                from grading.engine.artifacts import mib_text

                print(f"peak memory: {mib_text(result.peak_memory_bytes)} resident, of the "
                      f"{mib_text(limits.memory_bytes)} limit")
        elif fmt is ArtifactFormat.ONNX:
            import onnxruntime as ort

            session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
            raw = session.run([plan.output.name], contract.feeds(frame, plan.layout))[0]
            predictions = contract_validate_predictions(np.asarray(raw), len(frame),
                                                        contract.task_type)
        else:
            print("Running skops models locally is supported on Linux only; "
                  "the static checks passed.")
            return 0
    except ScoringError as error:
        print(f"REFUSED ({error.reason}): {error.message}", file=sys.stderr)
        return 2
    print(f"predictions on {len(predictions)} rows: min {predictions.min():.4g}, "
          f"mean {predictions.mean():.4g}, max {predictions.max():.4g}")
    print("OK: the server will accept this model.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
