"""The shape of a case-study dataset: column and dataset specs, the built result, constants.

Pure Python / numpy / pandas: nothing in ``grading.datasets`` may import Django, so the
generators can run in a worker, a notebook or a CI job alike.

Conventions shared by every generator
-------------------------------------
* Time: every row carries ``event_day`` (int64, days since ``EPOCH``, a Monday).
  Days ``0 .. TRAIN_DAYS-1`` (8 weeks) form the downloadable training split; days
  ``TRAIN_DAYS .. TRAIN_DAYS+HELDOUT_DAYS-1`` (4 weeks) form the held-out split,
  sliced into "week 1" .. "week 4". Held-out is therefore strictly later in time
  than train, and each generator adds mild drift so staleness shows up per slice.
* Determinism: every random draw comes from a named stream of ``sampling.make_rng``,
  seeded from the deployment's dataset secret (``secret.py``), never from a constant;
  float columns are rounded to a fixed number of decimals before the float32 cast
  (``sampling.round32``), so a last-ulp difference in a transcendental function on
  another CPU does not change the stored bytes.
* Dtypes: float columns are float32, ids/counts int64, categoricals are strings
  (pandas ``str`` dtype). Labels are int64 (binary / graded) or float32 (regression).
* The held-out split is handed over as ``heldout_features`` (the model's input
  contract, in order, nothing else), with labels, groups, slices, the public mask
  and server-side metadata (``heldout_meta``) kept apart (see ``assemble.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DTYPES = ("float32", "int64", "string")
#: Roles of a column. "feature" and "id" columns can be model inputs; "group",
#: "time" and "train_only" columns exist in the training download (and in
#: ``heldout_meta`` server-side) but are never sent to a model; "label" is the target.
ROLES = ("feature", "id", "group", "time", "train_only", "label")
TASK_TYPES = ("binary", "ranking", "regression")
SIZES = ("tiny", "default", "bench")

EPOCH = "2026-01-05"  # day 0 (a Monday)
TRAIN_DAYS = 56  # weeks 1-8 of the simulated log
HELDOUT_DAYS = 28  # weeks 9-12, scored as "week 1" .. "week 4"
N_SLICES = 4
PUBLIC_FRACTION = 0.30
TIME_COLUMN = "event_day"
#: Share of held-out rows (of groups, for grouped tasks) whose feature-service features are
#: defaulted: the "missing_features" scenario (``DatasetSpec.missing_feature_defaults``).
MISSING_FEATURE_SHARE = 0.10

TIME_COLUMN_SPEC_DESCRIPTION = (
    f"Day of the event, counted from {EPOCH} (day 0, a Monday). Training data covers "
    f"days 0-{TRAIN_DAYS - 1}; the held-out split covers the following {HELDOUT_DAYS} days."
)


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: str  # "float32" | "int64" | "string"
    description: str
    role: str = "feature"  # see ROLES

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"{self.name}: unknown dtype {self.dtype!r}")
        if self.role not in ROLES:
            raise ValueError(f"{self.name}: unknown role {self.role!r}")


@dataclass(frozen=True)
class DatasetSpec:
    case_slug: str
    task_type: str  # "binary" | "ranking" | "regression"
    generator_version: int
    #: The model's input contract, in order: exactly the columns (and dtypes) of
    #: ``BuiltDataset.heldout_features``.
    feature_columns: tuple[ColumnSpec, ...]
    label_column: str
    label_description: str
    #: Column that groups rows for per-group metrics (user/session/search). It is
    #: always given to the scorer; it is a model input only if it is also listed
    #: in ``feature_columns`` (video-recommendation's user_id is, session_id and
    #: search_id are not).
    group_column: str | None
    #: Rows in one typical inference request (latency / batch size).
    request_rows: int
    label_dtype: str = "int64"
    primary_metric: str = ""
    #: Columns of the training download that are NOT model inputs (time, group,
    #: logging-only columns such as the displayed position). Same order as in train.
    extra_train_columns: tuple[ColumnSpec, ...] = ()
    summary: str = ""
    #: The "cold_start" scenario: held-out rows whose value in any of these id columns
    #: never appears in the training split (new users or items).
    cold_start_columns: tuple[str, ...] = ()
    #: The "missing_features" scenario: ``((column, default), ...)`` set on a share
    #: (``MISSING_FEATURE_SHARE``) of held-out rows, as a serving pipeline does when the
    #: feature service that computes them times out. Training rows are never defaulted.
    missing_feature_defaults: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"unknown task type {self.task_type!r}")
        names = [c.name for c in self.feature_columns] + [c.name for c in self.extra_train_columns]
        if len(set(names)) != len(names) or self.label_column in names:
            raise ValueError(f"{self.case_slug}: duplicate column names")
        if TIME_COLUMN not in names:
            raise ValueError(f"{self.case_slug}: no {TIME_COLUMN} column")
        if self.group_column is not None and self.group_column not in names:
            raise ValueError(f"{self.case_slug}: group column {self.group_column} not declared")
        for c in self.feature_columns:
            if c.role not in ("feature", "id", "group"):
                raise ValueError(f"{c.name}: role {c.role} cannot be a model input")
        scenario_columns = [*self.cold_start_columns,
                            *(c for c, _ in self.missing_feature_defaults)]
        for name in scenario_columns:
            if name not in self.feature_names:
                raise ValueError(f"{self.case_slug}: scenario column {name} is not a model input")

    # -- convenience -------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.feature_columns)

    @property
    def contract_columns(self) -> tuple[tuple[str, str], ...]:
        """``((name, dtype), ...)`` in input order, as the engine's ``InputContract`` wants."""
        return tuple((c.name, c.dtype) for c in self.feature_columns)

    @property
    def all_numeric(self) -> bool:
        """True when no input is a string column.

        Same rule as ``grading.engine.contract.InputContract.all_numeric``: such a contract
        also accepts a single float32 ``[N, n_features]`` input (ids cast to float).
        """
        return all(c.dtype in ("float32", "int64") for c in self.feature_columns)

    @property
    def label_spec(self) -> ColumnSpec:
        return ColumnSpec(self.label_column, self.label_dtype, self.label_description, "label")

    @property
    def train_column_specs(self) -> tuple[ColumnSpec, ...]:
        """Every column of the training download, in file order (label last)."""
        head = tuple(c for c in self.extra_train_columns if c.role in ("time", "group"))
        tail = tuple(c for c in self.extra_train_columns if c.role not in ("time", "group"))
        return head + self.feature_columns + tail + (self.label_spec,)

    @property
    def train_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.train_column_specs)

    @property
    def meta_columns(self) -> tuple[str, ...]:
        """Server-side held-out columns that are neither features nor the label."""
        feats = set(self.feature_names)
        return tuple(
            c.name for c in self.train_column_specs if c.role != "label" and c.name not in feats
        )

    def column(self, name: str) -> ColumnSpec:
        for c in self.train_column_specs:
            if c.name == name:
                return c
        raise KeyError(name)

    def input_contract(self):
        """The ``grading.engine.contract.InputContract`` for this case (imported lazily)."""
        from grading.engine.contract import InputContract  # noqa: PLC0415 - optional sibling module

        return InputContract(columns=self.contract_columns, task_type=self.task_type)


