"""feed-ranking: predict clicks on posts shown in a social feed session.

Generative story
----------------
* Users are both viewers and authors. Each viewer has 40 connections; each edge
  has a hidden tie strength and a hidden interest ("affinity") in the author's
  posts (correlated, rho ~ 0.5). Some authors are pages/celebrities (many followers).
* Observable edge features: ``connection_strength`` (noisy sigmoid of tie
  strength, e.g. from mutual friends / messaging) and ``viewer_author_affinity``
  (smoothed past engagement rate of the viewer on that author's posts over 30
  days: a noisy but direct estimate of the hidden affinity).
* A session = one viewer opening the feed on a day/hour/device; it shows 10-50
  posts from the viewer's connections, each with an activity type, age, author
  follower count and reactions so far (noisy proxy for hidden post quality).
* click ~ Bernoulli(sigmoid(b0 + affinity + tie strength + activity type + post
  quality - log post age + device + viewer bias)), b0 calibrated to ~1 %.
* Drift: the share of video posts grows from 12 % to 30 % over 12 weeks and
  viewers' appetite for video grows too, so a model trained on weeks 1-8 is
  increasingly stale on held-out weeks.
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
    round32,
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

CASE_SLUG = "feed-ranking"
GENERATOR_VERSION = 2  # 2: scenario slices (cold start, latest week, defaulted features)
#: Viewers' appetite for video grows (logit change over the 12 weeks): staleness.
VIDEO_APPETITE_TREND = 1.5
#: Share of viewers who join during the held-out weeks (the cold-start scenario).
NEW_VIEWER_SHARE = 0.08
#: ``viewer_author_affinity`` with no engagement history: the smoothing prior 0.5 / 5.
NEW_VIEWER_AFFINITY = 0.1
TARGET_RATE = 0.010

ACTIVITY_TYPES = ("photo", "video", "status", "link", "share", "comment", "like")
ACTIVITY_EFFECT = np.array([0.35, 0.15, 0.0, -0.25, -0.1, -0.35, -0.7])
ACTIVITY_MIX = np.array([0.26, 0.12, 0.18, 0.12, 0.12, 0.10, 0.10])
DEVICES = ("android", "ios", "web")
DEVICE_EFFECT = np.array([0.0, 0.1, -0.25])
N_CONN = 40

SIZES = {
    "tiny": {"n_users": 400, "train_sessions": 70, "heldout_sessions": 70},
    "default": {"n_users": 20000, "train_sessions": 10000, "heldout_sessions": 3300},
    "bench": {"n_users": 150000, "train_sessions": 70000, "heldout_sessions": 34000},
}

SPEC = DatasetSpec(
    case_slug=CASE_SLUG,
    task_type="binary",
    generator_version=GENERATOR_VERSION,
    feature_columns=(
        ColumnSpec("viewer_id", "int64", "Id of the user viewing the feed.", "id"),
        ColumnSpec(
            "author_id", "int64", "Id of the post's author (a connection of the viewer).", "id"
        ),
        ColumnSpec(
            "activity_type",
            "string",
            "Kind of story: photo, video, status, link, share, comment, like.",
            "feature",
        ),
        ColumnSpec(
            "connection_strength",
            "float32",
            "Strength of the viewer-author tie in [0, 1] (mutual friends, messaging).",
            "feature",
        ),
        ColumnSpec(
            "post_age_hours",
            "float32",
            "Hours since the post was created, at session time.",
            "feature",
        ),
        ColumnSpec(
            "viewer_author_affinity",
            "float32",
            "Viewer's smoothed engagement rate on this author's posts over the last 30 days, "
            "in [0, 1].",
            "feature",
        ),
        ColumnSpec("author_followers", "int64", "Author's follower count.", "feature"),
        ColumnSpec(
            "post_reactions",
            "int64",
            "Reactions the post has received so far (all viewers).",
            "feature",
        ),
        ColumnSpec("hour", "int64", "Local hour of the session (0-23).", "feature"),
        ColumnSpec("device", "string", "Device of the session: android, ios, web.", "feature"),
    ),
    label_column="clicked",
    label_description="1 if the viewer clicked / engaged with the post in this session, else 0.",
    group_column="session_id",
    request_rows=30,
    label_dtype="int64",
    primary_metric="normalized_entropy",
    extra_train_columns=(
        time_column_spec(),
        ColumnSpec(
            "session_id",
            "int64",
            "Feed session (one viewer, one visit); groups 10-50 posts for per-session "
            "ranking metrics. "
            "Not a model input.",
            "group",
        ),
    ),
    cold_start_columns=("viewer_id",),
    missing_feature_defaults=(
        ("viewer_author_affinity", NEW_VIEWER_AFFINITY),
        ("post_reactions", 0),
    ),
    summary=(
        "Posts shown in a viewer's feed session; predict the click probability of each post "
        "(scored by normalized entropy, with per-session ranking metrics)."
    ),
)


def build(seed: int, size: str) -> BuiltDataset:
    check_size(size)
    p = SIZES[size]
    rng = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "world")
    nu = p["n_users"]

    # --- users & graph --------------------------------------------------------
    followers = np.exp(rng.normal(np.log(300.0), 1.0, nu))
    celeb = rng.random(nu) < 0.01
    followers[celeb] *= np.exp(rng.normal(4.0, 1.0, int(celeb.sum())))
    u_bias = rng.normal(0.0, 0.5, nu)
    u_activity = np.exp(rng.normal(0.0, 0.8, nu))
    u_device = sample_cdf(rng, np.array([0.5, 0.35, 0.15]), nu)
    u_video_taste = rng.normal(0.0, 0.5, nu)
    user_ids = (rng.permutation(nu) + 1).astype(np.int64)

    conn = sample_cdf(rng, np.sqrt(followers), nu * N_CONN).reshape(nu, N_CONN)
    tie = rng.normal(0.0, 1.0, (nu, N_CONN))
    aff = 0.5 * tie + np.sqrt(0.75) * rng.normal(0.0, 1.0, (nu, N_CONN))
    strength = sigmoid(1.2 * tie + rng.normal(0.0, 0.6, (nu, N_CONN)) - 0.3)
    past_impr = rng.poisson(25.0 * np.exp(0.4 * tie))
    past_eng = rng.binomial(past_impr, sigmoid(-2.2 + 1.0 * aff + 0.2 * tie))
    affinity_obs = (past_eng + 0.5) / (past_impr + 5.0)
    # how often a connection's posts show up (active authors, close ties)
    edge_w = np.exp(0.3 * tie) * np.exp(rng.normal(0.0, 0.5, (nu, N_CONN)))
    edge_cdf = np.cumsum(edge_w, axis=1)

    # --- sessions -----------------------------------------------------------
    n_tr, n_ho = p["train_sessions"], p["heldout_sessions"]
    s_day = np.concatenate(
        [day_uniform(rng, n_tr, heldout=False), day_uniform(rng, n_ho, heldout=True)]
    )
    s_day = np.sort(s_day)
    ns = len(s_day)
    s_user = sample_cdf(rng, u_activity, ns)
    # Cold start: a share of viewers joined during the held-out weeks. Their training-window
    # sessions go to returning viewers, and their engagement history is empty, so their
    # affinity is the smoothing prior, as a feature store would serve it (own stream: the
    # world's draws above and below stay as they were).
    cold = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "cold-start")
    u_new = cold.random(nu) < NEW_VIEWER_SHARE
    returning = np.flatnonzero(~u_new)
    moved = (s_day < TRAIN_DAYS) & u_new[s_user]
    s_user[moved] = returning[sample_cdf(cold, u_activity[returning], int(moved.sum()))]
    # the other held-out viewers are returning ones (seen in the training window), so the
    # viewers unseen in train are exactly the new ones
    seen = np.unique(s_user[s_day < TRAIN_DAYS])
    stray = (s_day >= TRAIN_DAYS) & ~u_new[s_user] & ~np.isin(s_user, seen)
    s_user[stray] = seen[sample_cdf(cold, u_activity[seen], int(stray.sum()))]
    affinity_obs[u_new] = NEW_VIEWER_AFFINITY
    hour_w = np.array(
        [
            1,
            0.6,
            0.4,
            0.3,
            0.3,
            0.5,
            1,
            2,
            3,
            3,
            2.5,
            2.5,
            3,
            2.5,
            2,
            2,
            2.2,
            2.5,
            3,
            3.5,
            4,
            4,
            3,
            2,
        ]
    )
    s_hour = sample_cdf(rng, hour_w, ns)
    s_device = np.where(rng.random(ns) < 0.85, u_device[s_user], rng.integers(0, len(DEVICES), ns))
    s_size = rng.integers(10, 51, ns)
    session_ids = np.arange(1, ns + 1, dtype=np.int64)

    row_s = np.repeat(np.arange(ns), s_size)
    n = len(row_s)
    v = s_user[row_s]
    day = s_day[row_s]
    t = day / float(TRAIN_DAYS + HELDOUT_DAYS)

    # pick the connection whose post is shown
    r = rng.random(n) * edge_cdf[v, -1]
    c = _row_search(edge_cdf, v, r)
    a = conn[v, c]

    # activity type with a drifting mix (video share 12 % -> 30 %)
    other = ACTIVITY_MIX.copy()
    other[1] = 0.0
    act = sample_cdf(rng, other, n)
    act[rng.random(n) < 0.12 + 0.18 * t] = 1

    age = np.minimum(rng.exponential(14.0, n) + rng.uniform(0.05, 1.0, n), 96.0)
    quality = rng.normal(0.0, 0.6, n)
    reactions = rng.poisson(
        0.02 * followers[a] ** 0.8 * np.exp(0.9 * quality) * np.minimum(1.0, (age + 0.5) / 12.0)
    )
    video_pref = (0.1 + VIDEO_APPETITE_TREND * t) + u_video_taste[v]
    act_eff = ACTIVITY_EFFECT[act] + np.where(act == 1, video_pref, 0.0)

    logit = (
        1.0 * aff[v, c]
        + 0.45 * tie[v, c]
        + act_eff
        + 0.55 * quality
        - 0.35 * np.log1p(age)
        + 0.1 * np.log1p(followers[a] / 300.0)
        + DEVICE_EFFECT[s_device[row_s]]
        + 0.05 * np.cos(2 * np.pi * (s_hour[row_s] - 20) / 24.0)
        + u_bias[v]
        + rng.normal(0.0, 0.3, n)
    )
    b0 = calibrate_intercept(logit, TARGET_RATE)
    clicked = (rng.random(n) < sigmoid(logit + b0)).astype(np.int64)

    columns = {
        TIME_COLUMN: day,
        "session_id": session_ids[row_s],
        "viewer_id": user_ids[v],
        "author_id": user_ids[a],
        "activity_type": strings(ACTIVITY_TYPES, act),
        "connection_strength": round32(strength[v, c], 4),
        "post_age_hours": round32(age, 2),
        "viewer_author_affinity": round32(affinity_obs[v, c], 4),
        "author_followers": np.round(followers[a]).astype(np.int64),
        "post_reactions": reactions.astype(np.int64),
        "hour": s_hour[row_s],
        "device": strings(DEVICES, s_device[row_s]),
        "clicked": clicked,
    }
    return assemble(SPEC, seed, size, columns)


def _row_search(
    edge_cdf: np.ndarray, v: np.ndarray, r: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """Per-row inverse-cdf over the viewer's connections, in chunks (bounded memory)."""
    out = np.empty(len(v), dtype=np.int64)
    for s in range(0, len(v), chunk):
        e = slice(s, s + chunk)
        out[e] = np.minimum((edge_cdf[v[e]] < r[e][:, None]).sum(axis=1), N_CONN - 1)
    return out


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------
_CONTEXT = (
    ("onehot", "activity_type"),
    ("num", "connection_strength", "none"),
    ("num", "post_age_hours", "log1p"),
    ("num", "author_followers", "log1p"),
    ("num", "post_reactions", "log1p"),
    ("cyclic", "hour", 24),
    ("onehot", "device"),
)
_AFFINITY = (
    ("num", "viewer_author_affinity", "none"),
    ("num", "viewer_author_affinity", "log1p"),
)
BASELINES = (
    BaselineRecipe(
        name="trivial",
        description="Constant: the training click rate for every post.",
        blocks=(("const",),),
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="reasonable",
        description="Logistic regression on activity type, connection strength, "
        "log post age, "
        "author/post popularity, hour, device and viewer-author affinity.",
        blocks=_CONTEXT + _AFFINITY,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="without_design_choice",
        description="Same logistic regression without the viewer-author affinity feature.",
        blocks=_CONTEXT,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="id_history_only",
        description="Engagement history only: logistic regression on the viewer-author affinity "
        "(no post or context features).",
        blocks=_AFFINITY,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="recency_weighted",
        description="The reasonable recipe fitted with recency weights (a row's weight halves "
        "every 14 days before the last training day).",
        blocks=_CONTEXT + _AFFINITY,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
        recency_half_life_days=RECENCY_HALF_LIFE_DAYS,
    ),
)
DESIGN_CHOICE = DesignChoice("viewer-author affinity feature")
SCENARIO_CHOICES = (
    ScenarioChoice(
        "cold_start",
        "post and context features beside the viewer-author affinity, for viewers with no "
        "engagement history",
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
