"""food-delivery-time: predict minutes from order placement to hand-off at the door.

Generative story
----------------
* One city (centre 52.52 N, 13.405 E). Stores sit in five restaurant districts;
  each store has a hidden base preparation time, a hidden sensitivity to kitchen
  rush and a popularity. A few stores open during the simulated 12 weeks.
* An order: day, hour (lunch and dinner peaks; the dinner peak drifts ~1 h later
  over the 12 weeks), store (by popularity), customer location within ~1-10 km of
  the store (random bearing), items and subtotal. Observed load signals: orders
  already in the store's queue (``store_busy_orders``) and idle couriers nearby.
* minutes = preparation (store base + items + queue + kitchen rush)
          + courier wait (fewer idle couriers -> longer)
          + drive (road distance = haversine x detour factor, at an hour- and
            weekday-dependent speed; rush hours are slow; traffic worsens slowly)
          + drop-off (parking, stairs), with right-skewed multiplicative noise.
* Drive time is a function of the *distance* between store and customer, which a
  linear model cannot build from the four raw coordinates (and trees only
  approximate), so a haversine-distance feature pays off.
* ``BASELINES`` and ``DESIGN_CHOICE`` (end of this module): the baseline recipes that
  ``grading.baselines.training`` fits, and the choice the with/without pair measures.
"""

from __future__ import annotations

import numpy as np

from .assemble import assemble
from .recipes import (
    GRADIENT_BOOSTED_TREES,
    LINEAR_REGRESSION,
    RECENCY_HALF_LIFE_DAYS,
    RIDGE,
    BaselineRecipe,
    DesignChoice,
    ScenarioChoice,
)
from .sampling import (
    day_uniform,
    make_rng,
    round32,
    sample_available,
    sample_cdf,
)
from .spec import (
    HELDOUT_DAYS,
    TIME_COLUMN,
    TRAIN_DAYS,
    BuiltDataset,
    ColumnSpec,
    DatasetSpec,
    check_size,
    time_column_spec,
)

CASE_SLUG = "food-delivery-time"
GENERATOR_VERSION = 2  # 2: scenario slices (cold start, latest week, defaulted features)
CENTER = (52.52, 13.405)
KM_PER_DEG_LAT = 111.32
#: Driving speed falls by this share over the 12 weeks (traffic worsens): staleness.
TRAFFIC_SLOWDOWN = 0.25

SIZES = {
    "tiny": {"n_stores": 60, "train_rows": 2000, "heldout_rows": 2000},
    "default": {"n_stores": 800, "train_rows": 200000, "heldout_rows": 100000},
    "bench": {"n_stores": 3000, "train_rows": 2000000, "heldout_rows": 1000000},
}

SPEC = DatasetSpec(
    case_slug=CASE_SLUG,
    task_type="regression",
    generator_version=GENERATOR_VERSION,
    feature_columns=(
        ColumnSpec(
            "store_id",
            "int64",
            "Restaurant id; a few stores open during the period (unseen in train).",
            "id",
        ),
        ColumnSpec("store_lat", "float32", "Store latitude (degrees).", "feature"),
        ColumnSpec("store_lng", "float32", "Store longitude (degrees).", "feature"),
        ColumnSpec("customer_lat", "float32", "Delivery address latitude (degrees).", "feature"),
        ColumnSpec("customer_lng", "float32", "Delivery address longitude (degrees).", "feature"),
        ColumnSpec("order_items", "int64", "Number of items in the order.", "feature"),
        ColumnSpec("order_subtotal", "float32", "Order value before fees (EUR).", "feature"),
        ColumnSpec("hour", "int64", "Local hour the order was placed (0-23).", "feature"),
        ColumnSpec("day_of_week", "int64", "0 = Monday .. 6 = Sunday.", "feature"),
        ColumnSpec(
            "store_busy_orders",
            "int64",
            "Orders already in the store's queue when this one was placed.",
            "feature",
        ),
        ColumnSpec(
            "couriers_available",
            "int64",
            "Idle couriers within 3 km of the store at order time.",
            "feature",
        ),
    ),
    label_column="delivery_minutes",
    label_description="Minutes from order placement to hand-off at the customer's door.",
    group_column=None,
    request_rows=1,
    label_dtype="float32",
    primary_metric="rmse",
    extra_train_columns=(time_column_spec(),),
    cold_start_columns=("store_id",),
    missing_feature_defaults=(("store_busy_orders", 0), ("couriers_available", 0)),
    summary=(
        "Food orders with store, customer location, basket and load signals; "
        "predict the delivery time in minutes."
    ),
)


def _hour_weights(dinner_peak: float) -> np.ndarray:
    h = np.arange(24) + 0.5
    w = (
        0.15
        + 1.6 * np.exp(-0.5 * ((h - 12.6) / 1.1) ** 2)
        + 2.4 * np.exp(-0.5 * ((h - dinner_peak) / 1.4) ** 2)
        + 0.3 * np.exp(-0.5 * ((h - 22.5) / 1.2) ** 2)
    )
    w[2:9] *= 0.15
    return w


