"""Scenario slices of the held-out split: names, labels and descriptions, in one place.

The course's requirements step asks how a model copes with new users, a stale training
window, a feature service that times out and a traffic spike. The first three are row
masks of the held-out split, flagged by each case study's generator (``BuiltDataset.
heldout_scenarios``) and scored with the primary metric and its interval; the traffic
spike is the serving load test at twice the target rate (``Score.serving["spike"]``).

Pure Python: imported by the generators, the scorer, the pages and the claims alike.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    description: str
    # What an interviewer announces in a live interview to put the scenario to the candidate.
    announcement: str = ""


COLD_START = Scenario(
    "cold_start",
    "Cold start",
    "held-out rows whose user or item never appears in the training data",
    "Half the traffic is new users and new items now: nothing in the training data about "
    "them. What changes in your design?",
)
LATEST_WEEK = Scenario(
    "latest_week",
    "Latest week",
    "the last week of the held-out split, the furthest from the training window (staleness)",
    "Retraining is down for a week: the model keeps serving while the data drifts away from "
    "its training window. What do you watch, and what do you do?",
)
MISSING_FEATURES = Scenario(
    "missing_features",
    "Missing features",
    "rows where some features were defaulted, as when a feature service times out",
    "The feature service times out on one request in ten: those requests get default values "
    "for its features. How does the model cope?",
)

#: The row-mask scenarios, in display order.
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (COLD_START, LATEST_WEEK, MISSING_FEATURES)}

#: Not a row mask: the load test at twice the case study's target rate.
TRAFFIC_SPIKE = Scenario(
    "traffic_spike", "Traffic spike", "the load test at twice the target rate",
    "A promotion doubles peak traffic tonight: twice the requests per second. What holds, "
    "what breaks?")
