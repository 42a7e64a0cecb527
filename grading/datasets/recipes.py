"""Baseline recipes: how each case study's reference models are built, as plain data.

A recipe names the ``ContractFeaturizer`` blocks that turn the contract columns into
features (``grading.baselines.featurizer`` says what each block computes), a scikit-learn
estimator by class name with its arguments, and what the model's output means. Each
case-study module lists its recipes in ``BASELINES`` and the modelling choice its data
rewards in ``DESIGN_CHOICE``; the registry hands them out (``baseline_recipes``,
``design_choice``) and ``grading.baselines.training`` fits them.

Nothing here imports scikit-learn, not even lazily: the web process imports
``grading.datasets`` for specs and data dictionaries and never fits a model, and keeping
recipes as names and numbers means it never loads scikit-learn for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every case has these two; ``grading.baselines.training.train_baselines`` fits them.
TRIVIAL = "trivial"
REASONABLE = "reasonable"
#: The reasonable recipe minus the design choice (see ``DesignChoice``).
WITHOUT_DESIGN_CHOICE = "without_design_choice"

TARGETS = ("binary", "continuous")
OUTPUTS = ("probability", "score", "minutes")


@dataclass(frozen=True)
class Estimator:
    """A scikit-learn estimator named by class, with its constructor arguments."""

    class_name: str
    params: dict[str, Any] = field(default_factory=dict)
    #: Linear models get standardised features. Trees get raw values: then float32
    #: pass-through columns reach the trees bit-identical in Python and in ONNX (a float32
    #: re-centring would shift values by an ulp and flip splits on near-duplicate values).
    standardize_features: bool = True


LOGISTIC_REGRESSION = Estimator("LogisticRegression", {"C": 1.0, "max_iter": 500, "tol": 1e-6})
LINEAR_REGRESSION = Estimator("LinearRegression")
RIDGE = Estimator("Ridge", {"alpha": 1.0})
GRADIENT_BOOSTED_TREES = Estimator(
    "HistGradientBoostingRegressor",
    {
        "max_iter": 150,
        "learning_rate": 0.12,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 50,
        "early_stopping": False,
        "random_state": 0,
    },
    standardize_features=False,
)


@dataclass(frozen=True)
class BaselineRecipe:
    """One baseline model of a case study, before fitting."""

    name: str
    description: str
    #: ``ContractFeaturizer`` blocks, e.g. ``("onehot", "device")``, ``("te", ("ad_id",))``.
    blocks: tuple[tuple, ...]
    estimator: Estimator
    #: How target encodings are expressed: "binary" (log-odds lift over the base rate) or
    #: "continuous" (difference to the mean label).
    target: str
    #: What a prediction is: "probability" (P(positive), classifier), "score" (a ranking
    #: score) or "minutes" (a regression in minutes).
    output: str

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"{self.name}: unknown target {self.target!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"{self.name}: unknown output {self.output!r}")


@dataclass(frozen=True)
class DesignChoice:
    """The modelling choice a case's data rewards, measured as the held-out difference
    between the ``REASONABLE`` recipe and the ``WITHOUT_DESIGN_CHOICE`` recipe."""

    description: str
    #: An extra ``(with, without)`` pair of recipes for a linear model, where the choice
    #: matters more (food-delivery-time's haversine distance); ``None`` for most cases.
    linear_pair: tuple[str, str] | None = None

    @property
    def recipe_names(self) -> tuple[str, ...]:
        return (REASONABLE, WITHOUT_DESIGN_CHOICE) + (self.linear_pair or ())


def recipes_by_name(
    case_slug: str, recipes: tuple[BaselineRecipe, ...], choice: DesignChoice
) -> dict[str, BaselineRecipe]:
    """``{name: recipe}`` in declaration order; ValueError for a duplicate name, a missing
    trivial or reasonable recipe, or a design choice naming a recipe that does not exist."""
    by_name = {r.name: r for r in recipes}
    if len(by_name) != len(recipes):
        raise ValueError(f"{case_slug}: duplicate baseline recipe names")
    missing = [n for n in (TRIVIAL, *choice.recipe_names) if n not in by_name]
    if missing:
        raise ValueError(f"{case_slug}: no baseline recipe named {', '.join(missing)}")
    return by_name
