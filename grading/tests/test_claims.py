"""Design claims: the services that write them and link a session to a model, and the
selector that checks each claim against the linked model's score."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading.engine.artifacts import MiB
from grading.models import DesignClaim, Score, SessionModelLink
from grading.selectors.claims import claims_panel, linkable_submissions, session_claims
from grading.services.claims import (
    MAX_CLAIMS_PER_STEP,
    ClaimInput,
    claim_add,
    claim_delete,
    claim_update,
    session_model_link,
    session_model_unlink,
)
from grading.tests.factories import LeaderboardFactory, ScoreFactory, SubmissionFactory
from interviews.tests.factories import CaseStudyFactory, candidate, start_session, submitted_session

pytestmark = pytest.mark.django_db

Kind = DesignClaim.Kind


def heldout(value, comparator="ge", metric="ndcg_at_10"):
    return ClaimInput(kind=Kind.HELDOUT_METRIC, metric=metric, comparator=comparator,
                      value=value)


def scored(session, **score):
    """A scored submission of the session's candidate for its case study, linked."""
    submission = SubmissionFactory(candidate=session.candidate, case_study=session.case_study,
                                   scored=True)
    result = ScoreFactory(submission=submission, **score)
    session_model_link(candidate=session.candidate, session=session,
                       submission_uuid=str(submission.uuid))
    return result


def verdicts(session):
    return {checked.statement: (checked.verdict, checked.measurement)
            for checked in session_claims(session=session).claims}


def add(session, step=2, data=None):
    return claim_add(candidate=session.candidate, session=session, step_number=step,
                     data=data or heldout(0.3))


# --- services ---------------------------------------------------------------------------------


def test_a_candidate_adds_edits_and_deletes_claims_on_steps_2_to_4_while_the_session_runs():
    session = start_session()
    claim = add(session, step=2, data=heldout(0.35))
    assert (claim.kind, claim.metric, claim.comparator, claim.value) == (
        "heldout_metric", "ndcg_at_10", "ge", 0.35)
    claim_update(candidate=session.candidate, claim=claim,
                 data=ClaimInput(kind=Kind.LATENCY_P99, comparator="ge", metric="mrr",
                                 value=40))
    claim.refresh_from_db()
    # The fields a latency claim does not use are cleared; the comparator is "at most".
    assert (claim.kind, claim.metric, claim.comparator, claim.value) == (
        "latency_p99", "", "le", 40.0)
    add(session, step=4, data=ClaimInput(kind=Kind.BEATS_BASELINE, value=3.0))
    assert DesignClaim.objects.get(step_number=4).value is None
    claim_delete(candidate=session.candidate, claim=claim)
    assert list(DesignClaim.objects.values_list("step_number", flat=True)) == [4]


def test_claims_may_be_added_after_the_session_is_submitted():
    session = submitted_session()
    assert session.is_submitted
    assert add(session, step=3).pk


@pytest.mark.parametrize(("data", "field", "words"), [
    (ClaimInput(kind="vibes"), "kind", "Choose what the claim is about"),
    (heldout(0.3, metric="accuracy"), "metric", "this case study's metrics: NDCG@10"),
    (heldout(0.3, comparator="eq"), "comparator", "at most"),
    (heldout(None), "value", "as a number"),
    (heldout(35), "value", "between 0 and 1"),
    (ClaimInput(kind=Kind.SCENARIO_METRIC, scenario="mars", comparator="ge", value=0.3),
     "scenario", "Cold start"),
    (ClaimInput(kind=Kind.SCENARIO_METRIC, scenario="cold_start", metric="mrr",
                comparator="ge", value=0.3), "metric", "primary metric only"),
    (ClaimInput(kind=Kind.LATENCY_P99, value=-5), "value", "above 0"),
    (ClaimInput(kind=Kind.MODEL_SIZE, value=1e9), "value", "at most 10000 MiB"),
])
def test_bad_claims_are_refused_with_a_message_naming_the_field(data, field, words):
    session = start_session()
    with pytest.raises(ValidationError) as refused:
        add(session, data=data)
    assert words in " ".join(refused.value.message_dict[field])
    assert not DesignClaim.objects.exists()


