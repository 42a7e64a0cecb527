"""The skops allow-list: which estimators a skops file may hold, what is refused before skops
builds anything (types that open files, callables, paths, methods replaced), tampered trees,
and the page and README saying exactly what is accepted.

Most cases check the file in this process (``skops_check_archive``, fast); the ones that
matter end to end run through the real sandbox child."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from grading.engine.contract import InputContract
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode
from grading.engine.sandbox import SandboxLimits, run_in_sandbox
from grading.engine.skops_checks import ESTIMATORS, skops_check_archive, skops_policy
from grading.engine.skops_model import skops_check_model
from grading.tests import hostile

REPO = Path(__file__).resolve().parents[2]
N_ROWS = 120
REGRESSION = InputContract(columns=(("a", "float32"), ("b", "float32"), ("c", "float32")),
                           task_type="regression")
# A skops child spends seconds importing scikit-learn and scipy: generous CPU and wall time.
LIMITS = SandboxLimits(wall_clock_seconds=60, cpu_seconds=40, latency_repeats=3, request_rows=5)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(N_ROWS, 3)).astype(np.float32), columns=list("abc"))
    frame["city"] = rng.choice(["paris", "lyon", "nice"], N_ROWS)
    frame["y"] = frame["a"] * 2 + frame["b"] + (frame["city"] == "nice") * 3.0
    return frame


@pytest.fixture(scope="module")
def features(tmp_path_factory: pytest.TempPathFactory, frame: pd.DataFrame) -> Path:
    path = tmp_path_factory.mktemp("features") / "heldout.parquet"
    frame.to_parquet(path)
    return path


def refusal(data: bytes) -> ArtifactRejected:
    with pytest.raises(ArtifactRejected) as info:
        skops_check_archive(data, skops_policy())
    return info.value


def schema_of(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("schema.json"))


def with_schema(data: bytes, schema: dict) -> bytes:
    """``data`` with its schema.json replaced (the arrays it refers to kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            body = json.dumps(schema) if item.filename == "schema.json" else source.read(item)
            target.writestr(item.filename, body)
    return out.getvalue()


# --- the file-reading model of issue 13 -------------------------------------------------------


def test_the_file_reading_model_really_reads_files_under_skops_default_trust(tmp_path):
    """Guard against a vacuous suite: skops' default trust finds nothing wrong with this model,
    and what it predicts is read from the planted file."""
    planted = hostile.write(tmp_path / "labels.npy", b"pos neg pos")
    path = hostile.skops_file_reader(tmp_path / "reader.skops", planted)
    assert sio.get_untrusted_types(file=path) == []
    model = sio.load(path)  # default trust: what the sandbox did before the allow-list
    assert model.predict(np.zeros((2, 3))).tolist() == [2.0, 2.0]
    planted.write_bytes(b"pos pos pos pos pos")
    assert model.predict(np.zeros((2, 3))).tolist() == [5.0, 5.0]


def test_a_file_reading_skops_model_is_refused_in_the_sandbox_before_it_reads(
        tmp_path, features, frame):
    planted = hostile.write(tmp_path / "labels.npy", b"pos neg pos")  # stands in for labels
    path = hostile.skops_file_reader(tmp_path / "reader.skops", planted)
    recorded = hostile.reads_are_recorded(tmp_path)
    atime = hostile.stale_atime(planted)
    with pytest.raises(ArtifactRejected) as info:
        run_in_sandbox(path, None, features, REGRESSION, LIMITS)
    assert info.value.code == RejectionCode.SKOPS_TYPE_REFUSED
    assert info.value.reason == FailureReason.INVALID_ARTIFACT
    assert "sklearn.feature_extraction.text.CountVectorizer" in info.value.message
    assert "/tmp" not in info.value.message
    if recorded:  # on a noatime mount only the refusal itself shows that nothing ran
        assert planted.stat().st_atime_ns == atime, "the planted file was read"
    # The same sandbox still scores an honest skops model.
    honest = _fit("ridge", frame)
    result = run_in_sandbox(_dump(honest, tmp_path / "ridge.skops"), None, features,
                            REGRESSION, LIMITS)
    np.testing.assert_allclose(result.predictions, honest.predict(frame[list("abc")]),
                               rtol=1e-5)


# --- callables, paths, replaced methods -------------------------------------------------------


def _function_set_after_fit(dest: Path, func) -> Path:
    """A FunctionTransformer pipeline whose function is swapped for ``func`` once fitted
    (``os.system`` cannot transform the training data)."""
    hostile.skops_with_function(dest, np.log1p)
    model = sio.load(dest, trusted=sio.get_untrusted_types(file=dest))
    model[0].func = func
    return hostile.write(dest, sio.dumps(model))


@pytest.mark.parametrize(("build", "named"), [
    (lambda d: hostile.skops_with_function(d / "m.skops", np.log1p), "the function numpy.log1p"),
    (lambda d: _function_set_after_fit(d / "m.skops", os.system), "posix.system"),
    (lambda d: hostile.skops_with_function(d / "m.skops", np.log1p, where="target"),
     "the function numpy.log1p"),
    (lambda d: hostile.skops_with_function(d / "m.skops", partial(np.clip, a_min=0, a_max=9)),
     "the function numpy.clip"),
    (lambda d: hostile.skops_posix_system(d / "m.skops"), "a reference to posix.system"),
], ids=["FunctionTransformer(log1p)", "FunctionTransformer(os.system)",
        "TransformedTargetRegressor(func=log1p)", "partial(np.clip)", "os.system"])
def test_a_callable_anywhere_is_refused_naming_it(tmp_path, build, named):
    error = refusal(build(tmp_path).read_bytes())
    assert error.code == RejectionCode.SKOPS_TYPE_REFUSED
    assert named in error.message and "ONNX" in error.message


def test_a_callable_parameter_of_an_allowed_encoder_is_refused(frame):
    from sklearn.preprocessing import OneHotEncoder

    # An allowed type, but its feature_name_combiner may be any function: here a path one.
    encoder = OneHotEncoder(feature_name_combiner=os.path.join).fit(frame[["city"]])
    error = refusal(sio.dumps(encoder))
    assert error.code == RejectionCode.SKOPS_TYPE_REFUSED
    assert "the function posixpath.join" in error.message


def test_a_pipeline_with_a_cache_folder_is_refused(tmp_path, frame):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), Ridge(), memory=str(tmp_path / "cache"))
    error = refusal(sio.dumps(model.fit(frame[list("abc")], frame["y"])))
    assert error.code == RejectionCode.SKOPS_PARAMETER_REFUSED
    assert "Pipeline.memory" in error.message