@dataclass
class BuiltDataset:
    spec: DatasetSpec
    #: Derived from the dataset secret: whoever knows it rebuilds the held-out labels, so it
    #: is never stored, printed or written to a file (not even in the repr).
    seed: int = field(repr=False)
    size: str
    train: pd.DataFrame  # features + label + group + time (+ train-only) columns; downloadable
    heldout_features: pd.DataFrame  # feature_columns only, in order: all a sandboxed model sees
    heldout_labels: np.ndarray
    heldout_groups: np.ndarray | None
    heldout_slices: np.ndarray  # "week 1" .. "week 4"
    heldout_public: np.ndarray  # bool, ~30 % (by group for grouped tasks)
    fingerprint: str
    #: Server-side only: time / group / train-only columns of the held-out rows
    #: (e.g. ``event_day``, ``search_id``, the logged ``position``). Never shown to a model.
    heldout_meta: pd.DataFrame | None = None
    build_seconds: float = field(default=0.0, compare=False)
    #: The public name of this build (``DatasetSecret.dataset_id``); empty when it was built
    #: from a bare seed.
    dataset_id: str = field(default="", compare=False)
    #: Server-side only: a bool mask over the held-out rows per scenario slice (keys of
    #: ``scenarios.SCENARIOS``), like the labels never shown to a model.
    heldout_scenarios: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def heldout_time(self) -> np.ndarray:
        return self.heldout_meta[TIME_COLUMN].to_numpy()

    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_heldout(self) -> int:
        return len(self.heldout_features)


def check_size(size: str) -> None:
    """Raise ValueError unless ``size`` is one of ``SIZES``."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {SIZES}")


def time_column_spec() -> ColumnSpec:
    """The ``event_day`` column every dataset carries (role "time", never a model input)."""
    return ColumnSpec(TIME_COLUMN, "int64", TIME_COLUMN_SPEC_DESCRIPTION, "time")
