"""How to fix a failed submission: one hint per failure code, else per failure reason.

The codes are the engine's (``RejectionCode`` for a refused file, and the ``code`` of the
other ``ScoringError``s: timeouts, resource limits, unusable predictions, our own
failures). Every hint says what to change on the candidate's side, or that there is
nothing to change; the failure's own message (shown above the hint) says what happened.
"""

from grading.engine.errors import FailureReason, RejectionCode

_VALIDATE = ("Run the validator from the case-study page on train.parquet before uploading: "
             "it runs the same checks and the same sandbox as the server.")
_EXPORT = ("Export to ONNX with skl2onnx (the case-study page's example does), or save a "
           "scikit-learn model with skops.io.dump.")
_SMALLER = ("Make the model smaller: fewer or shallower trees (n_estimators, max_depth, "
            "max_leaf_nodes), fewer one-hot categories (min_frequency or max_categories), or "
            "a linear model.")
_AGAIN = ("Nothing to change on your side: submit the same file again (later, if scoring "
          "is paused).")

#: Hints for a refused file, one per ``RejectionCode``.
REJECTION_HINTS: dict[RejectionCode, str] = {
    RejectionCode.EMPTY: "Check that the export finished and wrote the file (the example "
                         "ends by writing model.onnx), then upload that file.",
    RejectionCode.TOO_LARGE: _SMALLER,
    RejectionCode.NOT_A_FILE: "Upload the model file itself, not a folder or a link.",
    RejectionCode.PICKLE: "Pickle files can run code when they are loaded, so they are "
                          "refused unread. " + _EXPORT,
    RejectionCode.JOBLIB: "joblib files are pickles, refused unread. " + _EXPORT,
    RejectionCode.COMPRESSED: "Upload the .onnx or .skops file as it was written, not "
                              "compressed (.gz, .bz2, .xz).",
    RejectionCode.NUMPY: "A NumPy array holds numbers, not a model. " + _EXPORT,
    RejectionCode.ZIP_NOT_SKOPS: "The only zip archives accepted are skops files written by "
                                 "skops.io.dump; upload the .onnx or .skops file itself.",
    RejectionCode.ZIP_BOMB: "Save the model again with skops.io.dump and upload that file "
                            "unchanged; add nothing to the archive.",
    RejectionCode.TRUNCATED: "The file is cut short or damaged: export it again, check it "
                             "with the validator, and upload it again.",
    RejectionCode.UNKNOWN_FORMAT: "Only ONNX (.onnx) and skops (.skops) files are scored. "
                                  + _EXPORT,
    RejectionCode.FORMAT_MISMATCH: "Upload the file under the name its exporter gave it: "
                                   ".onnx for ONNX, .skops for skops.",
    RejectionCode.CUSTOM_OPERATOR: "Use only standard operators (the ai.onnx and ai.onnx.ml "
                                   "domains): convert with skl2onnx's own converters and the "
                                   "example's target_opset, with no custom converter.",
    RejectionCode.EXTERNAL_DATA: "Save the model as one self-contained file: "
                                 "onnx_model.SerializeToString() as the example does, or "
                                 "onnx.save(model, path, save_as_external_data=False).",
    RejectionCode.INPUT_MISMATCH: "Give the model the contract's inputs: one [N, 1] input "
                                  "per column, named like the column and of its type (the "
                                  "example's initial_types do this), or, when every column "
                                  "is numeric, one float32 [N, columns] input.",
    RejectionCode.OUTPUT_MISMATCH: "Give the model one score output: a classifier's "
                                   "probabilities (skl2onnx with zipmap off, as in the "
                                   "example), or exactly one float output [N] or [N, 1] for "
                                   "regression and ranking. Drop any second float output.",
    RejectionCode.INVALID_GRAPH: "Check the file with onnx.checker.check_model(model, "
                                 "full_check=True) on your machine and export it again with "
                                 "the example's target_opset.",
    RejectionCode.UNTRUSTED_TYPES: "Build the skops model only from the scikit-learn types "
                                   "the case-study page lists, or export it to ONNX instead.",
    RejectionCode.SKOPS_TYPE_REFUSED: "Build the skops model only from the scikit-learn "
                                      "types the case-study page lists, or export it to ONNX "
                                      "instead.",
    RejectionCode.SKOPS_PARAMETER_REFUSED: "Leave out functions of your own (func= and other "
                                           "callable parameters, Pipeline(memory=...)), or "
                                           "export the model to ONNX instead.",
    RejectionCode.SKOPS_MODEL_INVALID: "Save the fitted estimator or pipeline itself with "
                                       "skops.io.dump, unchanged after fitting.",
    RejectionCode.LOAD_FAILED: "Load the file the way the server does: " + _VALIDATE,
    RejectionCode.RUN_FAILED: "Check that the model predicts on the contract's columns with "
                              "their types (strings as strings, ids as int64). " + _VALIDATE,
}

