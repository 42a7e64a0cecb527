"""What a skops file may contain: an explicit allow-list, checked before skops builds anything.

skops' default trust admits every scikit-learn estimator, among them some that open files
(``CountVectorizer(input="filename")`` opens whatever path an upstream step emits), call a
function of the file's choosing (``FunctionTransformer``) or start processes. So we trust an
allow-list instead, in three steps (all inside the sandbox child):

1. ``skops_check_schema`` reads every node of the file's ``schema.json`` -- each names how
   skops builds it (``__loader__``) and what (``__module__``, ``__class__``) -- and refuses
   the first node whose loader or type is not allowed, whose attributes would replace a
   method, or whose ``memory`` names a folder. Loaders that build callables (functions,
   bound methods, ``operator`` getters, ``defaultdict`` factories, arbitrary constructor
   calls) are refused outright, apart from the one function scikit-learn stores itself
   (``check_array``, inside the ``FunctionTransformer`` of a HistGradientBoosting model).
2. skops loads the file with exactly the allowed types as ``trusted``, so its own audit
   refuses anything step 1 missed (``SkopsPolicy.trusted``).
3. ``grading.engine.skops_model`` checks the loaded model's tree node indices before it
   predicts, and runs it single-threaded.

The walk is pure (stdlib only) and works on any JSON; ``skops_policy`` imports
scikit-learn to resolve the allowed classes to the exact names skops writes for them.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from grading.engine.errors import ArtifactRejected, RejectionCode

__all__ = [
    "ESTIMATORS",
    "SkopsPolicy",
    "skops_check_archive",
    "skops_check_schema",
    "skops_policy",
]

# The estimators and transformers a skops model may be built from, by public import path:
# none of them opens a file, starts a process or reaches the network, and none takes a
# function or a path as a parameter (FunctionTransformer: only as scikit-learn itself makes
# it, for remainder="passthrough", since no function is allowed; Pipeline: memory=None).
ESTIMATORS = (
    "sklearn.linear_model.LinearRegression",
    "sklearn.linear_model.Ridge",
    "sklearn.linear_model.RidgeClassifier",
    "sklearn.linear_model.Lasso",
    "sklearn.linear_model.ElasticNet",
    "sklearn.linear_model.LogisticRegression",
    "sklearn.linear_model.SGDClassifier",
    "sklearn.linear_model.SGDRegressor",
    "sklearn.linear_model.HuberRegressor",
    "sklearn.linear_model.PoissonRegressor",
    "sklearn.linear_model.GammaRegressor",
    "sklearn.linear_model.TweedieRegressor",
    "sklearn.linear_model.BayesianRidge",
    "sklearn.tree.DecisionTreeClassifier",
    "sklearn.tree.DecisionTreeRegressor",
    "sklearn.tree.ExtraTreeClassifier",
    "sklearn.tree.ExtraTreeRegressor",
    "sklearn.ensemble.RandomForestClassifier",
    "sklearn.ensemble.RandomForestRegressor",
    "sklearn.ensemble.ExtraTreesClassifier",
    "sklearn.ensemble.ExtraTreesRegressor",
    "sklearn.ensemble.GradientBoostingClassifier",
    "sklearn.ensemble.GradientBoostingRegressor",
    "sklearn.ensemble.HistGradientBoostingClassifier",
    "sklearn.ensemble.HistGradientBoostingRegressor",
    "sklearn.ensemble.StackingClassifier",
    "sklearn.ensemble.StackingRegressor",
    "sklearn.ensemble.VotingClassifier",
    "sklearn.ensemble.VotingRegressor",
    "sklearn.dummy.DummyClassifier",
    "sklearn.dummy.DummyRegressor",
    "sklearn.preprocessing.StandardScaler",
    "sklearn.preprocessing.MinMaxScaler",
    "sklearn.preprocessing.MaxAbsScaler",
    "sklearn.preprocessing.RobustScaler",
    "sklearn.preprocessing.Normalizer",
    "sklearn.preprocessing.Binarizer",
    "sklearn.preprocessing.OneHotEncoder",
    "sklearn.preprocessing.OrdinalEncoder",
    "sklearn.preprocessing.TargetEncoder",
    "sklearn.preprocessing.LabelEncoder",
    "sklearn.preprocessing.KBinsDiscretizer",
    "sklearn.preprocessing.PolynomialFeatures",
    "sklearn.preprocessing.QuantileTransformer",
    "sklearn.preprocessing.PowerTransformer",
    "sklearn.preprocessing.FunctionTransformer",
    "sklearn.impute.SimpleImputer",
    "sklearn.impute.MissingIndicator",
    "sklearn.compose.ColumnTransformer",
    "sklearn.compose.TransformedTargetRegressor",
    "sklearn.pipeline.Pipeline",
    "sklearn.pipeline.FeatureUnion",
)

# What fitted estimators above hold inside (tree storage, losses, links, binning), by the
# module that defines them. A name this scikit-learn does not have is simply not allowed.
_INTERNALS = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    *(f"sklearn._loss.link.{name}" for name in (
        "IdentityLink", "LogitLink", "HalfLogitLink", "LogLink", "MultinomialLogit",
        "Interval")),
    *(f"sklearn._loss.loss.{name}" for name in (
        "HalfSquaredError", "AbsoluteError", "PinballLoss", "HuberLoss", "HalfPoissonLoss",
        "HalfGammaLoss", "HalfTweedieLoss", "HalfTweedieLossIdentity", "HalfBinomialLoss",
        "ExponentialLoss", "HalfMultinomialLoss")),
)
# The compiled loss objects of SGD and the gradient-boosting losses (skops' LossNode).
_COMPILED_LOSSES = (
    *(f"sklearn._loss._loss.{name}" for name in (
        "CyHalfSquaredError", "CyAbsoluteError", "CyPinballLoss", "CyHuberLoss",
        "CyHalfPoissonLoss", "CyHalfGammaLoss", "CyHalfTweedieLoss",
        "CyHalfTweedieLossIdentity", "CyHalfBinomialLoss", "CyExponentialLoss",
        "CyHalfMultinomialLoss")),
    *(f"sklearn.linear_model._sgd_fast.{name}" for name in (
        "Hinge", "ModifiedHuber", "SquaredHinge", "EpsilonInsensitive",
        "SquaredEpsilonInsensitive")),
)
_SPARSE = ("scipy.sparse.csr_matrix", "scipy.sparse.csc_matrix", "scipy.sparse.csr_array",
           "scipy.sparse.csc_array")
_BUILTIN_SCALARS = frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool"})
# Attributes that name a folder or file: allowed only when unset.
_PATH_ATTRIBUTES = frozenset({"memory"})
# skops file protocols whose loaders the walk below knows (skops 0.16 writes 2).
_PROTOCOLS = frozenset({0, 1, 2})

_REFUSED_ADVICE = (
    "A skops model may hold only the scikit-learn estimators and transformers listed on the "
    "case-study page (none of them can open files, start processes or reach the network) "
    "and no function of its own. Rebuild the model from those, or export it to ONNX with "
    "skl2onnx."
)


@dataclass(frozen=True)
class SkopsPolicy:
    """What may be in a skops file: for each skops loader, the types it may build; for each
    allowed class, the names of its methods (which no stored attribute may replace); and the
    numpy bit generators a random ``Generator`` may use."""

    by_loader: Mapping[str, frozenset[str]]
    methods: Mapping[str, frozenset[str]]
    bit_generators: frozenset[str]

    @property
    def trusted(self) -> list[str]:
        """Every allowed type, for ``skops.io.load(trusted=...)``."""
        return sorted(set().union(*self.by_loader.values()))


def _type_name(obj: Any) -> str:
    """The name skops writes for a class or function (its ``__module__`` and ``__name__``)."""
    return f"{obj.__module__}.{obj.__name__}"


def _resolve(paths: tuple[str, ...]) -> dict[str, Any]:
    found = {}
    for path in paths:
        module, _, name = path.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue  # not in this scikit-learn / scipy: not allowed
        found[_type_name(obj)] = obj
    return found


@functools.cache
def skops_policy() -> SkopsPolicy:
    """The allow-list, resolved against the installed scikit-learn, scipy and numpy (imported
    here, nothing else is). Cached."""
    import numpy as np

    objects = _resolve(ESTIMATORS) | _resolve(_INTERNALS)
    numpy_scalars = frozenset(
        _type_name(t) for t in set(np.sctypeDict.values())
        if issubclass(t, np.number | np.bool_ | np.str_ | np.bytes_ | np.datetime64
                      | np.timedelta64))
    bit_generators = frozenset(
        name for name in dir(np.random)
        if isinstance(cls := getattr(np.random, name), type)
        and issubclass(cls, np.random.BitGenerator) and cls is not np.random.BitGenerator)
    by_loader = {
        "ObjectNode": frozenset(objects),
        "TreeNode": frozenset(_resolve(("sklearn.tree._tree.Tree",))),
        "LossNode": frozenset(_resolve(_COMPILED_LOSSES)),
        "DictNode": frozenset({"builtins.dict", "collections.OrderedDict",
                               *_resolve(("sklearn.utils.Bunch",))}),
        "ListNode": frozenset({"builtins.list"}),
        "TupleNode": frozenset({"builtins.tuple"}),
        "SetNode": frozenset({"builtins.set"}),
        "JsonNode": frozenset({"builtins.str"}),
        "SliceNode": frozenset({"builtins.slice"}),
        "NdArrayNode": frozenset({"numpy.ndarray"}) | numpy_scalars,
        "DTypeNode": frozenset({"numpy.dtype"}),
        "TypeNode": _BUILTIN_SCALARS | numpy_scalars,
        "SparseMatrixNode": frozenset(_resolve(_SPARSE)),
        "RandomStateNode": frozenset(_resolve(("numpy.random.RandomState",))),
        "RandomGeneratorNode": frozenset(_resolve(("numpy.random.Generator",))),
        "FunctionNode": frozenset(_resolve(("sklearn.utils.validation.check_array",))),
        "PartialNode": frozenset({"functools.partial"}),
    }
    methods = {name: frozenset(attr for attr in dir(cls) if callable(getattr(cls, attr, None)))
               for name, cls in objects.items()}
    return SkopsPolicy(by_loader=by_loader, methods=methods, bit_generators=bit_generators)


def _shown(text: str) -> str:
    """An attacker-chosen name for a message: printable and bounded."""
    cleaned = "".join(c if c.isprintable() else "?" for c in text[:120])
    return cleaned + ("..." if len(text) > 120 else "")


def _refused(what: str) -> ArtifactRejected:
    return ArtifactRejected(
        RejectionCode.SKOPS_TYPE_REFUSED,
        f"Your skops file contains {_shown(what)}, which we do not load. {_REFUSED_ADVICE}")


def _malformed(problem: str) -> ArtifactRejected:
    return ArtifactRejected(
        RejectionCode.SKOPS_TYPE_REFUSED,
        f"Your skops file's schema.json {problem}, so we do not load it. Save the model "
        "again with skops.io.dump.")


def _nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of ``schema`` that names a loader, module or class, wherever it is
    nested (``content``, ``attrs``, ``__reduce__`` arguments, ``key_types``, ...): a
    superset of the nodes skops builds. Iterative, so no nesting depth can overflow."""
    stack: list[Any] = [schema]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if {"__loader__", "__module__", "__class__"} & value.keys():
                yield value
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))


