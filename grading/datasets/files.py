"""What identifies and documents a built dataset: its fingerprint, the data dictionary, and
the downloadable training files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .spec import TIME_COLUMN, TIME_COLUMN_SPEC_DESCRIPTION, BuiltDataset, DatasetSpec


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
    lengths are part of the stream. Independent of pandas/pyarrow internals. The seed is
    not part of it: the fingerprint names the rows, and is stored and shown.
    """
    h = hashlib.sha256()
    s = built.spec
    h.update(f"mlsd-dataset|{s.case_slug}|v{s.generator_version}|{built.size}".encode())
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
    for name in sorted(built.heldout_scenarios):
        _hash_values(h, f"scenario:{name}", np.asarray(built.heldout_scenarios[name], dtype=bool))
    return h.hexdigest()



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
        "dataset_id": built.dataset_id or None,
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