#: Hints for the other codes the engine and the scoring service give.
CODE_HINTS: dict[str, str] = {
    # invalid_output
    "dtype": "Make the model output numbers: a float tensor of scores or probabilities.",
    "shape": "Output one score per row: [N] or [N, 1] (a binary classifier may output "
             "[N, 2] probabilities).",
    "row_count": "Return exactly one prediction per input row; do not drop or add rows.",
    "non_finite": "Make every prediction a finite number: impute missing values before the "
                  "model (SimpleImputer) and avoid divisions by zero or logs of zero.",
    "probability_range": "Export predict_proba (skl2onnx's probabilities output), not "
                         "decision_function or raw scores.",
    "out_of_range": "Predict the target in its own units; check for a scaling or "
                    "log-transform left undone before export.",
    "unscorable": "Check that the predictions vary and are finite on the training data: "
                  + _VALIDATE,
    # resource_limit
    "memory": _SMALLER + " Then check it with the validator, which applies the same limit.",
    "crash": _SMALLER + " Then check it with the validator, which applies the same limit.",
    "file_size": "The model must not write files while it predicts: remove any logging or "
                 "caching to disk from it.",
    # timeout
    "cpu_limit": "Make predicting cheaper: fewer or shallower trees, fewer features, or a "
                 "linear model. The validator prints the time one request takes.",
    "wall_clock": "Make predicting cheaper: fewer or shallower trees, fewer features, or a "
                  "linear model. The validator prints the time one request takes.",
    # internal_error: ours
    "internal": _AGAIN,
    "unexpected": _AGAIN,
    "attempts_exhausted": _AGAIN,
    "sandbox_unavailable": _AGAIN,
    "host_memory": _AGAIN,
    "primary_undefined": _AGAIN,
}

#: When a failure has no code, or one without a hint: one hint per reason.
REASON_HINTS: dict[FailureReason, str] = {
    FailureReason.INVALID_ARTIFACT: _EXPORT + " " + _VALIDATE,
    FailureReason.INVALID_OUTPUT: "Make the model output one finite score per row, in the "
                                  "task's range. " + _VALIDATE,
    FailureReason.RESOURCE_LIMIT: _SMALLER,
    FailureReason.TIMEOUT: "Make predicting cheaper: fewer or shallower trees, fewer "
                           "features, or a linear model.",
    FailureReason.INTERNAL_ERROR: _AGAIN,
}


def failure_hint(*, reason: str, code: str = "") -> str:
    """How to fix a failure with ``reason`` and ``code`` (a hint for the code when there is
    one, else for the reason)."""
    if code in RejectionCode:
        return REJECTION_HINTS[RejectionCode(code)]
    if code in CODE_HINTS:
        return CODE_HINTS[code]
    if reason in FailureReason:
        return REASON_HINTS[FailureReason(reason)]
    return _VALIDATE
