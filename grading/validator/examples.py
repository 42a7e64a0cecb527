"""The copy-paste training example shown on each case-study page (tested end to end)."""

from __future__ import annotations

from grading.datasets import DatasetSpec

_TEMPLATE = '''\
# Train on the downloaded data, export to ONNX, and check the file like the server will.
#   pip install pandas pyarrow scikit-learn skl2onnx onnxruntime
import pandas as pd
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import {estimator_import}
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

train = pd.read_parquet("train.parquet")
# The model receives exactly these columns, in this order ({layout}).
FEATURES = {features}
NUMERIC = {numeric}
CATEGORICAL = {categorical}

model = Pipeline([
    ("prepare", ColumnTransformer([
        ("numeric", StandardScaler(), NUMERIC),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
    ])),
    ("{step}", {estimator}),
])
model.fit(train[FEATURES], {target})

ONNX_TYPES = {{"float32": FloatTensorType, "int64": Int64TensorType, "string": StringTensorType}}
DTYPES = {dtypes}
onnx_model = convert_sklearn(
    model,
    initial_types=[(name, ONNX_TYPES[DTYPES[name]]([None, 1])) for name in FEATURES],
    options={options},
    target_opset={{"": 17, "ai.onnx.ml": 3}},
)
with open("model.onnx", "wb") as handle:
    handle.write(onnx_model.SerializeToString())

# Then, with the validator from this page:
#   python {validator} model.onnx train.parquet
'''


def training_example(spec: DatasetSpec, *, validator_name: str) -> str:
    """Python that trains a simple model on ``train.parquet`` and exports a valid ONNX.

    Identifier columns are left out of the simple model (a better one encodes them), but
    they stay model inputs: the contract is the same for every submission."""
    features = [c.name for c in spec.feature_columns]
    numeric = [c.name for c in spec.feature_columns
               if c.dtype in ("float32", "int64") and c.role != "id"]
    categorical = [c.name for c in spec.feature_columns if c.dtype == "string"]
    if spec.task_type == "binary":
        estimator_import, estimator = "LogisticRegression", "LogisticRegression(max_iter=1000)"
        step, options = "classifier", '{"zipmap": False}'
        target = f'train["{spec.label_column}"]'
    else:
        estimator_import, estimator = "Ridge", "Ridge(alpha=1.0)"
        step, options = "regressor", "None"
        target = f'train["{spec.label_column}"].astype("float64")'
    if options != "None":
        options = "{id(model): " + options + "}"
    return _TEMPLATE.format(
        estimator_import=estimator_import,
        estimator=estimator,
        step=step,
        options=options,
        target=target,
        layout="one ONNX input per column, shape [N, 1]",
        features=_list(features),
        numeric=_list(numeric),
        categorical=_list(categorical),
        dtypes="{" + ", ".join(f'"{c.name}": "{c.dtype}"' for c in spec.feature_columns) + "}",
        validator=validator_name,
    )


def _list(names: list[str]) -> str:
    if len(", ".join(names)) < 60:
        return "[" + ", ".join(f'"{n}"' for n in names) + "]"
    return "[\n    " + ",\n    ".join(f'"{n}"' for n in names) + ",\n]"
