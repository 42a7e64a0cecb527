"""ad-click-prediction: predict the click probability of an ad impression.

Generative story
----------------
* ~1k advertisers in 20 verticals (``ad_category``); each advertiser has a hidden
  effect and a hidden 6-d "audience" vector near its vertical's centroid. ~20k
  ads belong to advertisers (Zipf-like), each with a hidden creative quality, a
  launch day and a lifetime (ads come and go; new ad ids appear every day).
* ~50k users with a heavy-tailed activity level, a hidden click propensity
  and a hidden 6-d interest vector; most use one main device.
* Impression = (day, hour, user, ad, slot position, device). Ads are served in
  proportion to spend among the ads live that day; 15 % of impressions are
  retargeting (an ad of one of the 3 advertisers whose site the user visited).
  Better ads win higher slots.
* click ~ Bernoulli(sigmoid(b0 + user propensity + user x ad affinity + retargeting
  lift (user x advertiser) + advertiser effect + creative quality + position + hour
  + device + creative fatigue + vertical seasonality)), b0 calibrated to ~2 % CTR.
* Observable user history: impressions and clicks the user had before this
  impression (a pre-period count plus the running count inside the log).
* Consequences: the user x ad affinity and the advertiser / ad effects are only
  recoverable from ids (target-encoded / hashed ids and user x category / user x
  advertiser crosses), so such a model beats one on context features alone.
* Drift: verticals trend up/down over the 12 weeks, creatives fatigue and new
  ads launch (cold ids), so id statistics go stale week by week.
* ``BASELINES`` and ``DESIGN_CHOICE`` (end of this module): the baseline recipes that
  ``grading.baselines.training`` fits, and the choice the with/without pair measures.
"""

from __future__ import annotations

import numpy as np