def _description(node: dict[str, Any], loader: str, name: str, policy: SkopsPolicy) -> str:
    if loader == "FunctionNode":
        return f"the function {name}"
    if loader == "MethodNode":
        return f"a bound method of {name}"
    if loader == "OperatorFuncNode":
        return f"an operator.{node['__class__']} callable"
    if loader == "TypeNode":
        return f"a reference to {name}"
    if loader == "DefaultDictNode":
        return "a defaultdict (its default factory is a function)"
    if loader in policy.by_loader:
        return name
    return f"{name} (stored as a skops {loader})"


def _attributes(node: dict[str, Any]) -> dict[str, Any]:
    """The stored attributes of an ObjectNode: ``{name: node}``."""
    content = node.get("content")
    if content is None or (isinstance(content, dict) and content.get("__loader__") == "JsonNode"
                           and content.get("content") == "null"):
        return {}
    if not (isinstance(content, dict) and content.get("__loader__") == "DictNode"
            and isinstance(content.get("content"), dict)):
        raise _malformed(f"stores the attributes of {_shown(str(node['__class__']))} oddly")
    return content["content"]


def _is_none(node: Any) -> bool:
    return (isinstance(node, dict) and node.get("__loader__") == "JsonNode"
            and node.get("content") == "null")


def _check_attributes(node: dict[str, Any], name: str, policy: SkopsPolicy) -> None:
    methods = policy.methods.get(name, frozenset())
    cls = _shown(str(node["__class__"]))
    for attribute, value in _attributes(node).items():
        if attribute.startswith("__") or attribute in methods:
            raise ArtifactRejected(
                RejectionCode.SKOPS_PARAMETER_REFUSED,
                f"Your skops file sets {cls}.{_shown(attribute)}, which would replace one of "
                "its methods, so we do not load it. Save the fitted model as scikit-learn "
                "made it.")
        if attribute in _PATH_ATTRIBUTES and not _is_none(value):
            raise ArtifactRejected(
                RejectionCode.SKOPS_PARAMETER_REFUSED,
                f"Your skops file sets {cls}.{attribute}, a cache folder on disk; a model we "
                f"score may not name paths. Set {attribute}=None before saving it.")


