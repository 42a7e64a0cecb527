"""Shared machinery for the synthetic case-study datasets.

Pure Python / numpy / pandas: nothing in this package may import Django, so the
generators can run in a worker, a notebook or a CI job alike.

Conventions shared by every generator
-------------------------------------
* Time: every row carries ``event_day`` (int64, days since ``EPOCH``, a Monday).
  Days ``0 .. TRAIN_DAYS-1`` (8 weeks) form the downloadable training split; days
  ``TRAIN_DAYS .. TRAIN_DAYS+HELDOUT_DAYS-1`` (4 weeks) form the held-out split,
  sliced into "week 1" .. "week 4". Held-out is therefore strictly later in time
  than train, and each generator adds mild drift so staleness shows up per slice.
* Determinism: every random draw comes from
  ``np.random.default_rng(np.random.SeedSequence([seed, version, crc32(slug),
  size_index, crc32(stream)]))`` (see :func:`make_rng`). Float columns are rounded
  to a fixed number of decimals before the float32 cast, so a last-ulp difference
  in a transcendental function on another CPU does not change the stored bytes.
* Dtypes: float columns are float32, ids/counts int64, categoricals are strings
  (pandas ``str`` dtype). Labels are int64 (binary / graded) or float32 (regression).
* The held-out split is handed over as ``heldout_features`` (the model's input
  contract, in order, nothing else), with labels, groups, slices, the public mask
  and server-side metadata (``heldout_meta``) kept apart.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DTYPES = ("float32", "int64", "string")
#: Roles of a column. "feature" and "id" columns can be model inputs; "group",
#: "time" and "train_only" columns exist in the training download (and in
#: ``heldout_meta`` server-side) but are never sent to a model; "label" is the target.
ROLES = ("feature", "id", "group", "time", "train_only", "label")
TASK_TYPES = ("binary", "ranking", "regression")
SIZES = ("tiny", "default", "bench")
DEFAULT_SEED = 20261129

EPOCH = "2026-01-05"  # day 0 (a Monday)
TRAIN_DAYS = 56  # weeks 1-8 of the simulated log
HELDOUT_DAYS = 28  # weeks 9-12, scored as "week 1" .. "week 4"
N_SLICES = 4
PUBLIC_FRACTION = 0.30
TIME_COLUMN = "event_day"

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
    seed: int
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

    @property
    def heldout_time(self) -> np.ndarray:
        return self.heldout_meta[TIME_COLUMN].to_numpy()

    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_heldout(self) -> int:
        return len(self.heldout_features)


# ---------------------------------------------------------------------------
# randomness helpers
# ---------------------------------------------------------------------------
def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def make_rng(
    case_slug: str, version: int, seed: int, size: str, stream: str
) -> np.random.Generator:
    """Independent, reproducible generator for one named stream of one build."""
    size_index = SIZES.index(size) if size in SIZES else _crc(size)
    ss = np.random.SeedSequence(
        [int(seed), int(version), _crc(case_slug), size_index, _crc(stream)]
    )
    return np.random.default_rng(ss)


def check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {SIZES}")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrate_intercept(logit: np.ndarray, target_rate: float, sample: int = 200_000) -> float:
    """Intercept b with mean(sigmoid(logit + b)) == target_rate.

    Newton iterations on an evenly strided subsample (covers the whole period).
    """
    step = max(1, len(logit) // sample)
    z = np.asarray(logit[::step], dtype=np.float64)
    b = float(np.log(target_rate / (1 - target_rate)) - np.median(z))
    for _ in range(50):
        p = sigmoid(z + b)
        f = p.mean() - target_rate
        d = (p * (1 - p)).mean()
        step = f / max(d, 1e-12)
        b -= float(np.clip(step, -2.0, 2.0))
        if abs(f) < 1e-7:
            break
    return b


def round32(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round to a fixed decimal grid, then cast to float32 (canonical, machine-stable)."""
    return np.round(np.asarray(x, dtype=np.float64), decimals).astype(np.float32)