from .assemble import assemble
from .recipes import (
    LOGISTIC_REGRESSION,
    RECENCY_HALF_LIFE_DAYS,
    BaselineRecipe,
    DesignChoice,
    ScenarioChoice,
)
from .sampling import (
    calibrate_intercept,
    day_uniform,
    make_rng,
    sample_available,
    sample_cdf,
    sigmoid,
    strings,
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

CASE_SLUG = "ad-click-prediction"
GENERATOR_VERSION = 2  # 2: scenario slices (cold start, latest week, defaulted features)
TARGET_RATE = 0.02
K = 6

CATEGORIES = (
    "retail", "travel", "finance", "gaming", "auto", "food", "fashion",
    "education", "health", "tech", "real_estate", "entertainment", "telecom",
    "sports", "beauty", "home", "insurance", "jobs", "pets", "dating",
)  # fmt: skip
DEVICES = ("android", "ios", "desktop", "tablet")
DEVICE_EFFECT = np.array([0.0, 0.1, -0.3, -0.1])
#: Devices' click effect drifts (logit change over the 12 weeks): mobile formats improve
#: while desktop declines, so a model of the whole window is stale on the last weeks.
DEVICE_TREND = np.array([1.0, 0.6, -1.2, 0.0])
POSITION_EFFECT = np.array([0.0, -0.45, -0.75, -0.95, -1.1])  # slots 1..5
N_RETARGET = 3  # advertisers whose site each user visited
RETARGET_SHARE = 0.15  # share of impressions that are retargeting
RETARGET_EFFECT = 1.3  # logit lift when the ad's advertiser retargets this user

SIZES = {
    "tiny": {
        "n_users": 2000,
        "n_ads": 800,
        "n_advertisers": 60,
        "train_rows": 2000,
        "heldout_rows": 2000,
    },
    "default": {
        "n_users": 80000,
        "n_ads": 32000,
        "n_advertisers": 1000,
        "train_rows": 300000,
        "heldout_rows": 150000,
    },
    "bench": {
        "n_users": 500000,
        "n_ads": 160000,
        "n_advertisers": 5000,
        "train_rows": 2000000,
        "heldout_rows": 1000000,
    },
}

SPEC = DatasetSpec(
    case_slug=CASE_SLUG,
    task_type="binary",
    generator_version=GENERATOR_VERSION,
    feature_columns=(
        ColumnSpec("user_id", "int64", "Anonymised user id (high cardinality).", "id"),
        ColumnSpec(
            "ad_id",
            "int64",
            "Creative id; new ads launch every day, so some ids are unseen in train.",
            "id",
        ),
        ColumnSpec("advertiser_id", "int64", "Advertiser owning the ad.", "id"),
        ColumnSpec("ad_category", "string", "Advertiser vertical (20 values).", "feature"),
        ColumnSpec(
            "position",
            "int64",
            "Ad slot on the page, 1 (top) .. 5, decided by the auction before scoring.",
            "feature",
        ),
        ColumnSpec("hour", "int64", "Local hour of the impression (0-23).", "feature"),
        ColumnSpec("device", "string", "android, ios, desktop or tablet.", "feature"),
        ColumnSpec(
            "user_past_impressions",
            "int64",
            "Ad impressions the user had before this one (all time).",
            "feature",
        ),
        ColumnSpec(
            "user_past_clicks",
            "int64",
            "Ad clicks the user made before this impression (all time).",
            "feature",
        ),
    ),
    label_column="clicked",
    label_description="1 if the impression was clicked, else 0.",
    group_column=None,
    request_rows=50,
    label_dtype="int64",
    primary_metric="log_loss",
    extra_train_columns=(time_column_spec(),),
    cold_start_columns=("ad_id",),
    missing_feature_defaults=(("user_past_impressions", 0), ("user_past_clicks", 0)),
    summary=(
        "Ad impressions with user, ad, advertiser and context; predict P(click). "
        "Scored by log loss / normalized entropy and calibration."
    ),
)


def build(seed: int, size: str) -> BuiltDataset:
    check_size(size)
    p = SIZES[size]
    rng = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "world")
    n_cat = len(CATEGORIES)

    # --- advertisers & ads ----------------------------------------------------
    centroid = rng.normal(0.0, 1.0, (n_cat, K)) / np.sqrt(K)
    na = p["n_advertisers"]
    adv_cat = rng.integers(0, n_cat, na)
    adv_vec = centroid[adv_cat] + rng.normal(0.0, 0.6, (na, K)) / np.sqrt(K)
    adv_eff = rng.normal(0.0, 0.6, na)
    adv_size = np.exp(rng.normal(0.0, 1.2, na))
    cat_trend = rng.normal(0.0, 0.4, n_cat)

    nad = p["n_ads"]
    ad_adv = sample_cdf(rng, adv_size, nad)
    ad_vec = adv_vec[ad_adv] + rng.normal(0.0, 0.4, (nad, K)) / np.sqrt(K)
    ad_quality = rng.normal(0.0, 0.45, nad)
    ad_spend = adv_size[ad_adv] * np.exp(rng.normal(0.0, 1.0, nad))
    total_days = TRAIN_DAYS + HELDOUT_DAYS
    ad_start = rng.integers(-60, total_days, nad).astype(np.int64)
    evergreen = rng.random(nad) < 0.15
    ad_end = np.where(
        evergreen, 10_000, ad_start + 10 + rng.exponential(35.0, nad).astype(np.int64)
    )
    ad_start[evergreen] = -90
    ad_ids = (rng.permutation(nad) + 1).astype(np.int64)
    adv_ids = (rng.permutation(na) + 1).astype(np.int64)

    # --- users ----------------------------------------------------------------
    nu = p["n_users"]
    u_act = np.exp(rng.normal(0.0, 1.7, nu))
    u_bias = rng.normal(0.0, 0.7, nu)
    u_vec = rng.normal(0.0, 1.0, (nu, K))
    u_device = sample_cdf(rng, np.array([0.45, 0.3, 0.2, 0.05]), nu)
    # retargeting: each user visited 3 advertisers' sites; those advertisers bid on the user
    u_retarget = sample_cdf(rng, adv_size, nu * N_RETARGET).reshape(nu, N_RETARGET)
    user_ids = (rng.permutation(nu) + 1).astype(np.int64)

    # --- impressions ------------------------------------------------------------
    n_tr, n_ho = p["train_rows"], p["heldout_rows"]
    day = np.concatenate(
        [day_uniform(rng, n_tr, heldout=False), day_uniform(rng, n_ho, heldout=True)]
    )
    n = len(day)
    hour_w = np.array(
        [
            0.5,
            0.3,
            0.2,
            0.2,
            0.2,
            0.4,
            0.8,
            1.4,
            1.8,
            1.8,
            1.7,
            1.7,
            2,
            1.9,
            1.7,
            1.7,
            1.8,
            2,
            2.3,
            2.6,
            2.8,
            2.6,
            1.8,
            1,
        ]
    )
    hour = sample_cdf(rng, hour_w, n)
    sec = rng.integers(0, 3600, n)
    user = sample_cdf(rng, u_act, n)
    ad = sample_available(rng, ad_spend, ad_start, ad_end, day)
    # a share of impressions are retargeting: an ad of one of the user's visited advertisers
    by_adv = np.argsort(ad_adv, kind="stable")
    adv_end = np.searchsorted(ad_adv[by_adv], np.arange(na), side="right")
    adv_begin = np.r_[0, adv_end[:-1]]
    rt = np.flatnonzero(rng.random(n) < RETARGET_SHARE)
    r_adv = u_retarget[user[rt], rng.integers(0, N_RETARGET, len(rt))]
    n_ads = adv_end[r_adv] - adv_begin[r_adv]
    cand = by_adv[
        np.minimum(adv_begin[r_adv] + (rng.random(len(rt)) * n_ads).astype(np.int64), nad - 1)
    ]
    ok = (n_ads > 0) & (ad_start[cand] <= day[rt]) & (ad_end[cand] > day[rt])
    ad[rt[ok]] = cand[ok]
    device = np.where(rng.random(n) < 0.85, u_device[user], rng.integers(0, len(DEVICES), n))
    # auction: better creatives / bigger spend win higher slots
    slot_score = 0.8 * ad_quality[ad] + 0.3 * np.log(ad_spend[ad]) + rng.normal(0.0, 1.0, n)
    # slot shares 30/25/20/15/10 % for positions 1..5
    cut = np.quantile(slot_score, [0.10, 0.25, 0.45, 0.70])  # ascending score cut-offs
    position = (5 - np.searchsorted(cut, slot_score)).astype(np.int64)

    t = day / float(total_days)
    adv = ad_adv[ad]
    affinity = np.einsum("ij,ij->i", u_vec[user], ad_vec[ad]) * 1.1
    retargeted = (u_retarget[user] == ad_adv[ad][:, None]).any(axis=1)
    logit = (
        u_bias[user]
        + affinity
        + RETARGET_EFFECT * retargeted
        + adv_eff[adv]
        + ad_quality[ad]
        + POSITION_EFFECT[position - 1]
        + 0.25 * np.sin(2 * np.pi * (hour - 15) / 24.0)
        + DEVICE_EFFECT[device]
        + DEVICE_TREND[device] * t
        - 0.006 * np.clip(day - ad_start[ad], 0, 120)
        + cat_trend[adv_cat[adv]] * t
        + rng.normal(0.0, 0.2, n)
    )
    b0 = calibrate_intercept(logit, TARGET_RATE)
    clicked = (rng.random(n) < sigmoid(logit + b0)).astype(np.int64)

    # --- user history counters (strictly before each impression) ---------------
    prior_impr = rng.poisson(40.0 * u_act)
    prior_clicks = rng.binomial(prior_impr, sigmoid(u_bias + b0 - 0.4))
    ts = day * 86400 + hour * 3600 + sec
    order = np.lexsort((rng.random(n), ts, user))
    us = user[order]
    first = np.r_[True, us[1:] != us[:-1]]
    idx = np.arange(n)
    start = np.maximum.accumulate(np.where(first, idx, 0))
    csum = np.cumsum(clicked[order])
    clicks_before_sorted = csum - clicked[order] - np.where(start > 0, csum[start - 1], 0)
    past_impr = np.empty(n, dtype=np.int64)
    past_clicks = np.empty(n, dtype=np.int64)
    past_impr[order] = prior_impr[us] + (idx - start)
    past_clicks[order] = prior_clicks[us] + clicks_before_sorted

    # chronological row order
    chrono = np.lexsort((rng.random(n), ts))
    columns = {
        TIME_COLUMN: day[chrono],
        "user_id": user_ids[user][chrono],
        "ad_id": ad_ids[ad][chrono],
        "advertiser_id": adv_ids[adv][chrono],
        "ad_category": strings(CATEGORIES, adv_cat[adv][chrono]),
        "position": position[chrono],
        "hour": hour[chrono],
        "device": strings(DEVICES, device[chrono]),
        "user_past_impressions": past_impr[chrono],
        "user_past_clicks": past_clicks[chrono],
        "clicked": clicked[chrono],
    }
    return assemble(SPEC, seed, size, columns)


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------
_CONTEXT = (
    ("onehot", "position"),
    ("onehot", "hour"),
    ("onehot", "device"),
    ("onehot", "ad_category"),
    ("rate", "user_past_clicks", "user_past_impressions"),
    ("num", "user_past_impressions", "log1p"),
)
_IDS = (
    ("te", ("ad_id",)),
    ("te", ("advertiser_id",)),
    ("te", ("user_id", "ad_category")),
    ("te", ("user_id", "advertiser_id")),
)
# what a model that only memorises histories has: no advertiser back-off, no context
_ID_HISTORY = (
    ("te", ("ad_id",)),
    ("te", ("user_id", "ad_category")),
    ("te", ("user_id", "advertiser_id")),
    ("rate", "user_past_clicks", "user_past_impressions"),
)
BASELINES = (
    BaselineRecipe(
        name="trivial",
        description="Constant: the training click rate for every impression.",
        blocks=(("const",),),
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="reasonable",
        description="Logistic regression: one-hot position/hour/device/category, "
        "smoothed user CTR, plus target-encoded ad_id, advertiser_id and "
        "user x category / user x advertiser crosses.",
        blocks=_CONTEXT + _IDS,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="without_design_choice",
        description="Same logistic regression without any id / id-cross features.",
        blocks=_CONTEXT,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="id_history_only",
        description="Id histories only: logistic regression on target-encoded ad_id, user x "
        "category and user x advertiser and the smoothed user CTR (no advertiser back-off, no "
        "context).",
        blocks=_ID_HISTORY,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="recency_weighted",
        description="The reasonable recipe fitted with recency weights (a row's weight halves "
        "every 14 days before the last training day).",
        blocks=_CONTEXT + _IDS,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
        recency_half_life_days=RECENCY_HALF_LIFE_DAYS,
    ),
)
DESIGN_CHOICE = DesignChoice(
    "target-encoded id features and id crosses "
    "(ad, advertiser, user x category, user x advertiser)"
)
SCENARIO_CHOICES = (
    ScenarioChoice(
        "cold_start",
        "advertiser and category back-off plus context features beside the ad_id history, for "
        "ads launched after the training window",
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
