"""Pure scoring metrics for uploaded models (no Django; numpy + standard library only).

Conventions
-----------
* ``y_true``, ``y_pred`` (and ``groups`` / ``slices`` when given) are 1-D array-likes of the
  same, non-zero length; ``(n, 1)`` column vectors are flattened. Wrong shapes, mismatched
  lengths, non-numeric or non-finite values, and values outside the task's domain raise
  ``ValueError``:

  - binary: ``y_true`` in {0, 1}, ``y_pred`` probabilities in [0, 1];
  - ranking: ``y_true`` graded relevance >= 0, ``y_pred`` any finite scores, ``groups``
    required (query / session ids of any sortable dtype);
  - regression: any finite numbers.

* A metric that is undefined on otherwise valid data (ROC AUC with one class, normalized
  entropy with a base rate of 0 or 1, MAPE with all-zero targets, ranking metrics without
  any relevant item, ...) raises ``MetricUndefined`` (a ``ValueError`` subclass). Every
  number returned by this module is finite.

* Ranking metrics sort rows by (group, -score, original row), so ties in scores are broken
  deterministically by row order (the first row wins). Group means are taken over groups
  with at least one relevant item (relevance > 0); the others are excluded.

* Intervals are cheap (about the cost of two metric evaluations): normal intervals over
  per-unit values (rows or groups), DeLong for ROC AUC, and a fixed-seed bootstrap with
  ``BOOTSTRAP_RESAMPLES`` resamples only for pr_auc, ECE, calibration ratio and p90.

Modules, in import order (each imports only modules named before it; type hints aside):
``base`` (records, input validation, slice codes), ``binary``, ``regression`` and ``ranking``
(the computations of each task type), ``estimates`` (point value and interval of any metric on
validated rows), ``registry`` (``METRICS``, the validated rows ``Prepared``, ``compute``),
``intervals`` (``confidence_interval``, ``per_slice``, ``paired_difference``). Import the
public names from this package; private helpers live in the module that uses them.
"""

from grading.engine.metrics.base import (
    TASK_TYPES,
    Direction,
    Interval,
    Metric,
    MetricUndefined,
    slice_codes,
)
from grading.engine.metrics.binary import ECE_BINS, LOG_LOSS_EPS
from grading.engine.metrics.estimates import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED
from grading.engine.metrics.intervals import confidence_interval, paired_difference, per_slice
from grading.engine.metrics.ranking import RANK_CUTOFF
from grading.engine.metrics.registry import (
    METRICS,
    Prepared,
    compute,
    compute_all,
    compute_many,
    is_better,
    metric_get,
    metrics_for_task,
    ndcg_curve,
    prepare,
)

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "ECE_BINS",
    "LOG_LOSS_EPS",
    "METRICS",
    "RANK_CUTOFF",
    "TASK_TYPES",
    "Direction",
    "Interval",
    "Metric",
    "MetricUndefined",
    "compute",
    "compute_all",
    "compute_many",
    "confidence_interval",
    "is_better",
    "metric_get",
    "metrics_for_task",
    "ndcg_curve",
    "paired_difference",
    "per_slice",
    "Prepared",
    "prepare",
    "slice_codes",
]
