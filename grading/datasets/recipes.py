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

#: The recency weighting of the "handles staleness" recipes (``recency_half_life_days``).
RECENCY_HALF_LIFE_DAYS = 14.0

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
    #: Weight training rows by recency: a row ``a`` days older than the last training day
    #: weighs ``0.5 ** (a / half_life)`` in the estimator's fit (None: all rows weigh 1).
    #: How a model "handles" staleness in the scenario measurements.
    recency_half_life_days: float | None = None

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"{self.name}: unknown target {self.target!r}")
        if self.output not in OUTPUTS:
            raise ValueError(f"{self.name}: unknown output {self.output!r}")
        if self.recency_half_life_days is not None and not self.recency_half_life_days > 0:
            raise ValueError(f"{self.name}: the recency half-life must be positive")


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


@dataclass(frozen=True)
class ScenarioChoice:
    """How a model copes with one scenario slice (``grading.datasets.scenarios``), measured
    as the slice's primary metric of a recipe that ignores it against one that handles it
    (the rest of the held-out split is measured too, to show the gap is the slice's)."""

    scenario: str  # a key of ``scenarios.SCENARIOS``
    description: str
    ignores: str  # recipe names
    handles: str


def recipes_by_name(
    case_slug: str, recipes: tuple[BaselineRecipe, ...], choice: DesignChoice,
    scenario_choices: tuple[ScenarioChoice, ...] = (),
) -> dict[str, BaselineRecipe]:
    """``{name: recipe}`` in declaration order; ValueError for a duplicate name, a missing
    trivial or reasonable recipe, or a design or scenario choice naming a recipe that does
    not exist."""
    by_name = {r.name: r for r in recipes}
    if len(by_name) != len(recipes):
        raise ValueError(f"{case_slug}: duplicate baseline recipe names")
    scenario_names = [n for c in scenario_choices for n in (c.ignores, c.handles)]
    missing = [n for n in (TRIVIAL, *choice.recipe_names, *scenario_names) if n not in by_name]
    if missing:
        raise ValueError(f"{case_slug}: no baseline recipe named {', '.join(missing)}")
    return by_name
