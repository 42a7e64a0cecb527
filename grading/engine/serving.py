"""Serving under load: a seeded Poisson arrival schedule, the load test's driver, the queue
it simulates, the search for the highest rate within the latency budget, and the cost.

The test follows MLPerf's "server" scenario: requests of the case study's request size
arrive as a Poisson process at a fixed rate (open loop: an arrival never waits for the
previous answer), one server answers them in arrival order, and the figure is the latency
from arrival to answer, p50/p95/p99, against the budget.

**A virtual clock.** The sandboxed child measures each request's *service time* for real
(``measure_service_times``: back-to-back ``predict`` calls of one request each, on
different rows, under the sandbox's limits); this module then plays the arrival schedule
against those service times on a single-server queue (``queue_latencies``: a request that
arrives while the previous one is being served waits for it). Why not sleep until each
arrival and time the answers: a schedule of 2,000 requests at a case's 3 to 300 requests
per second would take from seconds to minutes of wall time per rate, and the search needs
many rates; and on a shared scoring worker sleep and wake-up jitter, and the other jobs'
processes, would enter the figures without being the model's. With the clock virtual, the
arrivals are exactly the seeded schedule, every rate reuses one measurement (so the whole
test is bounded by ``SandboxLimits.load_test_seconds`` of measuring, and the search costs
milliseconds), and, with the same unit gaps scaled by each rate (common random numbers),
each request's latency can only grow with the rate, so the p99 curve is monotone and the
search a bisection. What it leaves out, and says so: the service times are measured warm
and back to back, so a model that slows down after idle gaps looks a little better than it
would be; and one core serves one request at a time (the child runs one thread).

Nothing here imports Django; the child imports only ``measure_service_times``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

SERVING_VERSION = 1
# Arrivals in one schedule. The measured service times are cycled over them (there are at
# most ``SandboxLimits.load_test_requests`` measurements): p99 of 2,000 latencies is the
# mean of the 20th and 21st largest, steady enough to compare models by.
SCHEDULE_REQUESTS = 2000
# Each run measures at least this many requests, whatever its time budget.
MIN_SERVICE_SAMPLES = 10
WARMUP_REQUESTS = 2
CURVE_POINTS = 12
SEARCH_STEPS = 40
SPIKE_FACTOR = 2.0  # the "traffic spike" scenario: twice the target rate


def schedule_seed(case_slug: str, scorer_version: int) -> int:
    """The load test's seed: from the case study and the scorer version only, never the
    submission, so every model of a case (and every re-scoring) meets the same arrivals."""
    digest = hashlib.sha256(f"serving:{case_slug}:{scorer_version}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def unit_gaps(seed: int, requests: int = SCHEDULE_REQUESTS) -> np.ndarray:
    """Exponential inter-arrival gaps of mean 1: divided by a rate, a Poisson process."""
    return np.random.default_rng(seed).exponential(1.0, requests)


def poisson_arrivals(*, seed: int, rate_rps: float,
                     requests: int = SCHEDULE_REQUESTS) -> np.ndarray:
    """Arrival times in seconds from the start: a Poisson process of ``rate_rps``."""
    if not rate_rps > 0:
        raise ValueError("the arrival rate must be positive")
    return np.cumsum(unit_gaps(seed, requests)) / rate_rps


def queue_latencies(arrivals: np.ndarray, service: np.ndarray) -> np.ndarray:
    """Arrival-to-answer seconds of each request on one first-come-first-served server.

    A request starts at its arrival or when the previous one finishes, whichever is later:
    ``finish[i] = max(arrival[i], finish[i-1]) + service[i]``, which unrolls to
    ``cumsum(service)[i] + max over j <= i of (arrival[j] - cumsum(service)[j-1])``: one
    pass of numpy, no Python loop."""
    done = np.cumsum(service)
    finish = done + np.maximum.accumulate(arrivals - (done - service))
    return finish - arrivals


def measure_service_times(
    predict_request: Callable[[int], object], *, max_requests: int, seconds: float,
    min_requests: int = MIN_SERVICE_SAMPLES, clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """The load test's driver, run in the sandboxed child: answer requests 0, 1, 2, ...
    back to back (``predict_request(i)`` answers the i-th) and time each one, in seconds,
    until ``max_requests`` are timed, or ``seconds`` have passed and ``min_requests`` are.
    A couple of untimed requests first, so one-off allocations are not a request's."""
    for i in range(WARMUP_REQUESTS):
        predict_request(i)
    timings: list[float] = []
    started = clock()
    while len(timings) < max_requests:
        if len(timings) >= min_requests and clock() - started >= seconds:
            break
        begin = clock()
        predict_request(len(timings))
        timings.append(clock() - begin)
    return timings