def test_claims_belong_to_steps_2_3_and_4_only():
    session = start_session()
    for step in (1, 5, 6):
        with pytest.raises(ValidationError, match="steps 2, 3 and 4"):
            add(session, step=step)


def test_a_step_holds_a_bounded_number_of_claims():
    session = start_session()
    for _ in range(MAX_CLAIMS_PER_STEP):
        add(session, step=3)
    with pytest.raises(ValidationError, match="at most"):
        add(session, step=3)
    assert add(session, step=2).pk  # another step still takes claims


def test_nobody_writes_claims_on_another_candidates_session():
    session = start_session()
    claim = add(session)
    intruder = candidate()
    with pytest.raises(ValidationError, match="not your interview"):
        claim_add(candidate=intruder, session=session, step_number=2, data=heldout(0.1))
    with pytest.raises(ValidationError):
        claim_update(candidate=intruder, claim=claim, data=heldout(0.9))
    with pytest.raises(ValidationError):
        claim_delete(candidate=intruder, claim=claim)
    with pytest.raises(ValidationError):
        session_model_unlink(candidate=intruder, session=session)
    claim.refresh_from_db()
    assert claim.value == 0.3


def test_a_session_links_only_its_candidates_own_scored_submission_for_the_case():
    session = start_session()
    mine = SubmissionFactory(candidate=session.candidate, case_study=session.case_study,
                             scored=True)
    ScoreFactory(submission=mine)
    someone_elses = ScoreFactory(submission__case_study=session.case_study).submission
    other_case = ScoreFactory(submission__candidate=session.candidate).submission
    queued = SubmissionFactory(candidate=session.candidate, case_study=session.case_study)
    for refused in (someone_elses.uuid, other_case.uuid, queued.uuid, "not-a-uuid", ""):
        with pytest.raises(ValidationError) as error:
            session_model_link(candidate=session.candidate, session=session,
                               submission_uuid=str(refused))
        assert error.value.message_dict["submission"] == [
            "Choose one of your scored submissions for this case study."]
    assert not SessionModelLink.objects.exists()
    link = session_model_link(candidate=session.candidate, session=session,
                              submission_uuid=str(mine.uuid))
    assert link.submission == mine
    with pytest.raises(ValidationError):
        session_model_link(candidate=candidate(), session=session,
                           submission_uuid=str(mine.uuid))
    session_model_unlink(candidate=session.candidate, session=session)
    assert not SessionModelLink.objects.exists()


def test_linkable_submissions_are_the_candidates_scored_ones_for_the_case_rounded():
    session = start_session()
    mine = ScoreFactory(submission__candidate=session.candidate,
                        submission__case_study=session.case_study, public_primary=0.7123456)
    ScoreFactory(submission__case_study=session.case_study)  # someone else's
    SubmissionFactory(candidate=session.candidate, case_study=session.case_study, failed=True)
    (option,) = linkable_submissions(session=session)
    assert option.submission == mine.submission
    assert option.public_value == 0.7123
    assert option.metric_label == "NDCG@10"


# --- selector: verdicts -----------------------------------------------------------------------


def test_without_a_linked_model_every_claim_is_not_measured():
    session = start_session()
    add(session, data=heldout(0.3))
    (checked,) = session_claims(session=session).claims
    assert checked.verdict == "not_measured"
    assert "No scored model is linked" in checked.note


def test_primary_metric_claims_use_the_public_interval_rounded_while_the_round_is_open():
    session = start_session()
    scored(session, public_primary=0.7123456, private_primary=0.5, public_half_width=0.01)
    add(session, data=heldout(0.65))
    add(session, data=heldout(0.71))
    add(session, data=heldout(0.75))
    add(session, data=heldout(0.6, comparator="le"))
    assert verdicts(session) == {
        "NDCG@10 on held-out data ≥ 0.65": ("supported", "0.7123 [0.7023, 0.7223]"),
        "NDCG@10 on held-out data ≥ 0.71": ("inconclusive", "0.7123 [0.7023, 0.7223]"),
        "NDCG@10 on held-out data ≥ 0.75": ("not_supported", "0.7123 [0.7023, 0.7223]"),
        "NDCG@10 on held-out data ≤ 0.6": ("not_supported", "0.7123 [0.7023, 0.7223]"),
    }