def test_a_stored_attribute_that_replaces_a_method_is_refused(frame):
    model = _fit("ridge", frame)
    model.predict = np.float64  # an allowed type, but now what predict() calls
    error = refusal(sio.dumps(model))
    assert error.code == RejectionCode.SKOPS_PARAMETER_REFUSED
    assert "Pipeline.predict" in error.message


def _inject(node: dict):
    """Put ``node`` deep inside an honest Ridge pipeline's schema, as a Ridge attribute."""
    def edit(schema: dict) -> dict:
        schema = copy.deepcopy(schema)
        steps = schema["content"]["content"]["steps"]["content"]
        ridge = steps[-1]["content"][1]
        assert ridge["__class__"] == "Ridge"
        ridge["content"]["content"]["hostile_"] = node
        return schema
    return edit


NULL = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
        "content": "null", "is_json": True}


def _node(loader: str, module: str, cls: str, **rest) -> dict:
    return {"__loader__": loader, "__module__": module, "__class__": cls, **rest}


HOSTILE_EDITS = {
    "bound method": (_inject(_node("MethodNode", "subprocess", "Popen",
                                   content={"func": "wait", "obj": NULL})),
                     "a bound method of subprocess.Popen"),
    "operator.methodcaller": (_inject(_node("OperatorFuncNode", "operator", "methodcaller",
                                            attrs=NULL)), "an operator.methodcaller"),
    "defaultdict factory": (_inject(_node("DefaultDictNode", "collections", "defaultdict",
                                          content={"main": NULL, "default_factory": NULL})),
                            "defaultdict"),
    "constructor call": (_inject(_node("ConstructorFromReduceNode", "subprocess", "Popen",
                                       content=NULL)), "subprocess.Popen"),
    "loss constructor": (_inject(_node("LossNode", "posix", "system",
                                       __reduce__={"args": NULL}, content=NULL)),
                         "posix.system"),
    "dict subclass": (_inject(_node("DictNode", "subprocess", "Popen",
                                    content={}, key_types=NULL)), "subprocess.Popen"),
    "eval in __reduce__ args": (_inject(_node(
        "TreeNode", "sklearn.tree._tree", "Tree", content=NULL,
        __reduce__={"args": _node("TypeNode", "builtins", "eval")})),
        "a reference to builtins.eval"),
    "open as a dict key type": (_inject(_node(
        "DictNode", "builtins", "dict", content={},
        key_types=_node("ListNode", "builtins", "list",
                        content=[_node("TypeNode", "builtins", "open")]))),
        "a reference to builtins.open"),
    "bit generator by name": (_inject(_node(
        "RandomGeneratorNode", "numpy.random._generator", "Generator",
        content={"bit_generator": {"content": {"bit_generator": {
            "__loader__": "JsonNode", "content": '"seed"'}}}, "seed_seq": NULL})),
        "numpy.random.seed"),
    "unknown loader": (_inject(_node("PickleNode", "posix", "system")), "posix.system"),
    "bytes": (_inject(_node("BytesNode", "builtins", "bytes", file="x.bin")),
              "builtins.bytes"),
}