@dataclass(frozen=True)
class LoadPoint:
    """The latency percentiles of one run of the schedule at ``rate_rps``."""

    rate_rps: float
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    within_budget: bool

    def to_dict(self) -> dict:
        return asdict(self)


def _exponent(value: float) -> int:
    """The power of ten of ``value``'s leading digit (log10 alone can round 9999.9... to 4)."""
    exponent = math.floor(math.log10(value))
    if 10.0 ** exponent > value:
        exponent -= 1
    return exponent


def _significant(value: float, digits: int = 4) -> float:
    if value <= 0 or not math.isfinite(value):
        return 0.0
    return float(round(value, digits - 1 - _exponent(value)))


def _floor_significant(value: float, digits: int = 3) -> float:
    """Rounded down, so a rate reported as within budget is one the search found within."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    places = digits - 1 - _exponent(value)
    return float(round(math.floor(value * 10.0 ** places) / 10.0 ** places, max(places, 0)))


class LoadTest:
    """One seeded schedule played against one set of measured service times, at any rate.

    ``service_seconds``: the child's measurements, cycled over the schedule's ``requests``
    arrivals; ``budget_ms``: the case study's latency budget for p99."""

    def __init__(self, *, service_seconds: Sequence[float], seed: int, budget_ms: float,
                 requests: int = SCHEDULE_REQUESTS) -> None:
        measured = np.asarray(service_seconds, dtype=np.float64)
        if measured.size == 0 or not np.all(np.isfinite(measured)) or np.any(measured < 0):
            raise ValueError("the service times must be finite, non-negative and not empty")
        self.seed = seed
        self.budget_ms = float(budget_ms)
        self.requests = requests
        self.service = np.resize(measured, requests)
        self._unit_arrivals = np.cumsum(unit_gaps(seed, requests))
        self.samples = int(measured.size)

    @property
    def service_ms(self) -> float:
        """The mean time of one request served back to back."""
        return float(self.service.mean() * 1000.0)

    @property
    def service_rate_rps(self) -> float:
        """Requests per second one core answers when never idle: above it the queue grows
        without bound, whatever the budget."""
        mean = float(self.service.mean())
        return 1.0 / mean if mean > 0 else math.inf

    def at(self, rate_rps: float) -> LoadPoint:
        latencies = queue_latencies(self._unit_arrivals / rate_rps, self.service) * 1000.0
        p50, p95, p99 = (float(v) for v in np.percentile(latencies, [50, 95, 99]))
        return LoadPoint(rate_rps=_significant(rate_rps), requests=self.requests,
                         p50_ms=round(p50, 3), p95_ms=round(p95, 3), p99_ms=round(p99, 3),
                         within_budget=p99 <= self.budget_ms)

    def _p99_ms(self, rate_rps: float) -> float:
        latencies = queue_latencies(self._unit_arrivals / rate_rps, self.service)
        return float(np.percentile(latencies, 99)) * 1000.0

    def max_rate_within_budget(self) -> float:
        """The highest rate whose p99 stays within the budget, at most the service rate;
        0.0 when even a trickle misses it (one request alone is too slow). A bisection:
        with the schedule's gaps scaled by the rate, p99 never falls as the rate grows."""
        if float(np.percentile(self.service, 99)) * 1000.0 > self.budget_ms:
            return 0.0
        high = self.service_rate_rps
        if not math.isfinite(high):
            return 0.0  # unmeasurably fast requests: nothing to search
        if self._p99_ms(high) <= self.budget_ms:
            return _floor_significant(high)
        low = 0.0
        for _ in range(SEARCH_STEPS):
            middle = (low + high) / 2
            if self._p99_ms(middle) <= self.budget_ms:
                low = middle
            else:
                high = middle
            if high - low <= high * 1e-4:
                break
        return _floor_significant(low)

    def curve(self, *, target_rps: float, max_rate_rps: float) -> list[LoadPoint]:
        """Points for the latency-vs-load chart, ascending: an even grid up to past the
        knee (the highest rate within budget, or the spike when that is further), plus the
        target, the spike and the highest rate within budget themselves."""
        spike = SPIKE_FACTOR * target_rps
        top = max(spike, min(1.25 * max_rate_rps, self.service_rate_rps))
        rates = {_significant(top * (i + 1) / CURVE_POINTS) for i in range(CURVE_POINTS)}
        rates |= {_significant(target_rps), _significant(spike)}
        if max_rate_rps > 0:
            rates.add(_significant(max_rate_rps))
        return [self.at(rate) for rate in sorted(r for r in rates if r > 0)]