def test_verdicts_compare_the_rounded_public_figure_never_the_full_precision_one():
    session = start_session()
    # A zero-width interval: rounding alone decides. 0.71236 shows as 0.7124.
    scored(session, public_primary=0.71236, public_half_width=0.0, private_primary=0.9)
    add(session, data=heldout(0.71238))
    (checked,) = session_claims(session=session).claims
    assert checked.measurement == "0.7124 [0.7124, 0.7124]"
    assert checked.verdict == "supported"  # 0.71236 itself is below 0.71238
    assert "0.9" not in checked.measurement  # nothing of the private split


def test_after_the_round_closes_verdicts_use_the_private_split_at_full_precision():
    session = start_session()
    scored(session, public_primary=0.7123456, private_primary=0.5, private_half_width=0.02)
    LeaderboardFactory(case_study=session.case_study, closed=True)
    add(session, data=heldout(0.6))
    report = session_claims(session=session)
    (checked,) = report.claims
    assert (checked.verdict, checked.measurement) == ("not_supported",
                                                     "0.5000 [0.4800, 0.5200]")
    assert "private split" in report.split_note


def test_secondary_metric_claims_compare_the_figure_directly():
    case = CaseStudyFactory(secondary_metrics=["mrr", "recall_at_10"])
    session = start_session(case_study=case)
    scored(session, metrics={"public": {"ndcg_at_10": 0.7, "mrr": 0.5512345},
                             "private": {"ndcg_at_10": 0.68, "mrr": 0.2}})
    add(session, data=heldout(0.55, metric="mrr"))
    add(session, data=heldout(0.3, metric="recall_at_10"))
    assert verdicts(session) == {
        "MRR on held-out data ≥ 0.55": ("supported", "0.5512"),
        "Recall@10 on held-out data ≥ 0.3": ("not_measured", ""),
    }


SCENARIOS = {
    "public": {"cold_start": {"value": 0.41234, "low": 0.39, "high": 0.43, "rows": 5120}},
    "all": {"cold_start": {"value": 0.2, "low": 0.18, "high": 0.22, "rows": 10240}},
}


def test_scenario_claims_use_the_slice_and_its_interval():
    session = start_session()
    scored(session, scenarios=SCENARIOS)
    for value, comparator in ((0.38, "ge"), (0.42, "ge"), (0.44, "ge")):
        add(session, step=3, data=ClaimInput(kind=Kind.SCENARIO_METRIC, scenario="cold_start",
                                             comparator=comparator, value=value))
    add(session, step=3, data=ClaimInput(kind=Kind.SCENARIO_METRIC, scenario="latest_week",
                                         comparator="ge", value=0.3))
    assert verdicts(session) == {
        "NDCG@10 on the Cold start slice ≥ 0.38": ("supported", "0.4123 [0.3900, 0.4300]"),
        "NDCG@10 on the Cold start slice ≥ 0.42": ("inconclusive", "0.4123 [0.3900, 0.4300]"),
        "NDCG@10 on the Cold start slice ≥ 0.44": ("not_supported",
                                                   "0.4123 [0.3900, 0.4300]"),
        # The slice is absent (too few rows, or scored before slices existed).
        "NDCG@10 on the Latest week slice ≥ 0.3": ("not_measured", ""),
    }
    LeaderboardFactory(case_study=session.case_study, closed=True)
    statement = "NDCG@10 on the Cold start slice ≥ 0.38"
    assert verdicts(session)[statement] == ("not_supported", "0.2000 [0.1800, 0.2200]")


SERVING = {"version": 1, "target_rps": 40.0, "budget_ms": 100,
           "at_target": {"rate_rps": 40.0, "requests": 600, "p50_ms": 3.1, "p95_ms": 5.0,
                         "p99_ms": 47.0, "within_budget": True}}