@pytest.mark.parametrize("case", HOSTILE_EDITS, ids=list(HOSTILE_EDITS))
def test_hand_edited_schemas_are_refused_naming_the_first_bad_node(frame, case):
    edit, named = HOSTILE_EDITS[case]
    data = sio.dumps(_fit("ridge", frame))
    skops_check_archive(data, skops_policy())  # the honest file passes
    error = refusal(with_schema(data, edit(schema_of(data))))
    assert error.code == RejectionCode.SKOPS_TYPE_REFUSED
    assert named in error.message


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda s: {**s, "protocol": 99}, "protocol"),
    (lambda s: {**s, "protocol": True}, "protocol"),
    (_inject({"__class__": "Ridge", "content": NULL}), "without a loader"),
    (_inject(_node("ObjectNode", "sklearn.linear_model._ridge", "Ridge", content=[1])),
     "attributes"),
])
def test_malformed_schemas_are_refused(frame, edit, problem):
    data = sio.dumps(_fit("ridge", frame))
    error = refusal(with_schema(data, edit(schema_of(data))))
    assert problem in error.message


def test_no_file_reader_or_function_holder_is_on_the_list():
    allowed = skops_policy().by_loader["ObjectNode"]
    for refused in ("sklearn.feature_extraction.text.CountVectorizer",
                    "sklearn.feature_extraction.text.TfidfVectorizer",
                    "sklearn.feature_extraction.text.HashingVectorizer",
                    "sklearn.neighbors._regression.KNeighborsRegressor",
                    "sklearn.preprocessing._polynomial.SplineTransformer"):
        assert refused not in allowed
    assert skops_policy().by_loader["FunctionNode"] == {"sklearn.utils.validation.check_array"}


def test_every_listed_estimator_exists_and_takes_no_file_name():
    import importlib
    import inspect

    policy = skops_policy()
    for path in ESTIMATORS:
        module, _, name = path.rpartition(".")
        cls = getattr(importlib.import_module(module), name)
        assert f"{cls.__module__}.{cls.__name__}" in policy.by_loader["ObjectNode"], path
        parameters = inspect.signature(cls).parameters
        assert not {"input", "tokenizer", "preprocessor", "analyzer"} & set(parameters), path
        if "memory" in parameters:
            assert cls.__name__ == "Pipeline", path  # checked: must be None


# --- honest models load and predict as scikit-learn does --------------------------------------


