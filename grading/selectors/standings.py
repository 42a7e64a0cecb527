"""Reads for the combined standings: each candidate's model rank beside the verdict of their
latest released interview on the same case study."""

from dataclasses import dataclass

from grading.models import (
    Leaderboard,
)
from grading.selectors.leaderboards import candidate_ranks
from interviews.models import CaseStudy


@dataclass(frozen=True)
class StandingRow:
    candidate_id: int
    name: str
    model_rank: int | None
    model_score: float | None
    verdict: str | None  # a Grade.Verdict value
    verdict_label: str | None
    rubric_mean: float | None
    session_id: int | None


def combined_standings(*, case_study: CaseStudy) -> tuple[str, list[StandingRow]]:
    """Each candidate's model rank (private once the round closed, else public: the ranking
    the leaderboard opens on) beside the verdict and weighted rubric mean of their latest
    released interview on the same case study. The ranks are the leaderboard's
    (``candidate_ranks``: baselines unranked, ties shared), so both pages agree. Returns
    (the split ranked on, rows); a constant number of queries up to ``RANK_CHUNK``
    candidates."""
    from django.contrib.auth import get_user_model

    from interviews.models import Grade
    from interviews.scorecards.selectors.feedback import released_verdicts_for_case

    leaderboard = Leaderboard.objects.filter(case_study=case_study).first()
    split = "private" if leaderboard and leaderboard.is_closed else "public"
    ranked: dict[int, tuple[int, float, str]] = {}
    if leaderboard is not None:
        sort_field = f"{split}_sort"
        entries = list(leaderboard.entries.filter(is_baseline=False).only(
            "pk", "candidate_id", "is_baseline", "display_name", sort_field,
            f"{split}_primary"))
        ranks = candidate_ranks(leaderboard=leaderboard, entries=entries,
                                columns=[sort_field])[sort_field]
        ranked = {e.candidate_id: (ranks[e.pk], getattr(e, f"{split}_primary"), e.display_name)
                  for e in entries}
    verdicts = released_verdicts_for_case(case_study=case_study)
    missing = set(verdicts) - set(ranked)
    names = dict(get_user_model().objects.filter(pk__in=missing).values_list(
        "pk", "username")) if missing else {}
    labels = dict(Grade.Verdict.choices)
    rows = []
    for candidate_id in set(ranked) | set(verdicts):
        rank, value, name = ranked.get(candidate_id, (None, None, names.get(candidate_id)))
        released = verdicts.get(candidate_id)
        rows.append(StandingRow(
            candidate_id=candidate_id, name=name or "?", model_rank=rank, model_score=value,
            verdict=released.verdict if released else None,
            verdict_label=labels.get(released.verdict) if released else None,
            rubric_mean=float(released.weighted_mean) if released and
            released.weighted_mean is not None else None,
            session_id=released.session_id if released else None))
    rows.sort(key=lambda r: (r.model_rank is None, r.model_rank or 0,
                             -(r.rubric_mean or 0), r.name))
    return split, rows