def cost_per_million(*, price_per_core_hour_usd: float, rate_rps: float) -> float | None:
    """What a million requests cost on cores each loaded at ``rate_rps`` (the highest rate
    that keeps p99 within the budget); None when no rate does."""
    if rate_rps <= 0:
        return None
    return round(price_per_core_hour_usd / 3600.0 / rate_rps * 1_000_000, 6)


def serving_report(*, service_seconds: Sequence[float], load_seconds: float | None,
                   peak_memory_bytes: int | None, request_rows: int, target_rps: float,
                   budget_ms: float, seed: int, price_per_core_hour_usd: float) -> dict:
    """``Score.serving``: the load test at the target rate and at twice it (the traffic
    spike), the latency-vs-load curve, the highest rate within budget, and the cost of a
    million requests on cores loaded at that rate. Empty when nothing was measured."""
    if not len(service_seconds):
        return {}
    test = LoadTest(service_seconds=service_seconds, seed=seed, budget_ms=budget_ms)
    max_rate = test.max_rate_within_budget()
    return {
        "version": SERVING_VERSION,
        "load_seconds": None if load_seconds is None else round(load_seconds, 4),
        "peak_memory_bytes": peak_memory_bytes,
        "request_rows": request_rows,
        "target_rps": float(target_rps),
        "budget_ms": budget_ms,
        "seed": seed,
        "at_target": test.at(target_rps).to_dict(),
        "spike": test.at(SPIKE_FACTOR * target_rps).to_dict(),
        "curve": [point.to_dict() for point in test.curve(target_rps=target_rps,
                                                          max_rate_rps=max_rate)],
        "max_rate_within_budget_rps": max_rate,
        "service_ms": round(test.service_ms, 4),
        "service_samples": test.samples,
        "price_per_core_hour_usd": price_per_core_hour_usd,
        "cost_per_million_usd": cost_per_million(
            price_per_core_hour_usd=price_per_core_hour_usd, rate_rps=max_rate),
    }


def pareto_front(points: Sequence[tuple[float, float]], *, direction: str) -> list[int]:
    """Indices of the points no other point beats on both axes, ordered by x ascending.

    x is a latency (lower is better); y is a quality whose ``direction`` is "higher",
    "lower" or "target_one" (closer to 1 is better). A point is on the front when every
    point with a latency at most its own has a worse quality (ties: the first kept)."""
    def goodness(y: float) -> float:
        if direction == "higher":
            return y
        if direction == "lower":
            return -y
        return -abs(y - 1.0)

    order = sorted(range(len(points)), key=lambda i: (points[i][0], -goodness(points[i][1]), i))
    front: list[int] = []
    best = -math.inf
    for i in order:
        if goodness(points[i][1]) > best:
            front.append(i)
            best = goodness(points[i][1])
    return front