def build(seed: int, size: str) -> BuiltDataset:
    check_size(size)
    p = SIZES[size]
    rng = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "world")
    total_days = TRAIN_DAYS + HELDOUT_DAYS
    lat0, lng0 = CENTER
    km_per_deg_lng = KM_PER_DEG_LAT * np.cos(np.radians(lat0))

    # --- stores -------------------------------------------------------------------
    ns = p["n_stores"]
    districts = np.array(
        [[0.0, 0.0], [-3.5, 2.0], [3.0, 3.0], [2.5, -3.0], [-4.0, -3.5]]
    )  # km (east, north)
    s_district = sample_cdf(rng, np.array([0.35, 0.2, 0.2, 0.15, 0.1]), ns)
    s_xy = districts[s_district] + rng.normal(0.0, 1.3, (ns, 2))
    s_prep = np.exp(rng.normal(np.log(11.0), 0.3, ns))
    s_rush_sens = np.exp(rng.normal(0.0, 0.4, ns))
    s_pop = np.exp(rng.normal(0.0, 0.9, ns))
    s_detour = rng.uniform(1.15, 1.45, ns)  # street grid / river crossings around the store
    s_open = np.where(rng.random(ns) < 0.93, -100, rng.integers(0, total_days, ns)).astype(np.int64)
    store_ids = (rng.permutation(ns) + 1).astype(np.int64)

    # --- orders -------------------------------------------------------------------
    n_tr, n_ho = p["train_rows"], p["heldout_rows"]
    day = np.concatenate(
        [day_uniform(rng, n_tr, heldout=False), day_uniform(rng, n_ho, heldout=True)]
    )
    n = len(day)
    t = day / float(total_days)
    # hour with a dinner peak drifting from 18.6h to 19.6h across the 12 weeks
    u = rng.random(n)
    hour = np.empty(n, dtype=np.int64)
    week = day // 7
    for w in np.unique(week):  # 12 weekly hour distributions (loop over weeks, not rows)
        m = week == w
        cdf = np.cumsum(_hour_weights(18.6 + float(w) / 11.0))
        hour[m] = np.minimum(np.searchsorted(cdf / cdf[-1], u[m], side="right"), 23)
    dow = (day % 7).astype(np.int64)
    weekend = dow >= 5
    store = sample_available(rng, s_pop, s_open, None, day)

    dist_km = np.clip(rng.gamma(2.2, 1.3, n), 0.3, 12.0)
    bearing = rng.uniform(0.0, 2 * np.pi, n)
    c_xy = s_xy[store] + np.column_stack([np.cos(bearing), np.sin(bearing)]) * dist_km[:, None]
    store_lat = lat0 + s_xy[store, 1] / KM_PER_DEG_LAT
    store_lng = lng0 + s_xy[store, 0] / km_per_deg_lng
    cust_lat = lat0 + c_xy[:, 1] / KM_PER_DEG_LAT
    cust_lng = lng0 + c_xy[:, 0] / km_per_deg_lng
    # round coordinates first: everything downstream uses the stored values
    store_lat, store_lng = np.round(store_lat, 5), np.round(store_lng, 5)
    cust_lat, cust_lng = np.round(cust_lat, 5), np.round(cust_lng, 5)
    hav = _haversine(store_lat, store_lng, cust_lat, cust_lng)

    items = (1 + rng.poisson(1.6, n)).astype(np.int64)
    subtotal = np.round(items * rng.uniform(6.0, 16.0, n) + rng.uniform(0.0, 6.0, n), 2)

    hours_f = hour + 0.5
    dinner_peak = 18.6 + t * 12.0 / 11.0
    meal = np.exp(-0.5 * ((hours_f - 12.6) / 1.1) ** 2) + 1.3 * np.exp(
        -0.5 * ((hours_f - dinner_peak) / 1.4) ** 2
    )
    busy = rng.poisson(s_pop[store] * (0.5 + 3.0 * meal) * np.where(weekend, 1.2, 1.0))
    couriers = rng.poisson(np.clip(6.0 - 2.5 * meal + 0.5 * np.sqrt(s_pop[store]), 0.5, None))

    prep = (
        s_prep[store]
        + 0.9 * items
        + 1.1 * busy
        + 4.0 * meal * s_rush_sens[store]
        + rng.normal(0.0, 1.5, n)
    )
    wait = np.maximum(0.0, rng.normal(4.0 - 0.6 * couriers, 1.5))
    rush_traffic = np.exp(-0.5 * ((hours_f - 8.3) / 1.0) ** 2) + np.exp(
        -0.5 * ((hours_f - 17.8) / 1.3) ** 2
    )
    speed = (
        24.0
        * (1.0 - 0.35 * rush_traffic * np.where(weekend, 0.4, 1.0))
        * (1.0 - TRAFFIC_SLOWDOWN * t)
        * np.where(weekend, 1.08, 1.0)
    )
    drive = 60.0 * hav * s_detour[store] * rng.uniform(0.95, 1.2, n) / speed
    dropoff = 2.0 + rng.exponential(2.5, n)
    minutes = (prep + wait + drive + dropoff) * np.exp(rng.normal(0.0, 0.07, n))
    minutes = np.maximum(minutes, 5.0)

    ts = day * 24 + hour
    order = np.lexsort((rng.random(n), ts))
    columns = {
        TIME_COLUMN: day,
        "store_id": store_ids[store],
        "store_lat": round32(store_lat, 5),
        "store_lng": round32(store_lng, 5),
        "customer_lat": round32(cust_lat, 5),
        "customer_lng": round32(cust_lng, 5),
        "order_items": items,
        "order_subtotal": round32(subtotal, 2),
        "hour": hour,
        "day_of_week": dow,
        "store_busy_orders": busy.astype(np.int64),
        "couriers_available": couriers.astype(np.int64),
        "delivery_minutes": round32(minutes, 1),
    }
    columns = {k: v[order] for k, v in columns.items()}
    return assemble(SPEC, seed, size, columns)


