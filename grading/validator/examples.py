"""The copy-paste training example shown on each case-study page (tested end to end).

The example pins the versions it installs (``INSTALL_PINS``) and names the model families
it suggests (``MODEL_FAMILIES``): the printed estimator, and the others as commented lines
to swap in. ``grading/tests/test_training_example.py`` installs exactly the printed line in a
fresh virtualenv and trains, exports, validates and scores every family with it."""

from __future__ import annotations

from dataclasses import dataclass

from grading.datasets import DatasetSpec

#: What the example's ``pip install`` line pins. protobuf stays on 6.x: skl2onnx (every
#: release up to 1.20) puts a Python ``False`` into an integer list when it converts a
#: HistGradientBoosting model, which protobuf refuses from 7.34 on ("Expected an int, got a
#: boolean") and 6.x still takes. The same versions are in requirements.lock.
INSTALL_PINS = (
    "numpy==2.5.5",
    "pandas==3.1.1",
    "pyarrow==26.0.1",
    "scikit-learn==1.9.1",
    "skl2onnx==1.20.0",
    "onnx==1.23.2",
    "protobuf==6.33.6",
    "onnxruntime==1.32.0",
)


@dataclass(frozen=True)
class ModelFamily:
    """A family of scikit-learn models the example suggests, as the Python that builds one
    for a binary task (``classifier``) and for a regression or ranking task (``regressor``)."""

    name: str
    classifier: str
    regressor: str

    def estimator(self, task_type: str) -> str:
        return self.classifier if task_type == "binary" else self.regressor

    def class_name(self, task_type: str) -> str:
        return self.estimator(task_type).split("(", 1)[0]


#: The first is printed as the model; the others are commented lines to swap in. Trees are
#: kept small enough that a model trained on the full training split stays far below the
#: upload limit and the latency budget.
MODEL_FAMILIES = (
    ModelFamily("linear", "LogisticRegression(max_iter=1000)", "Ridge(alpha=1.0)"),
    ModelFamily("HistGradientBoosting", "HistGradientBoostingClassifier()",
                "HistGradientBoostingRegressor()"),
    ModelFamily("GradientBoosting", "GradientBoostingClassifier()",
                "GradientBoostingRegressor()"),
    ModelFamily("RandomForest", "RandomForestClassifier(n_estimators=50, max_depth=10)",
                "RandomForestRegressor(n_estimators=50, max_depth=10)"),
)

_TEMPLATE = '''\
# Train on the downloaded data, export to ONNX, and check the file like the server will.
# These versions export every model below (protobuf 7.34+ breaks skl2onnx's tree export):
#   pip install {pins}
import pandas as pd
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
{ensemble_imports}
)
from sklearn.linear_model import {linear_import}
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
        ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         CATEGORICAL),
    ])),
    ("{step}", {estimator}),
    # Trees export the same way with these versions: swap one in for the line above.
{alternatives}
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


def install_command() -> str:
    """The shell command the example prints: ``pip install`` and every pin."""
    return "pip install " + " ".join(INSTALL_PINS)


def model_step(spec: DatasetSpec, family: ModelFamily) -> str:
    """The line of the example's pipeline that makes ``family``'s model for ``spec``
    (printed as code for the first family, as a comment for the others)."""
    step = "classifier" if spec.task_type == "binary" else "regressor"
    return f'("{step}", {family.estimator(spec.task_type)}),'


def training_example(spec: DatasetSpec, *, validator_name: str) -> str:
    """Python that trains a simple model on ``train.parquet`` and exports a valid ONNX.

    Identifier columns are left out of the simple model (a better one encodes them), but
    they stay model inputs: the contract is the same for every submission."""
    features = [c.name for c in spec.feature_columns]
    numeric = [c.name for c in spec.feature_columns
               if c.dtype in ("float32", "int64") and c.role != "id"]
    categorical = [c.name for c in spec.feature_columns if c.dtype == "string"]
    printed, *others = MODEL_FAMILIES
    if spec.task_type == "binary":
        options = '{id(model): {"zipmap": False}}'
        target = f'train["{spec.label_column}"]'
    else:
        options = "None"
        target = f'train["{spec.label_column}"].astype("float64")'
    return _TEMPLATE.format(
        pins=" ".join(INSTALL_PINS),
        ensemble_imports="\n".join(f"    {name}," for name in
                                    sorted(f.class_name(spec.task_type) for f in others)),
        linear_import=printed.class_name(spec.task_type),
        step="classifier" if spec.task_type == "binary" else "regressor",
        estimator=printed.estimator(spec.task_type),
        alternatives="\n".join(f"    # {model_step(spec, f)}" for f in others),
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
