"""Random draws and small vectorised helpers shared by the generators.

Determinism: every random draw of a build comes from
``np.random.default_rng(np.random.SeedSequence([seed, version, crc32(slug), size_index,
crc32(stream)]))`` (see :func:`make_rng`): one independent, named stream per purpose, so
adding a draw to one stream never shifts the values of another. ``seed`` is the 256-bit
integer ``secret.DatasetSecret.seed`` derives from the deployment's secret; SeedSequence
takes all of its bits.
"""

from __future__ import annotations

import zlib

import numpy as np

from .spec import HELDOUT_DAYS, SIZES, TRAIN_DAYS


def text_crc32(text: str) -> int:
    """CRC-32 of ``text``'s UTF-8 bytes: how names enter a ``SeedSequence``."""
    return zlib.crc32(text.encode("utf-8"))


def make_rng(
    case_slug: str, version: int, seed: int, size: str, stream: str
) -> np.random.Generator:
    """Independent, reproducible generator for one named stream of one build."""
    size_index = SIZES.index(size) if size in SIZES else text_crc32(size)
    ss = np.random.SeedSequence(
        [int(seed), int(version), text_crc32(case_slug), size_index, text_crc32(stream)]
    )
    return np.random.default_rng(ss)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def calibrate_intercept(logit: np.ndarray, target_rate: float, sample: int = 200_000) -> float:
    """Intercept b with mean(sigmoid(logit + b)) == target_rate.

    Newton iterations on an evenly strided subsample (covers the whole period).
    """
    step = max(1, len(logit) // sample)
    z = np.asarray(logit[::step], dtype=np.float64)
    b = float(np.log(target_rate / (1 - target_rate)) - np.median(z))
    for _ in range(50):
        p = sigmoid(z + b)
        f = p.mean() - target_rate
        d = (p * (1 - p)).mean()
        step = f / max(d, 1e-12)
        b -= float(np.clip(step, -2.0, 2.0))
        if abs(f) < 1e-7:
            break
    return b


def round32(x: np.ndarray, decimals: int) -> np.ndarray:
    """Round to a fixed decimal grid, then cast to float32 (canonical, machine-stable)."""
    return np.round(np.asarray(x, dtype=np.float64), decimals).astype(np.float32)


def strings(vocab: tuple[str, ...] | list[str], codes: np.ndarray) -> np.ndarray:
    """Object array of ``vocab[codes]`` (fast fancy indexing of Python str objects)."""
    return np.asarray(vocab, dtype=object)[np.asarray(codes)]


def day_uniform(rng: np.random.Generator, n: int, heldout: bool) -> np.ndarray:
    lo = TRAIN_DAYS if heldout else 0
    return rng.integers(lo, lo + (HELDOUT_DAYS if heldout else TRAIN_DAYS), size=n).astype(np.int64)


def sample_cdf(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n indices drawn with probability proportional to ``weights`` (vectorised)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    u = rng.random(n) * cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(weights) - 1).astype(np.int64)


def sample_available(
    rng: np.random.Generator,
    weights: np.ndarray,
    start_day: np.ndarray,
    end_day: np.ndarray | None,
    day: np.ndarray,
    rounds: int = 25,
) -> np.ndarray:
    """Weighted draw of one item per row among items live on that row's day.

    Rejection sampling (vectorised): rows whose draw is not live yet are redrawn;
    after ``rounds`` the remaining few rows fall back to the first live item by
    ``start_day`` (always exists because generators keep a back catalogue).
    """
    n = len(day)
    idx = sample_cdf(rng, weights, n)
    for _ in range(rounds):
        bad = start_day[idx] > day
        if end_day is not None:
            bad |= end_day[idx] <= day
        nb = int(bad.sum())
        if nb == 0:
            return idx
        idx[bad] = sample_cdf(rng, weights, nb)
    bad = start_day[idx] > day
    if end_day is not None:
        bad |= end_day[idx] <= day
    if bad.any():
        idx[bad] = int(np.argmin(start_day))
    return idx


def group_starts(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def rank_within_groups(
    group_index: np.ndarray, score: np.ndarray, descending: bool = True
) -> np.ndarray:
    """1-based rank of each row inside its (contiguous or not) group by score."""
    key = -score if descending else score
    order = np.lexsort((key, group_index))
    g_sorted = group_index[order]
    start = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - first + 1
    return ranks


def dedupe_within_groups(
    rng: np.random.Generator,
    group_index: np.ndarray,
    item: np.ndarray,
    redraw,
    rounds: int = 6,
) -> np.ndarray:
    """Boolean keep-mask making (group, item) pairs unique.

    Duplicates are redrawn with ``redraw(rng, rows) -> new items`` a few times
    (in place in ``item``); whatever is still duplicated afterwards is dropped.
    """
    mult = np.int64(int(item.max()) + 10_000_000)
    for _ in range(rounds):
        key = group_index.astype(np.int64) * mult + item
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(item), dtype=bool)
        dup[first] = False
        if not dup.any():
            return np.ones(len(item), dtype=bool)
        rows = np.flatnonzero(dup)
        item[rows] = redraw(rng, rows)
        mult = np.int64(max(int(mult), int(item.max()) + 10_000_000))
    key = group_index.astype(np.int64) * mult + item
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(item), dtype=bool)
    keep[first] = True
    return keep