def _haversine(lat1, lng1, lat2, lng2):
    r = np.pi / 180.0
    a = (
        np.sin((lat2 - lat1) * r / 2) ** 2
        + np.cos(lat1 * r) * np.cos(lat2 * r) * np.sin((lng2 - lng1) * r / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------
_TREE_INPUTS = (  # for the trees: raw values (see rental_search_ranking)
    ("num", "store_lat", "none"),
    ("num", "store_lng", "none"),
    ("num", "customer_lat", "none"),
    ("num", "customer_lng", "none"),
    ("num", "order_items", "none"),
    ("num", "order_subtotal", "none"),
    ("num", "hour", "none"),
    ("num", "day_of_week", "none"),
    ("num", "store_busy_orders", "none"),
    ("num", "couriers_available", "none"),
    ("te", ("store_id",)),
)
_HAVERSINE = (("haversine", ("store_lat", "store_lng", "customer_lat", "customer_lng")),)
_LINEAR_INPUTS = (
    ("num", "store_lat", "none"),
    ("num", "store_lng", "none"),
    ("num", "customer_lat", "none"),
    ("num", "customer_lng", "none"),
    ("num", "order_items", "none"),
    ("num", "order_subtotal", "log1p"),
    ("onehot", "hour"),
    ("onehot", "day_of_week"),
    ("num", "store_busy_orders", "none"),
    ("num", "couriers_available", "none"),
    ("te", ("store_id",)),
)
BASELINES = (
    BaselineRecipe(
        name="trivial",
        description="Constant: the training mean delivery time.",
        blocks=(("const",),),
        estimator=LINEAR_REGRESSION,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="reasonable",
        description="Gradient-boosted trees on raw coordinates, haversine distance, "
        "order size, "
        "hour, weekday, store busy-ness, couriers and target-encoded store_id.",
        blocks=_TREE_INPUTS + _HAVERSINE,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="without_design_choice",
        description="Same gradient-boosted trees with raw coordinates only (no haversine).",
        blocks=_TREE_INPUTS,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="linear_with_haversine",
        description="Ridge regression with haversine distance.",
        blocks=_LINEAR_INPUTS + _HAVERSINE,
        estimator=RIDGE,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="linear_without_haversine",
        description="Ridge regression on raw coordinates only.",
        blocks=_LINEAR_INPUTS,
        estimator=RIDGE,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="id_history_only",
        description="Store history only: gradient-boosted trees on the target-encoded store_id "
        "(no distance, order or load features).",
        blocks=(("te", ("store_id",)),),
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="minutes",
    ),
    BaselineRecipe(
        name="recency_weighted",
        description="The reasonable recipe fitted with recency weights (a row's weight halves "
        "every 14 days before the last training day).",
        blocks=_TREE_INPUTS + _HAVERSINE,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="minutes",
        recency_half_life_days=RECENCY_HALF_LIFE_DAYS,
    ),
)
DESIGN_CHOICE = DesignChoice(
    "haversine distance feature (same gradient-boosted model)",
    linear_pair=("linear_with_haversine", "linear_without_haversine"),
)
SCENARIO_CHOICES = (
    ScenarioChoice(
        "cold_start",
        "distance, order and load features beside the store_id history, for stores that opened "
        "after the training window",
        ignores="id_history_only",
        handles="reasonable",
    ),
    ScenarioChoice(
        "latest_week",
        "recency-weighted training vs all eight training weeks weighted equally",
        ignores="reasonable",
        handles="recency_weighted",
    ),
)