def _fit(kind: str, frame: pd.DataFrame):
    """A fitted model of ``kind`` on ``frame`` (numeric a, b, c; string city; target y)."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestRegressor,
        StackingRegressor,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge, SGDRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import (
        KBinsDiscretizer,
        OneHotEncoder,
        OrdinalEncoder,
        QuantileTransformer,
        StandardScaler,
        TargetEncoder,
    )
    from sklearn.tree import DecisionTreeRegressor

    numeric, x, y = list("abc"), frame[list("abc")], frame["y"]
    frame = frame.drop(columns="y")
    prepare = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()),
                                  numeric),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
    models = {
        "ridge": lambda: make_pipeline(StandardScaler(), Ridge()).fit(x, y),
        "frame ridge": lambda: make_pipeline(prepare, Ridge()).fit(frame, y),
        "logistic": lambda: make_pipeline(prepare, LogisticRegression()).fit(frame, y > 2),
        "hist gradient boosting": lambda: make_pipeline(
            ColumnTransformer([("cat", OrdinalEncoder(), ["city"])], remainder="passthrough"),
            HistGradientBoostingRegressor(max_iter=15, categorical_features=[0])).fit(frame, y),
        "random forest": lambda: RandomForestRegressor(n_estimators=5, n_jobs=-1,
                                                       random_state=0).fit(x, y),
        "gradient boosting": lambda: GradientBoostingClassifier(n_estimators=5).fit(x, y > 2),
        "sgd": lambda: make_pipeline(StandardScaler(), SGDRegressor()).fit(x, y),
        "stacking": lambda: StackingRegressor(
            [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
            final_estimator=Ridge()).fit(x, y),
        "target transform": lambda: TransformedTargetRegressor(
            Ridge(), transformer=StandardScaler()).fit(x, y),
        "encoders": lambda: make_pipeline(ColumnTransformer([
            ("target", TargetEncoder(), ["city"]),
            ("quantile", QuantileTransformer(n_quantiles=20), ["a"]),
            ("bins", KBinsDiscretizer(n_bins=3, quantile_method="averaged_inverted_cdf"),
             ["b"])], remainder="passthrough"), Ridge()).fit(frame, y),
    }
    return models[kind]()


def _dump(model, path: Path) -> Path:
    sio.dump(model, path)
    return path


HONEST = ("ridge", "frame ridge", "logistic", "hist gradient boosting", "random forest",
          "gradient boosting", "sgd", "stacking", "target transform", "encoders")


@pytest.mark.parametrize("kind", HONEST)
def test_honest_models_pass_load_with_only_allowed_types_and_predict_alike(frame, kind):
    model = _fit(kind, frame)
    data = sio.dumps(model)
    policy = skops_policy()
    skops_check_archive(data, policy)
    loaded = sio.loads(data, trusted=policy.trusted)
    skops_check_model(loaded)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    x = frame[list(getattr(model, "feature_names_in_", "abc"))]
    np.testing.assert_allclose(getattr(loaded, method)(x), getattr(model, method)(x))


def test_loaded_models_run_single_threaded(frame):
    data = sio.dumps(_fit("random forest", frame))
    loaded = sio.loads(data, trusted=skops_policy().trusted)
    assert loaded.n_jobs == -1
    skops_check_model(loaded)
    assert loaded.n_jobs == 1


def test_a_hist_gradient_boosting_dataframe_pipeline_scores_in_the_sandbox(
        tmp_path, frame, features):
    model = _fit("hist gradient boosting", frame)
    contract = InputContract(columns=(("a", "float32"), ("b", "float32"), ("c", "float32"),
                                      ("city", "string")), task_type="regression")
    result = run_in_sandbox(_dump(model, tmp_path / "hgb.skops"), None, features, contract,
                            LIMITS)
    np.testing.assert_allclose(result.predictions, model.predict(frame), rtol=1e-6)


# --- tampered trees ---------------------------------------------------------------------------


def _tampered_tree(tree, **changes):
    """A copy of a fitted ``sklearn.tree._tree.Tree`` with node fields changed."""
    from sklearn.tree._tree import Tree

    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for field, (index, value) in changes.items():
        nodes[field][index] = value
    state["nodes"] = nodes
    copy_ = Tree(tree.n_features, np.asarray(tree.n_classes, dtype=np.intp), tree.n_outputs)
    copy_.__setstate__(state)
    return copy_


@pytest.mark.parametrize("changes", [
    {"left_child": (0, 10**6)},
    {"right_child": (0, 0)},  # a loop back to the root
    {"feature": (0, 3)},  # a fourth feature of a 3-feature model
], ids=["child outside", "cycle", "feature outside"])
def test_a_tampered_decision_tree_is_refused_before_it_predicts(tmp_path, frame, features,
                                                                  changes):
    from sklearn.tree import DecisionTreeRegressor

    model = DecisionTreeRegressor(max_depth=3).fit(frame[list("abc")], frame["y"])
    skops_check_model(sio.loads(sio.dumps(model), trusted=skops_policy().trusted))  # fine
    model.tree_ = _tampered_tree(model.tree_, **changes)
    loaded = sio.loads(sio.dumps(model), trusted=skops_policy().trusted)
    with pytest.raises(ArtifactRejected) as info:
        skops_check_model(loaded)
    assert info.value.code == RejectionCode.SKOPS_MODEL_INVALID
    if "left_child" in changes:  # once through the sandbox: refused, not a crash
        with pytest.raises(ArtifactRejected) as info:
            run_in_sandbox(_dump(model, tmp_path / "tree.skops"), None, features, REGRESSION,
                           LIMITS)
        assert info.value.code == RejectionCode.SKOPS_MODEL_INVALID


@pytest.mark.parametrize(("field", "value"), [("left", 10**6), ("feature_idx", 99),
                                              ("right", 0)])
def test_a_tampered_hist_gradient_boosting_tree_is_refused(frame, field, value):
    model = _fit("hist gradient boosting", frame)
    predictor = model[-1]._predictors[0][0]
    inner = np.flatnonzero(predictor.nodes["is_leaf"] == 0)[0]
    predictor.nodes[field][inner] = value
    loaded = sio.loads(sio.dumps(model), trusted=skops_policy().trusted)
    with pytest.raises(ArtifactRejected) as info:
        skops_check_model(loaded)
    assert info.value.code == RejectionCode.SKOPS_MODEL_INVALID


def test_a_gradient_boosting_model_with_too_many_stage_columns_is_refused(frame):
    model = _fit("gradient boosting", frame)
    model.estimators_ = np.concatenate([model.estimators_, model.estimators_], axis=1)
    loaded = sio.loads(sio.dumps(model), trusted=skops_policy().trusted)
    with pytest.raises(ArtifactRejected):
        skops_check_model(loaded)


# --- what the page and the README say ---------------------------------------------------------


def _short_names() -> list[str]:
    return [path.rpartition(".")[2] for path in ESTIMATORS]


def test_the_readme_lists_exactly_the_accepted_skops_types():
    readme = (REPO / "README.md").read_text()
    listed = re.search(r"<!-- skops-allow-list -->(.*?)<!-- /skops-allow-list -->", readme,
                       re.S)
    assert listed, "README.md has no skops allow-list section"
    assert sorted(re.findall(r"`(\w+)`", listed.group(1))) == sorted(_short_names())


@pytest.mark.django_db
def test_the_case_study_page_lists_exactly_the_accepted_skops_types(client, catalogue):
    html = client.get("/case-studies/food-delivery-time/").content.decode()
    listed = re.search(r'data-testid="skops-allow-list">(.*?)</p>', html, re.S)
    assert listed, "the case-study page has no skops allow-list"
    assert sorted(re.findall(r"<code>(\w+)</code>", listed.group(1))) == sorted(_short_names())


def test_the_downloadable_validator_applies_the_same_allow_list(tmp_path, frame):
    import subprocess
    import sys

    from grading.validator.build import validator_zipapp

    validator = hostile.write(tmp_path / "validate.pyz", validator_zipapp(
        title="test", contract=REGRESSION, request_rows=5, latency_budget_ms=100))
    planted = hostile.write(tmp_path / "labels.npy", b"pos")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}

    def run(model: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(validator), str(model)], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              check=False)

    refused = run(hostile.skops_file_reader(tmp_path / "reader.skops", planted))
    assert refused.returncode == 2, refused.stderr
    assert "REFUSED (invalid_artifact)" in refused.stderr
    assert "CountVectorizer" in refused.stderr
    accepted = run(_dump(_fit("ridge", frame), tmp_path / "ridge.skops"))
    assert accepted.returncode == 0, accepted.stderr
    assert "allow-list" in accepted.stdout