def test_latency_claims_use_the_load_tests_p99_at_the_target_rate():
    session = start_session()
    score = scored(session, serving={})
    for value in (60, 48, 40):
        add(session, step=3, data=ClaimInput(kind=Kind.LATENCY_P99, value=value))
    statements = [c.statement for c in session_claims(session=session).claims]
    assert statements[0] == "p99 latency at the target rate (20 requests/s) ≤ 60 ms"
    # Scored before the serving evaluation: not measured, never an error.
    assert {c.verdict for c in session_claims(session=session).claims} == {"not_measured"}
    Score.objects.filter(pk=score.pk).update(serving=SERVING)
    assert [(c.verdict, c.measurement) for c in session_claims(session=session).claims] == [
        ("supported", "47.0 ms"), ("inconclusive", "47.0 ms"), ("not_supported", "47.0 ms")]


def test_model_size_claims_use_the_artifacts_size():
    session = start_session()
    scored(session, artifact_bytes=3 * MiB)
    add(session, step=4, data=ClaimInput(kind=Kind.MODEL_SIZE, value=5))
    add(session, step=4, data=ClaimInput(kind=Kind.MODEL_SIZE, value=2.5))
    assert verdicts(session) == {"Model size ≤ 5 MiB": ("supported", "3.00 MiB"),
                                 "Model size ≤ 2.5 MiB": ("not_supported", "3.00 MiB")}


def test_beating_the_reasonable_baseline_compares_intervals_on_the_primary_metric():
    session = start_session()
    scored(session, public_primary=0.7, public_half_width=0.01)
    add(session, step=4, data=ClaimInput(kind=Kind.BEATS_BASELINE))
    statement = "Beats the reasonable baseline on NDCG@10"
    assert verdicts(session)[statement] == ("not_measured", "")  # no baseline scored yet
    baseline = ScoreFactory(submission__case_study=session.case_study,
                            submission__baseline=True, submission__baseline_name="reasonable",
                            public_primary=0.6, public_half_width=0.01)
    assert verdicts(session)[statement] == (
        "supported", "0.7000 [0.6900, 0.7100] vs 0.6000 [0.5900, 0.6100]")
    Score.objects.filter(pk=baseline.pk).update(public_primary=0.695, public_ci_low=0.685,
                                                public_ci_high=0.705)
    assert verdicts(session)[statement][0] == "inconclusive"


def test_a_claim_written_after_the_model_was_scored_is_marked():
    session = start_session()
    early = add(session, data=heldout(0.3))
    score = scored(session)
    Score.objects.filter(pk=score.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    DesignClaim.objects.filter(pk=early.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10))
    late = add(session, data=heldout(0.4))
    marks = {c.claim.pk: c.made_after_scoring for c in session_claims(session=session).claims}
    assert marks == {early.pk: False, late.pk: True}
    # Editing the early claim now makes it a claim made after scoring too.
    claim_update(candidate=session.candidate, claim=early, data=heldout(0.31))
    assert all(c.made_after_scoring for c in session_claims(session=session).claims)


def test_session_claims_reads_in_a_constant_number_of_queries():
    session = start_session()
    scored(session, scenarios=SCENARIOS, serving=SERVING)
    ScoreFactory(submission__case_study=session.case_study, submission__baseline=True,
                 submission__baseline_name="reasonable")
    for step in (2, 3, 4):
        add(session, step=step, data=heldout(0.3))
        add(session, step=step, data=ClaimInput(kind=Kind.BEATS_BASELINE))
    with CaptureQueriesContext(connection) as queries:
        report = session_claims(session=session)
    assert len(report.claims) == 6
    assert len(queries) == 5  # claims, link, score, leaderboard, baseline


def test_the_replay_shows_the_claims_made_by_the_frames_time():
    session = start_session()
    first, second = add(session, step=2), add(session, step=2)
    DesignClaim.objects.filter(pk=first.pk).update(
        created_at=session.started_at + timedelta(minutes=3))
    DesignClaim.objects.filter(pk=second.pk).update(
        created_at=session.started_at + timedelta(minutes=9))
    report = session_claims(session=session)
    assert [c.claim.pk for c in claims_panel(report=report, step=2, editable=False,
                                             at_ms=5 * 60_000).claims] == [first.pk]
    assert len(claims_panel(report=report, step=2, editable=False, at_ms=10 * 60_000).claims) == 2
