"""video-recommendation: rank ~100 retrieved candidate videos for a user.

Generative story
----------------
* Videos belong to one of 12 genres, have a duration, an upload day (a back
  catalogue plus steady uploads during the simulated 12 weeks), a hidden quality
  and a hidden 4-d "style" vector.
* Users like 1-3 genres strongly (hidden user x genre affinity matrix) and have a
  hidden style vector; their watch propensity also has a per-user bias.
* A request = one user on one day; candidates come half from "taste retrieval"
  (videos from the user's liked genres) and half from popularity retrieval, only
  among videos already uploaded.
* watch ~ Bernoulli(sigmoid(b0 + user x genre affinity + style match + video
  quality + popularity + duration + freshness + genre trend + user bias)), with
  b0 calibrated to a ~3.5 % watch rate.
* Observable metadata: genre, duration, age, 7-day popularity (a noisy,
  quality-correlated log view count). Metadata alone ranks better than random
  (popularity/genre/duration carry signal); the user x genre affinity and the
  per-video quality are only recoverable from user_id / video_id histories,
  so a collaborative / ID-based model clearly wins.
* Drift: genre popularity trends over the 12 weeks, videos decay with age and
  new uploads (cold video ids) keep arriving; 10 % of held-out users are new.
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
    dedupe_within_groups,
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

CASE_SLUG = "video-recommendation"
GENERATOR_VERSION = 2  # 2: scenario slices (cold start, latest week, defaulted features)
TARGET_RATE = 0.035
#: Spread of the genres' popularity trends (logit change over the 12 weeks): staleness.
GENRE_TREND_SD = 1.2
#: New users' candidates from "fresh" retrieval were uploaded in this many days before.
FRESH_DAYS = 14

GENRES = (
    "comedy", "music", "gaming", "news", "sports", "education",
    "cooking", "travel", "tech", "beauty", "kids", "documentary",
)  # fmt: skip

SIZES = {
    # users with train history; held-out users (90 % returning, 10 % new); candidates per request
    "tiny": {
        "n_users": 60,
        "n_videos": 1500,
        "train_requests": 40,
        "train_cands": 50,
        "heldout_users": 20,
        "heldout_cands": 100,
    },
    "default": {
        "n_users": 1200,
        "n_videos": 6000,
        "train_requests": 6000,
        "train_cands": 50,
        "heldout_users": 1000,
        "heldout_cands": 100,
    },
    "bench": {
        "n_users": 16000,
        "n_videos": 40000,
        "train_requests": 48000,
        "train_cands": 50,
        "heldout_users": 11000,
        "heldout_cands": 100,
    },
}

SPEC = DatasetSpec(
    case_slug=CASE_SLUG,
    task_type="ranking",
    generator_version=GENERATOR_VERSION,
    feature_columns=(
        ColumnSpec(
            "user_id",
            "int64",
            "Viewer id (also the ranking group). New users appear in the held-out weeks.",
            "group",
        ),
        ColumnSpec(
            "video_id",
            "int64",
            "Candidate video id. New uploads keep arriving, so some ids are unseen in train.",
            "id",
        ),
        ColumnSpec("genre", "string", "Video genre (one of 12).", "feature"),
        ColumnSpec("duration_min", "float32", "Video duration in minutes.", "feature"),
        ColumnSpec("video_age_days", "float32", "Days since upload at request time.", "feature"),
        ColumnSpec(
            "popularity_7d",
            "float32",
            "log1p(views in the 7 days before the request), all users.",
            "feature",
        ),
    ),
    label_column="watched",
    label_description=(
        "1 if the user watched the video (>= 50 % or >= 30 s) after it was recommended, else 0."
    ),
    group_column="user_id",
    request_rows=100,
    label_dtype="int64",
    primary_metric="ndcg_at_10",
    extra_train_columns=(
        time_column_spec(),
        ColumnSpec(
            "request_id",
            "int64",
            "One recommendation request (a user on a day). In train a user has several requests; "
            "in the held-out split every user has exactly one, so user_id identifies the request.",
            "train_only",
        ),
    ),
    cold_start_columns=("user_id",),
    missing_feature_defaults=(("popularity_7d", 0.0),),
    summary=(
        "Candidate videos (retrieval output) shown to a user; predict which ones the user "
        "watches. "
        "Held-out: one request of ~100 candidates per user, ranked per user."
    ),
)


def build(seed: int, size: str) -> BuiltDataset:
    check_size(size)
    p = SIZES[size]
    rng = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "world")
    n_genre = len(GENRES)

    # --- videos ---------------------------------------------------------
    nv = p["n_videos"]
    v_genre = sample_cdf(
        rng, np.array([1.4, 1.3, 1.2, 0.8, 1.0, 0.7, 0.8, 0.7, 0.9, 0.8, 0.8, 0.6]), nv
    )
    v_quality = rng.normal(0.0, 0.6, nv)
    v_style = rng.normal(0.0, 1.0, (nv, 4))
    back = rng.random(nv) < 0.7
    v_upload = np.where(
        back,
        -rng.integers(1, 366, nv),
        rng.integers(0, TRAIN_DAYS + HELDOUT_DAYS, nv),
    ).astype(np.int64)
    v_duration = np.clip(np.exp(rng.normal(np.log(7.0), 0.8, nv)), 0.3, 180.0)
    v_pop = np.exp(0.9 * rng.normal(0.0, 1.0, nv) + 0.4 * v_quality)
    v_tau = rng.uniform(20.0, 90.0, nv)  # popularity half-life-ish (days)
    video_ids = (rng.permutation(nv) + 1).astype(np.int64)
    genre_trend = GENRE_TREND_SD * rng.normal(0.0, 1.0, n_genre)  # logit change, 12 weeks
    genre_base = rng.normal(0.0, 0.25, n_genre)

    # --- users ----------------------------------------------------------
    nu_old = p["n_users"]
    n_new = max(1, int(round(0.1 * p["heldout_users"])))
    nu = nu_old + n_new
    liked = rng.random((nu, n_genre)) < (np.array([2.0]) / n_genre)
    liked[np.arange(nu), rng.integers(0, n_genre, nu)] = True  # at least one liked genre
    u_genre = np.where(liked, 1.8, -0.5) + rng.normal(0.0, 0.35, (nu, n_genre))
    u_style = rng.normal(0.0, 1.0, (nu, 4))
    u_bias = rng.normal(0.0, 0.5, nu)
    u_activity = np.exp(rng.normal(0.0, 0.7, nu_old))
    user_ids = (rng.permutation(nu) + 1).astype(np.int64)

    # --- requests ---------------------------------------------------------
    n_tr = p["train_requests"]
    tr_user = sample_cdf(rng, u_activity, n_tr)
    tr_day = day_uniform(rng, n_tr, heldout=False)
    n_ho = p["heldout_users"]
    # returning users are drawn from users with train history (plus new users)
    seen = np.unique(tr_user)
    unseen = np.setdiff1d(np.arange(nu_old), seen)
    pool = np.concatenate([rng.permutation(seen), rng.permutation(unseen)])
    ho_old = pool[: n_ho - n_new]
    ho_user = np.concatenate([ho_old, np.arange(nu_old, nu)])
    ho_user = ho_user[rng.permutation(len(ho_user))]
    ho_day = day_uniform(rng, n_ho, heldout=True)
    req_user = np.concatenate([tr_user, ho_user])
    req_day = np.concatenate([tr_day, ho_day])
    req_size = np.concatenate([np.full(n_tr, p["train_cands"]), np.full(n_ho, p["heldout_cands"])])
    # chronological request ids
    req_order = np.lexsort((rng.random(len(req_day)), req_day))
    req_user, req_day, req_size = req_user[req_order], req_day[req_order], req_size[req_order]
    n_req = len(req_user)
    req_id = np.arange(1, n_req + 1, dtype=np.int64)

    row_req = np.repeat(np.arange(n_req), req_size)
    row_user = req_user[row_req]
    row_day = req_day[row_req]
    n = len(row_req)

    # --- candidate retrieval ---------------------------------------------
    # videos sorted by genre so a genre is a contiguous segment of one global cdf
    by_genre = np.argsort(v_genre, kind="stable")
    w = np.sqrt(v_pop[by_genre])
    cdf = np.cumsum(w)
    seg_end = np.searchsorted(v_genre[by_genre], np.arange(n_genre), side="right")
    seg_start = np.r_[0, seg_end[:-1]]
    cdf_lo = np.where(seg_start > 0, cdf[np.maximum(seg_start - 1, 0)], 0.0)
    cdf_hi = cdf[seg_end - 1]
    # per-user genre preference, flattened into one global cdf (user-major)
    pref_cdf = np.cumsum(np.where(liked, np.exp(u_genre), 0.0).ravel())
    pref_hi = pref_cdf[n_genre - 1 :: n_genre]
    pref_lo = np.r_[0.0, pref_hi[:-1]]

    by_upload = np.argsort(v_upload, kind="stable")
    upload_sorted = v_upload[by_upload]

    def draw(rng_, rows):
        m = len(rows)
        taste = rng_.random(m) < 0.5
        # genre for taste rows: one of the user's liked genres
        ru = row_user[rows]
        xg = pref_lo[ru] + rng_.random(m) * (pref_hi[ru] - pref_lo[ru])
        g = np.searchsorted(pref_cdf, xg, side="right") - ru * n_genre
        g = np.clip(g, 0, n_genre - 1)
        u = rng_.random(m)
        x_taste = cdf_lo[g] + u * (cdf_hi[g] - cdf_lo[g])
        x_pop = u * cdf[-1]
        x = np.where(taste, x_taste, x_pop)
        vid = by_genre[np.minimum(np.searchsorted(cdf, x, side="right"), nv - 1)]
        # cold start: a new user's taste is unknown, so their "taste" half comes from fresh
        # uploads (the last FRESH_DAYS), which have little or no watch history of their own
        fresh = taste & (ru >= nu_old)
        if fresh.any():
            d = row_day[rows][fresh]
            lo = np.searchsorted(upload_sorted, d - FRESH_DAYS, side="left")
            hi = np.searchsorted(upload_sorted, d, side="right")
            pick = lo + (rng_.random(len(d)) * np.maximum(hi - lo, 1)).astype(np.int64)
            vid[fresh] = np.where(hi > lo, by_upload[np.minimum(pick, nv - 1)], vid[fresh])
        return vid

    cand = draw(rng, np.arange(n))
    for _ in range(30):  # only videos uploaded by the request day
        bad = np.flatnonzero(v_upload[cand] > row_day)
        if len(bad) == 0:
            break
        cand[bad] = draw(rng, bad)
    bad = v_upload[cand] > row_day
    cand[bad] = by_genre[0]  # pragma: no cover - vanishingly rare fallback

    def redraw(rng_, rows):
        out = draw(rng_, rows)
        late = v_upload[out] > row_day[rows]
        out[late] = cand[rows][late]
        return out

    keep = dedupe_within_groups(rng, row_req, cand, redraw)
    row_req, row_user, row_day, cand = row_req[keep], row_user[keep], row_day[keep], cand[keep]
    n = len(cand)

    # --- features & label -------------------------------------------------
    t = (row_day.astype(np.float64)) / float(TRAIN_DAYS + HELDOUT_DAYS)
    age = (row_day - v_upload[cand]).astype(np.float64) + rng.uniform(0.0, 1.0, n)
    g = v_genre[cand]
    trend_views = np.exp(genre_trend[g] * t)
    exp_views = (
        300.0
        * v_pop[cand]
        * np.exp(-age / v_tau[cand])
        * trend_views
        * np.minimum(1.0, (age + 0.3) / 7.0)
    )
    views7 = rng.poisson(exp_views)
    popularity = np.log1p(views7)

    logit = (
        u_genre[row_user, g]
        + 0.3 * np.einsum("ij,ij->i", u_style[row_user], v_style[cand])
        + 1.0 * v_quality[cand]
        + 0.15 * np.log1p(exp_views)
        - 0.35 * np.log(v_duration[cand] / 7.0)
        - 0.25 * np.log1p(age / 30.0)
        + genre_base[g]
        + genre_trend[g] * t
        + u_bias[row_user]
        + rng.normal(0.0, 0.3, n)
    )
    b0 = calibrate_intercept(logit, TARGET_RATE)
    watched = (rng.random(n) < sigmoid(logit + b0)).astype(np.int64)

    columns = {
        TIME_COLUMN: row_day,
        "request_id": req_id[row_req],
        "user_id": user_ids[row_user],
        "video_id": video_ids[cand],
        "genre": strings(GENRES, g),
        "duration_min": round32(v_duration[cand], 2),
        "video_age_days": round32(age, 2),
        "popularity_7d": round32(popularity, 3),
        "watched": watched,
    }
    return assemble(SPEC, seed, size, columns)


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------
_METADATA = (
    ("onehot", "genre"),
    ("num", "duration_min", "log1p"),
    ("num", "video_age_days", "log1p"),
    ("num", "popularity_7d", "none"),
)
_IDS = (("te", ("user_id", "genre")), ("te", ("video_id",)), ("te", ("user_id",)))
BASELINES = (
    BaselineRecipe(
        name="trivial",
        description="Popularity only: logistic regression on popularity_7d "
        "(ranks by 7-day views).",
        blocks=(("num", "popularity_7d", "none"),),
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="reasonable",
        description="Logistic regression on metadata plus collaborative id features: "
        "target-encoded user x genre, video_id and user_id.",
        blocks=_METADATA + _IDS,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="without_design_choice",
        description="Metadata-only logistic regression (genre, duration, age, popularity).",
        blocks=_METADATA,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="id_history_only",
        description="Id histories only: logistic regression on target-encoded user x genre, "
        "video_id and user_id (no content features).",
        blocks=_IDS,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
    ),
    BaselineRecipe(
        name="recency_weighted",
        description="The reasonable recipe fitted with recency weights (a row's weight halves "
        "every 14 days before the last training day).",
        blocks=_METADATA + _IDS,
        estimator=LOGISTIC_REGRESSION,
        target="binary",
        output="probability",
        recency_half_life_days=RECENCY_HALF_LIFE_DAYS,
    ),
)
DESIGN_CHOICE = DesignChoice(
    "collaborative / id features (user x genre, video, user) vs metadata-only"
)
SCENARIO_CHOICES = (
    ScenarioChoice(
        "cold_start",
        "content features (genre, duration, age, popularity) beside the id histories, for users "
        "with no history",
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