def strings(vocab: tuple[str, ...] | list[str], codes: np.ndarray) -> np.ndarray:
    """Object array of ``vocab[codes]`` (fast fancy indexing of Python str objects)."""
    return np.asarray(vocab, dtype=object)[np.asarray(codes)]


def day_uniform(rng: np.random.Generator, n: int, heldout: bool) -> np.ndarray:
    lo = TRAIN_DAYS if heldout else 0
    return rng.integers(lo, lo + (HELDOUT_DAYS if heldout else TRAIN_DAYS), size=n).astype(np.int64)


def sample_cdf(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with probability proportional to ``weights`` (vectorised)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    u = rng.random(n) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1).astype(np.int64)


def sample_available(
    rng: np.random.Generator,
    weights: np.ndarray,
    start_day: np.ndarray,
    end_day: np.ndarray | None,
    day: np.ndarray,
    rounds: int = 25,
) -> np.ndarray:
    """Weighted draw of one item per row among items live on that row's day.

    Rejection sampling (vectorised): rows whose draw is not live yet are redrawn;
    after ``rounds`` the remaining few rows fall back to the first live item by
    ``start_day`` (always exists because generators keep a back catalogue).
    """
    n = len(day)
    idx = sample_cdf(rng, weights, n)
    for _ in range(rounds):
        bad = start_day[idx] > day
        if end_day is not None:
            bad |= end_day[idx] <= day
        nb = int(bad.sum())
        if nb == 0:
            return idx
        idx[bad] = sample_cdf(rng, weights, nb)
    bad = start_day[idx] > day
    if end_day is not None:
        bad |= end_day[idx] <= day
    if bad.any():
        idx[bad] = int(np.argmin(start_day))
    return idx


def group_starts(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def rank_within_groups(
    group_index: np.ndarray, score: np.ndarray, descending: bool = True
) -> np.ndarray:
    """1-based rank of each row inside its (contiguous or not) group by score."""
    key = -score if descending else score
    order = np.lexsort((key, group_index))
    g_sorted = group_index[order]
    start = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - first + 1
    return ranks


def dedupe_within_groups(
    rng: np.random.Generator,
    group_index: np.ndarray,
    item: np.ndarray,
    redraw,
    rounds: int = 6,
) -> np.ndarray:
    """Boolean keep-mask making (group, item) pairs unique.

    Duplicates are redrawn with ``redraw(rng, rows) -> new items`` a few times
    (in place in ``item``); whatever is still duplicated afterwards is dropped.
    """
    mult = np.int64(int(item.max()) + 10_000_000)
    for _ in range(rounds):
        key = group_index.astype(np.int64) * mult + item
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(item), dtype=bool)
        dup[first] = False
        if not dup.any():
            return np.ones(len(item), dtype=bool)
        rows = np.flatnonzero(dup)
        item[rows] = redraw(rng, rows)
        mult = np.int64(max(int(mult), int(item.max()) + 10_000_000))
    key = group_index.astype(np.int64) * mult + item
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(item), dtype=bool)
    keep[first] = True
    return keep


