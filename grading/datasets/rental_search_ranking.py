"""rental-search-ranking: rank the listings returned for a stay search.

Generative story
----------------
* A city of 25 neighbourhoods (hidden desirability). Listings have a room type,
  capacity, a nightly base price, a rating and review count, a location, and a
  hidden *quality* (photos, host responsiveness, amenities) that the rating only
  partly reflects (corr ~0.45). New listings keep joining.
* A search: destination neighbourhood, guests, nights, lead time; it returns
  20-50 listings (mostly from the destination, some from elsewhere). Prices carry
  seasonality: nightly prices rise through the 12 weeks (summer demand).
* The *logged production ranker* orders results by a noisy score that knows part
  of the hidden quality; ``position`` is that displayed rank.
* Clicks follow a position-based model: P(click) = examination(position) x
  attractiveness, examination ~ position^-0.7; attractiveness depends on quality,
  rating, reviews, price vs. what the party expects, distance, capacity fit and
  room-type fit. A search books at most one clicked listing (probability grows
  with how good the clicked listing is). Label: booked = 2, clicked = 1, else 0.
* ``position`` is in the TRAINING file only (for debiasing, e.g. as a feature at
  training time set to a constant at serving, or for inverse-propensity weights):
  at serving time the model *decides* the order, so position is not a valid input
  and is not in the contract. The held-out labels are still position-biased
  logged feedback (a known limitation of offline evaluation, see docs).
* The hidden listing quality is only recoverable through ``listing_id`` history,
  so a model with a listing-level (target-encoded) feature beats one without.
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
    BaselineRecipe,
    DesignChoice,
    ScenarioChoice,
)
from .sampling import (
    calibrate_intercept,
    day_uniform,
    dedupe_within_groups,
    make_rng,
    rank_within_groups,
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

CASE_SLUG = "rental-search-ranking"
GENERATOR_VERSION = 2  # 2: scenario slices (cold start, latest week, defaulted features)
CLICK_RATE = 0.045
N_HOODS = 25
#: The new market (cold start) is the neighbourhood with this popularity rank (0 = first).
NEW_MARKET_RANK = 3
#: Room types' appeal drifts (logit change over the 12 weeks): budget stays rise.
ROOM_TREND = np.array([-0.5, 1.2, 0.0, -0.8])

ROOM_TYPES = ("entire_home", "private_room", "shared_room", "hotel_room")
ROOM_MIX = np.array([0.6, 0.3, 0.03, 0.07])
ROOM_PRICE = np.array([1.0, 0.55, 0.3, 0.9])

SIZES = {
    "tiny": {"n_listings": 800, "train_searches": 57, "heldout_searches": 57},
    "default": {"n_listings": 8000, "train_searches": 6000, "heldout_searches": 2900},
    "bench": {"n_listings": 40000, "train_searches": 45000, "heldout_searches": 29000},
}

SPEC = DatasetSpec(
    case_slug=CASE_SLUG,
    task_type="ranking",
    generator_version=GENERATOR_VERSION,
    feature_columns=(
        ColumnSpec(
            "listing_id",
            "int64",
            "Listing id; new listings join over time, so some ids are unseen in train.",
            "id",
        ),
        ColumnSpec(
            "room_type",
            "string",
            "entire_home, private_room, shared_room or hotel_room.",
            "feature",
        ),
        ColumnSpec("accommodates", "int64", "Maximum number of guests.", "feature"),
        ColumnSpec(
            "price_per_night",
            "float32",
            "Nightly price quoted for this search's dates (EUR).",
            "feature",
        ),
        ColumnSpec(
            "price_rel_search",
            "float32",
            "price_per_night / mean price of the listings returned for this search.",
            "feature",
        ),
        ColumnSpec(
            "rating",
            "float32",
            "Average guest rating (1-5); 0 when the listing has no reviews yet.",
            "feature",
        ),
        ColumnSpec("review_count", "int64", "Number of reviews at search time.", "feature"),
        ColumnSpec(
            "distance_km",
            "float32",
            "Distance from the listing to the searched destination (km).",
            "feature",
        ),
        ColumnSpec("guests", "int64", "Guests in the search.", "feature"),
        ColumnSpec("nights", "int64", "Nights in the search.", "feature"),
        ColumnSpec("lead_days", "int64", "Days between the search and check-in.", "feature"),
    ),
    label_column="relevance",
    label_description="Graded outcome: 2 = booked, 1 = clicked (not booked), 0 = shown only.",
    group_column="search_id",
    request_rows=35,
    label_dtype="int64",
    primary_metric="ndcg_at_10",
    extra_train_columns=(
        time_column_spec(),
        ColumnSpec(
            "search_id",
            "int64",
            "Search (one query, 20-50 results); the ranking group. Not a model input.",
            "group",
        ),
        ColumnSpec(
            "position",
            "int64",
            "1-based rank at which the logged production ranker DISPLAYED the listing. "
            "Training only: useful to model position bias (clicks fall with position), "
            "but not a serving-time input because the new model decides the order.",
            "train_only",
        ),
    ),
    cold_start_columns=("listing_id",),
    missing_feature_defaults=(("rating", 0.0), ("review_count", 0)),
    summary=(
        "Listings returned for a stay search (20-50 per search); rank them so that "
        "booked and clicked "
        "listings come first. Graded labels, per-search NDCG."
    ),
)


def build(seed: int, size: str) -> BuiltDataset:
    check_size(size)
    p = SIZES[size]
    rng = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "world")
    total_days = TRAIN_DAYS + HELDOUT_DAYS

    # --- city & listings ------------------------------------------------------
    hood_xy = rng.normal(0.0, 3.0, (N_HOODS, 2))
    hood_des = rng.normal(0.0, 0.3, N_HOODS) - 0.04 * np.linalg.norm(hood_xy, axis=1)
    hood_pop = np.exp(rng.normal(0.0, 0.6, N_HOODS) + 0.8 * hood_des)

    nl = p["n_listings"]
    l_hood = sample_cdf(rng, hood_pop, nl)
    l_xy = hood_xy[l_hood] + rng.normal(0.0, 0.8, (nl, 2))
    l_room = sample_cdf(rng, ROOM_MIX, nl)
    l_acc = np.where(l_room == 0, rng.integers(2, 9, nl), rng.integers(1, 4, nl)).astype(np.int64)
    l_quality = rng.normal(0.0, 0.7, nl)
    l_base_price = (
        60.0
        * ROOM_PRICE[l_room]
        * (1 + 0.18 * (l_acc - 2)).clip(0.6)
        * np.exp(0.5 * hood_des[l_hood] + 0.15 * l_quality + rng.normal(0.0, 0.3, nl))
    )
    l_start = np.where(
        rng.random(nl) < 0.85, -rng.integers(30, 1500, nl), rng.integers(0, total_days, nl)
    ).astype(np.int64)
    l_rev_rate = np.exp(rng.normal(-2.5, 0.8, nl) + 0.3 * l_quality)  # reviews per day
    l_rating_true = np.clip(
        4.6 + 0.18 * (0.45 * l_quality / 0.7 + np.sqrt(1 - 0.45**2) * rng.normal(0.0, 1.0, nl)),
        3.0,
        5.0,
    )
    listing_ids = (rng.permutation(nl) + 1).astype(np.int64)
    # Cold start: one mid-sized neighbourhood opens as a new market in the first held-out
    # week; all its listings are new, with no reviews (own stream: the world's draws stay).
    cold = make_rng(CASE_SLUG, GENERATOR_VERSION, seed, size, "cold-start")
    new_market = int(np.argsort(-hood_pop)[NEW_MARKET_RANK])
    in_market = l_hood == new_market
    l_start[in_market] = TRAIN_DAYS + cold.integers(0, 7, int(in_market.sum()))
    # listings sorted by hood for in-hood retrieval
    by_hood = np.argsort(l_hood, kind="stable")
    hood_end = np.searchsorted(l_hood[by_hood], np.arange(N_HOODS), side="right")
    hood_start = np.r_[0, hood_end[:-1]]

    # --- searches -----------------------------------------------------------------
    n_tr, n_ho = p["train_searches"], p["heldout_searches"]
    s_day = np.sort(
        np.concatenate(
            [day_uniform(rng, n_tr, heldout=False), day_uniform(rng, n_ho, heldout=True)]
        )
    )
    ns = len(s_day)
    s_hood = sample_cdf(rng, hood_pop, ns)
    early = (s_hood == new_market) & (s_day < TRAIN_DAYS + 7)  # before the market opened
    others = np.flatnonzero(np.arange(N_HOODS) != new_market)
    s_hood[early] = others[sample_cdf(cold, hood_pop[others], int(early.sum()))]
    s_xy = hood_xy[s_hood] + rng.normal(0.0, 0.5, (ns, 2))
    s_guests = np.minimum(1 + rng.poisson(1.0, ns), 8).astype(np.int64)
    s_nights = np.minimum(1 + rng.geometric(0.3, ns), 21).astype(np.int64)
    s_lead = np.minimum(rng.geometric(1 / 30.0, ns) - 1, 300).astype(np.int64)
    s_budget = np.exp(rng.normal(0.0, 0.35, ns))  # price sensitivity / budget of the party
    s_size = rng.integers(20, 51, ns)
    search_ids = np.arange(1, ns + 1, dtype=np.int64)

    # retrieve 40 spare candidates per search, drop duplicates, keep the first s_size
    row_s = np.repeat(np.arange(ns), s_size + 40)
    n = len(row_s)
    day = s_day[row_s]

    def draw(rng_, rows):
        m = len(rows)
        h = s_hood[row_s[rows]]
        # mostly the destination neighbourhood; small neighbourhoods borrow more from elsewhere
        p_in = 0.8 * np.minimum(1.0, (hood_end[h] - hood_start[h]) / 150.0)
        h = np.where(rng_.random(m) < p_in, h, sample_cdf(rng_, hood_pop, m))
        size_h = hood_end[h] - hood_start[h]
        h = np.where(size_h > 0, h, l_hood[by_hood[0]])
        pos = hood_start[h] + (rng_.random(m) * (hood_end[h] - hood_start[h])).astype(np.int64)
        return by_hood[np.minimum(pos, nl - 1)]

    lst = draw(rng, np.arange(n))
    for _ in range(30):  # only listings already live
        bad = np.flatnonzero(l_start[lst] > day)
        if len(bad) == 0:
            break
        lst[bad] = draw(rng, bad)
    lst[l_start[lst] > day] = int(np.argmin(l_start))

    keep = dedupe_within_groups(rng, row_s, lst, lambda rng_, rows: lst[rows], rounds=0)
    row_s, lst, day = row_s[keep], lst[keep], day[keep]
    slot = np.arange(len(row_s)) - np.searchsorted(row_s, row_s)  # index inside the search
    keep = slot < s_size[row_s]
    # guarantee 20-50 results: a search that found fewer than 20 distinct listings is dropped
    keep &= np.bincount(row_s[keep], minlength=ns)[row_s] >= 20
    row_s, lst, day = row_s[keep], lst[keep], day[keep]
    n = len(lst)

    # --- features -------------------------------------------------------------------
    t = day / float(total_days)
    season = 1.0 + 0.25 * t + 0.05 * np.sin(2 * np.pi * day / 7.0)
    price = (
        l_base_price[lst]
        * season
        * np.exp(rng.normal(0.0, 0.08, n))
        * np.where(s_lead[row_s] < 3, 0.93, 1.0)
    )
    price = np.round(price, 2)
    sum_price = np.bincount(row_s, weights=price, minlength=ns)
    cnt = np.bincount(row_s, minlength=ns)
    price_rel = price / (sum_price / np.maximum(cnt, 1))[row_s]
    live_days = np.maximum(day - l_start[lst], 0)
    reviews = rng.poisson(l_rev_rate[lst] * live_days * 0.6)
    rating = np.where(
        reviews > 0,
        np.clip(l_rating_true[lst] + rng.normal(0.0, 0.5, n) / np.sqrt(reviews + 1.0), 1.0, 5.0),
        0.0,
    )
    dist = np.linalg.norm(l_xy[lst] - s_xy[row_s], axis=1)
    guests = s_guests[row_s]
    acc = l_acc[lst]
    room = l_room[lst]

    # --- attractiveness, logged ranker, clicks, bookings ------------------------------
    expected_price = 55.0 * (1 + 0.25 * (guests - 1)) * s_budget[row_s] * season
    fits = acc >= guests
    room_fit = np.where((guests >= 3) & (room != 0), -0.8, 0.0) + np.where(room == 2, -0.6, 0.0)
    attract = (
        1.0 * l_quality[lst]
        + 0.6 * (np.where(reviews > 0, rating, 4.5) - 4.6) / 0.2 * 0.3
        + 0.12 * np.log1p(reviews)
        - 1.1 * np.log(price / expected_price)
        - 0.18 * dist
        + np.where(fits, 0.0, -1.8)
        + room_fit
        + 0.5 * hood_des[l_hood[lst]]
        + ROOM_TREND[room] * t
        + rng.normal(0.0, 0.3, n)
    )
    # the production ranker sees the observable part of attractiveness and ~1/3 of the
    # hidden quality
    ranker = 0.6 * (attract - l_quality[lst]) + 0.35 * l_quality[lst] + rng.normal(0.0, 0.6, n)
    position = rank_within_groups(row_s, ranker)
    examine = position.astype(np.float64) ** -0.7
    b0 = calibrate_intercept(attract + np.log(examine), CLICK_RATE)
    p_click = examine * sigmoid(attract + b0 + 0.4)
    clicked = rng.random(n) < np.minimum(p_click, 1.0)
    # at most one booking per search: best clicked listing by a Gumbel-perturbed utility
    util = np.where(clicked, 1.2 * attract + rng.gumbel(0.0, 1.0, n), -np.inf)
    best_rank = rank_within_groups(row_s, util)
    searches_with_click = np.bincount(row_s, weights=clicked, minlength=ns) > 0
    best_util = np.full(ns, -np.inf)
    np.maximum.at(best_util, row_s, util)
    book_search = searches_with_click & (
        rng.random(ns) < sigmoid(0.8 * np.where(np.isfinite(best_util), best_util, 0.0) - 1.3)
    )
    booked = clicked & (best_rank == 1) & book_search[row_s]
    relevance = clicked.astype(np.int64) + booked.astype(np.int64)

    columns = {
        TIME_COLUMN: day,
        "search_id": search_ids[row_s],
        "listing_id": listing_ids[lst],
        "room_type": strings(ROOM_TYPES, room),
        "accommodates": acc,
        "price_per_night": round32(price, 2),
        "price_rel_search": round32(price_rel, 4),
        "rating": round32(rating, 2),
        "review_count": reviews.astype(np.int64),
        "distance_km": round32(dist, 3),
        "guests": guests,
        "nights": s_nights[row_s],
        "lead_days": s_lead[row_s],
        "position": position,
        "relevance": relevance,
    }
    return assemble(SPEC, seed, size, columns)


# ---------------------------------------------------------------------------
# baselines
# ---------------------------------------------------------------------------
# trees get raw values: a monotone transform changes nothing for them, and raw
# float32 inputs reach the trees bit-identically in Python and in ONNX
_LISTING_AND_QUERY = (
    ("onehot", "room_type"),
    ("num", "price_per_night", "none"),
    ("num", "price_rel_search", "none"),
    ("num", "rating", "none"),
    ("num", "review_count", "none"),
    ("num", "distance_km", "none"),
    ("num", "accommodates", "none"),
    ("num", "guests", "none"),
    ("num", "nights", "none"),
    ("num", "lead_days", "none"),
)
_LISTING_ID = (("te", ("listing_id",)),)
BASELINES = (
    BaselineRecipe(
        name="trivial",
        description="Popularity only: score = linear function of log review count.",
        blocks=(("num", "review_count", "log1p"),),
        estimator=LINEAR_REGRESSION,
        target="continuous",
        output="score",
    ),
    BaselineRecipe(
        name="reasonable",
        description="Gradient-boosted trees regressing the graded label (0/1/2) "
        "on listing and query "
        "features plus a target-encoded listing_id quality feature.",
        blocks=_LISTING_AND_QUERY + _LISTING_ID,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="score",
    ),
    BaselineRecipe(
        name="without_design_choice",
        description="Same gradient-boosted trees without the listing_id feature.",
        blocks=_LISTING_AND_QUERY,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="score",
    ),
    BaselineRecipe(
        name="id_history_only",
        description="Listing history only: gradient-boosted trees on the target-encoded "
        "listing_id (no listing or query features).",
        blocks=_LISTING_ID,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="score",
    ),
    BaselineRecipe(
        name="recency_weighted",
        description="The reasonable recipe fitted with recency weights (a row's weight halves "
        "every 14 days before the last training day).",
        blocks=_LISTING_AND_QUERY + _LISTING_ID,
        estimator=GRADIENT_BOOSTED_TREES,
        target="continuous",
        output="score",
        recency_half_life_days=RECENCY_HALF_LIFE_DAYS,
    ),
)
DESIGN_CHOICE = DesignChoice("listing_id quality feature (target-encoded listing_id)")
SCENARIO_CHOICES = (
    ScenarioChoice(
        "cold_start",
        "listing and query features beside the listing_id history, for listings that joined "
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
