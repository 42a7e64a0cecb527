"""The held-out features as the child reads them: only the contract's columns, one
pickle-free .npy file per column, string columns dictionary-encoded.

A worker scores the same held-out split again and again, so the columns are written once per
dataset and contract (``feature_columns_write``, beside the dataset's files) and each job's
folder gets a copy of those files (``FeatureColumns``: a kernel-side file copy, no parquet
read, no encoding, no ``np.save``). A copy, not a hard link: a child that runs as the worker's
own uid (an unprivileged worker) would own a linked file and could change it for every later
job."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grading.engine.contract import InputContract

if TYPE_CHECKING:
    import pandas as pd


def _load_feature_frame(features: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if isinstance(features, pd.DataFrame):
        return features
    path = Path(features)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return pd.DataFrame({k: archive[k] for k in archive.files})
    raise ValueError(f"unsupported features file type: {suffix!r}")


COLUMNS_FILE = "columns.json"


@dataclass(frozen=True)
class FeatureColumns:
    """A folder of the contract's columns as the child reads them, with ``COLUMNS_FILE``
    naming the contract and the number of rows; handed to ``run_in_sandbox`` in place of a
    DataFrame or a file."""

    path: Path
    rows: int

    def __len__(self) -> int:
        return self.rows


def feature_columns_open(path: Path, contract: InputContract) -> FeatureColumns | None:
    """The columns at ``path`` if they were written for ``contract``, else None."""
    try:
        meta = json.loads((path / COLUMNS_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("contract") != contract.to_dict():
        return None
    rows = meta.get("rows")
    if not isinstance(rows, int) or rows < 0:
        return None
    return FeatureColumns(path=path, rows=rows)


def feature_columns_write(
    features: str | os.PathLike[str] | pd.DataFrame, contract: InputContract, dest: Path
) -> FeatureColumns:
    """Write ``features``' contract columns to the folder ``dest`` once: into a temporary
    sibling, renamed into place, so a reader never sees half of them; when another process
    got there first, its folder is the one used."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".columns-", dir=dest.parent))
    try:
        rows = _write_features(features, contract, staging / "columns")
        (staging / "columns" / COLUMNS_FILE).write_text(
            json.dumps({"contract": contract.to_dict(), "rows": rows}))
        for path in (staging / "columns").iterdir():
            path.chmod(0o444)
        if dest.exists() and feature_columns_open(dest, contract) is None:
            shutil.rmtree(dest)  # unreadable or for another contract: replaced
        with contextlib.suppress(OSError):  # already there: another worker wrote it
            os.rename(staging / "columns", dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    opened = feature_columns_open(dest, contract)
    if opened is None:
        raise ValueError(f"feature columns at {dest} are not for this contract")
    return opened


def _copy_columns(columns: FeatureColumns, dest: Path) -> int:
    dest.mkdir()
    for path in columns.path.iterdir():
        if path.name.endswith(".npy"):
            shutil.copyfile(path, dest / path.name)  # sendfile: the copy stays in the kernel
    return columns.rows


def _write_features(
    features: str | os.PathLike[str] | pd.DataFrame | FeatureColumns, contract: InputContract,
    dest: Path,
) -> int:
    """Write only the contract's columns (so never a label column) into the folder ``dest``,
    one pickle-free .npy file per column: writing and reading them is several times faster
    than a .npz archive. ``FeatureColumns`` written for this contract are copied."""
    if isinstance(features, FeatureColumns):
        if feature_columns_open(features.path, contract) is None:
            raise ValueError("feature columns written for another contract")
        return _copy_columns(features, dest)
    frame = _load_feature_frame(features)
    missing = [n for n in contract.names if n not in frame.columns]
    if missing:
        raise ValueError(f"features are missing contract columns {missing}")
    import pandas as pd

    dest.mkdir()
    arrays: dict[str, np.ndarray] = {}
    for i, (name, dtype) in enumerate(contract.columns):
        column = frame[name]
        if dtype == "string":
            # Dictionary-encoded: each distinct value once, and an int32 code per row. A
            # fixed-width unicode column is 4 bytes per character per row to write and read,
            # and the child would then make one Python string per row for onnxruntime.
            codes, values = pd.factorize(column, use_na_sentinel=False)
            arrays[f"c{i}"] = codes.astype(np.int32)
            arrays[f"c{i}_values"] = np.asarray(values.astype(str), dtype=np.str_)
        else:
            arrays[f"c{i}"] = column.to_numpy(dtype=np.dtype(dtype))
    for key, array in arrays.items():  # fixed-width dtypes only: loadable without pickle
        np.save(dest / f"{key}.npy", array, allow_pickle=False)
    return len(frame)