def _check_bit_generator(node: dict[str, Any], policy: SkopsPolicy) -> None:
    # numpy names a Generator's bit generator by a plain string that skops resolves and
    # calls on load (skops.io._numpy.RandomGeneratorNode): it must be a real bit generator.
    try:
        stored = node["content"]["bit_generator"]["content"]["bit_generator"]["content"]
        name = json.loads(stored)
    except (KeyError, TypeError, ValueError):
        name = None
    if name not in policy.bit_generators:
        raise _refused(f"a random generator built by numpy.random.{name}")


def skops_check_schema(schema: Any, policy: SkopsPolicy) -> None:
    """Refuse a parsed ``schema.json`` unless every node in it is allowed by ``policy``.

    Raises ``ArtifactRejected`` (``skops_type_refused`` naming the first refused type or
    callable in document order, or ``skops_parameter_refused`` for an attribute that would
    replace a method or names a path).
    """
    if not isinstance(schema, dict):
        raise _malformed("is not a JSON object")
    protocol = schema.get("protocol")
    if isinstance(protocol, bool) or protocol not in _PROTOCOLS:
        raise _malformed(f"has a skops protocol we do not know ({_shown(repr(protocol))})")
    for node in _nodes(schema):
        loader, module, cls = node.get("__loader__"), node.get("__module__"), node.get("__class__")
        if not (isinstance(loader, str) and isinstance(module, str) and isinstance(cls, str)):
            raise _malformed("has an entry without a loader, module and class")
        name = f"{module}.{cls}"
        if name not in policy.by_loader.get(loader, frozenset()):
            raise _refused(_description(node, loader, name, policy))
        if loader == "ObjectNode":
            _check_attributes(node, name, policy)
        elif loader == "RandomGeneratorNode":
            _check_bit_generator(node, policy)


def skops_check_archive(data: bytes, policy: SkopsPolicy) -> None:
    """``skops_check_schema`` on the ``schema.json`` of a skops file's bytes (already sniffed
    as a skops zip within the size limits). Raises ``ArtifactRejected``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except Exception as exc:  # bad zip, missing entry, bad JSON, too deep: all the file's fault
        raise _malformed("cannot be read") from exc
    skops_check_schema(schema, policy)