# ---------------------------------------------------------------------------
# assembling a BuiltDataset
# ---------------------------------------------------------------------------
def _to_frame(spec: DatasetSpec, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    data = {}
    for c in spec.train_column_specs:
        v = columns[c.name]
        if c.dtype == "float32":
            v = np.asarray(v, dtype=np.float32)
        elif c.dtype == "int64":
            v = np.asarray(v, dtype=np.int64)
        else:
            v = pd.array(np.asarray(v, dtype=object), dtype="str")
        data[c.name] = v
    return pd.DataFrame(data)


def assemble(
    spec: DatasetSpec, seed: int, size: str, columns: dict[str, np.ndarray]
) -> BuiltDataset:
    """Split a full simulated log into train / held-out and attach all metadata.

    ``columns`` maps every train column (features, extras, label) to an array.
    For grouped tasks rows of a group must be contiguous; the row order inside a
    group is shuffled here (so row order never leaks the logging ranker's order).
    Rows are ordered by day (groups kept contiguous).
    """
    rng = make_rng(spec.case_slug, spec.generator_version, seed, size, "assemble")
    day = np.asarray(columns[TIME_COLUMN], dtype=np.int64)
    n = len(day)
    if spec.group_column is not None:
        g = np.asarray(columns[spec.group_column])
        block = np.cumsum(np.r_[True, g[1:] != g[:-1]])  # contiguous run id
        # day is constant within a block by construction: sort by day, keep blocks
        # contiguous, shuffle rows inside each block
        order = np.lexsort((rng.random(n), block, day))
    else:
        order = np.argsort(day, kind="stable")
    frame = _to_frame(spec, {k: np.asarray(v)[order] for k, v in columns.items()})
    is_train = frame[TIME_COLUMN].to_numpy() < TRAIN_DAYS
    train = frame.loc[is_train].reset_index(drop=True)
    held = frame.loc[~is_train].reset_index(drop=True)

    heldout_features = held[list(spec.feature_names)].copy()
    labels = held[spec.label_column].to_numpy().copy()
    groups = held[spec.group_column].to_numpy().copy() if spec.group_column else None
    hday = held[TIME_COLUMN].to_numpy()
    week = np.clip((hday - TRAIN_DAYS) // 7 + 1, 1, N_SLICES)
    slices = np.array([f"week {w}" for w in range(1, N_SLICES + 1)])[week - 1]
    public = public_mask(spec, seed, len(held), groups)
    meta = held[list(spec.meta_columns)].copy()

    built = BuiltDataset(
        spec=spec,
        seed=int(seed),
        size=size,
        train=train,
        heldout_features=heldout_features,
        heldout_labels=labels,
        heldout_groups=groups,
        heldout_slices=slices,
        heldout_public=public,
        fingerprint="",
        heldout_meta=meta,
    )
    built.fingerprint = compute_fingerprint(built)
    return built


def public_mask(spec: DatasetSpec, seed: int, n_rows: int, groups: np.ndarray | None) -> np.ndarray:
    """~30 % public rows; fixed per (case, version, seed). Grouped tasks split by group."""
    rng = np.random.default_rng(
        np.random.SeedSequence(
            [int(seed), spec.generator_version, _crc(spec.case_slug), _crc("public-mask")]
        )
    )
    if groups is None:
        mask = np.zeros(n_rows, dtype=bool)
        mask[rng.permutation(n_rows)[: int(round(PUBLIC_FRACTION * n_rows))]] = True
        return mask
    uniq = np.unique(groups)
    chosen = uniq[rng.permutation(len(uniq))[: int(round(PUBLIC_FRACTION * len(uniq)))]]
    return np.isin(groups, chosen)


# ---------------------------------------------------------------------------
# fingerprint
# ---------------------------------------------------------------------------
def _hash_values(h, name: str, values) -> None:
    if isinstance(values, pd.Series):
        if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(
            values.dtype, pd.CategoricalDtype
        ):
            values = values.to_numpy()
        else:
            values = values.to_numpy(dtype=object)
    values = np.asarray(values)
    h.update(f"|{name}|{len(values)}|".encode())
    if values.dtype.kind in "fiub":
        kind = {"f": "<f", "i": "<i", "u": "<u", "b": "|b"}[values.dtype.kind]
        canon = np.ascontiguousarray(values, dtype=f"{kind}{values.dtype.itemsize}")
        h.update(canon.dtype.str.encode())
        h.update(canon.tobytes())
    else:  # strings: sorted vocabulary + int64 codes
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=True)
        h.update(b"str")
        h.update(json.dumps([str(u) for u in uniques]).encode("utf-8"))
        h.update(np.ascontiguousarray(codes, dtype="<i8").tobytes())


def compute_fingerprint(built: BuiltDataset) -> str:
    """sha256 over a canonical byte serialisation of train + held-out.

    Numeric columns are hashed as little-endian bytes of their declared dtype,
    string columns as (sorted vocabulary JSON, int64 codes); column names and
    lengths are part of the stream. Independent of pandas/pyarrow internals.
    """
    h = hashlib.sha256()
    s = built.spec
    h.update(
        f"mlsd-dataset|{s.case_slug}|v{s.generator_version}|seed{built.seed}|{built.size}".encode()
    )
    for part, frame in (("train", built.train), ("heldout_features", built.heldout_features)):
        h.update(f"#{part}".encode())
        for col in frame.columns:
            _hash_values(h, col, frame[col])
    h.update(b"#heldout_meta")
    if built.heldout_meta is not None:
        for col in built.heldout_meta.columns:
            _hash_values(h, col, built.heldout_meta[col])
    _hash_values(h, "labels", built.heldout_labels)
    if built.heldout_groups is not None:
        _hash_values(h, "groups", built.heldout_groups)
    _hash_values(h, "slices", built.heldout_slices)
    _hash_values(h, "public", built.heldout_public)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# data dictionary / training files
# ---------------------------------------------------------------------------
def data_dictionary_for(spec: DatasetSpec) -> list[dict]:
    return [
        {
            "name": c.name,
            "dtype": c.dtype,
            "role": c.role,
            "model_input": c.name in spec.feature_names,
            "description": c.description,
        }
        for c in spec.train_column_specs
    ]


def data_dictionary_markdown(spec: DatasetSpec) -> str:
    lines = [
        f"# {spec.case_slug}: training data dictionary",
        "",
        spec.summary,
        "",
        f"* task type: `{spec.task_type}`; label: `{spec.label_column}` - {spec.label_description}",
        f"* group column (per-group metrics): `{spec.group_column}`"
        if spec.group_column
        else "* ungrouped rows",
        f"* typical inference request: {spec.request_rows} row(s)",
        f"* time: `{TIME_COLUMN}` - {TIME_COLUMN_SPEC_DESCRIPTION}",
        "* model inputs (in this order): " + ", ".join(f"`{n}`" for n in spec.feature_names),
        "",
        "| column | dtype | role | model input | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in data_dictionary_for(spec):
        desc = d["description"].replace("|", "\\|")
        lines.append(
            f"| `{d['name']}` | {d['dtype']} | {d['role']} | "
            f"{'yes' if d['model_input'] else 'no'} | {desc} |"
        )
    return "\n".join(lines) + "\n"


def write_training_files(built: BuiltDataset, directory) -> dict[str, Path]:
    """Write the downloadable training split and its data dictionary.

    Returns ``{"train_csv", "train_parquet", "data_dictionary_json",
    "data_dictionary_md"}`` -> path. Floats are written to CSV with 7
    significant digits, which round-trips every stored float32 value (they are
    generated on a <= 7-digit decimal grid); the parquet file keeps exact dtypes.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = built.spec
    paths = {
        "train_csv": directory / "train.csv",
        "train_parquet": directory / "train.parquet",
        "data_dictionary_json": directory / "data_dictionary.json",
        "data_dictionary_md": directory / "data_dictionary.md",
    }
    built.train.to_csv(paths["train_csv"], index=False, float_format="%.7g", lineterminator="\n")
    built.train.to_parquet(paths["train_parquet"], index=False)
    doc = {
        "case_slug": spec.case_slug,
        "generator_version": spec.generator_version,
        "seed": built.seed,
        "size": built.size,
        "fingerprint": built.fingerprint,
        "task_type": spec.task_type,
        "label_column": spec.label_column,
        "label_description": spec.label_description,
        "group_column": spec.group_column,
        "time_column": TIME_COLUMN,
        "time_description": TIME_COLUMN_SPEC_DESCRIPTION,
        "request_rows": spec.request_rows,
        "model_inputs": [list(c) for c in spec.contract_columns],
        "train_rows": int(len(built.train)),
        "columns": data_dictionary_for(spec),
    }
    paths["data_dictionary_json"].write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    paths["data_dictionary_md"].write_text(data_dictionary_markdown(spec), encoding="utf-8")
    return paths


# Shared column specs -------------------------------------------------------
def time_column_spec() -> ColumnSpec:
    return ColumnSpec(TIME_COLUMN, "int64", TIME_COLUMN_SPEC_DESCRIPTION, "time")
