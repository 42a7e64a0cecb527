"""Scorecard selectors: who sees which scores, the released verdicts for the combined
standings, the skill profile, replay, the queue, and the calibration figures (checked against
scikit-learn on a hand-built panel). Model evidence beside a session is grading's:
grading/tests/test_selectors_evidence.py."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from sklearn.metrics import cohen_kappa_score

from interviews.models import AnswerRevision, InterviewSession
from interviews.scorecards import services as services
from interviews.scorecards import verdict as rules
from interviews.scorecards.selectors.access import grade_get_for_grader, session_get_for_scorecard
from interviews.scorecards.selectors.calibration import calibration_report
from interviews.scorecards.selectors.feedback import (
    ReleasedVerdict,
    feedback_for_candidate,
    released_verdicts_for_case,
    skill_profile_for_candidate,
)
from interviews.scorecards.selectors.queue import scorecard_queue
from interviews.scorecards.selectors.replay import session_replay_frame, session_replay_timeline
from interviews.scorecards.selectors.workspace import scorecard_workspace
from interviews.services.autosave import answer_save
from interviews.tests.factories import (
    CaseStudyFactory,
    admin_user,
    candidate,
    grade_input,
    graded,
    interviewer,
    released,
    start_session,
    submitted_session,
)

pytestmark = pytest.mark.django_db

THREES = dict.fromkeys(range(1, 8), 3)


# --- visibility -------------------------------------------------------------------------------


def test_other_graders_scores_are_not_even_fetched_until_you_submit():
    session = submitted_session(graders_required=2)
    first, second = interviewer(), interviewer()
    graded(session, first, THREES, comments={2: "FIRST-GRADER-SECRET"})
    graded(session, second, {1: 2}, submit=False)
    draft_view = scorecard_workspace(session=session, user=second)
    assert not draft_view.others_visible
    assert draft_view.other_grades == []
    assert all(step.others == [] for step in [*draft_view.steps, draft_view.communication])
    # An interviewer who does not grade it sees nothing while a grade is still to come.
    outsider = scorecard_workspace(session=session, user=interviewer())
    assert not outsider.others_visible and outsider.steps[1].others == []

    services.grade_submit(grade=draft_view.my_grade, base_revision=1,
                          data=grade_input(THREES))
    after = scorecard_workspace(session=session, user=second)
    assert after.others_visible
    assert [other.score.comment for other in after.steps[1].others] == ["FIRST-GRADER-SECRET"]
    assert [status.grade.grader_id for status in after.other_grades] == [first.pk]
    # Once every grade is in, nobody is left to anchor: other interviewers may read them.
    assert scorecard_workspace(session=session, user=interviewer()).others_visible


def test_an_admin_who_does_not_grade_sees_the_submitted_grades():
    session = submitted_session(graders_required=2)
    graded(session, interviewer(), THREES, comments={1: "visible to admins"})
    view = scorecard_workspace(session=session, user=admin_user())
    assert view.others_visible
    assert view.steps[0].others[0].score.comment == "visible to admins"


def test_candidates_and_unsubmitted_sessions_are_404_for_scorecards():
    from django.http import Http404

    session = submitted_session()
    for user in (session.candidate, candidate()):
        with pytest.raises(Http404):
            session_get_for_scorecard(user=user, session_id=session.pk)
    running = start_session()
    with pytest.raises(Http404):
        session_get_for_scorecard(user=interviewer(), session_id=running.pk)
    with pytest.raises(Http404):
        grade_get_for_grader(user=interviewer(), session_id=session.pk)
    assert session_get_for_scorecard(user=interviewer(), session_id=session.pk) == session


# --- released verdicts (combined standings) ---------------------------------------------------


def test_released_verdicts_give_each_candidates_latest_released_session_in_one_query():
    case = CaseStudyFactory()
    alice, bob, carol = candidate(), candidate(), candidate()
    grader = interviewer()
    old = submitted_session(candidate_user=alice, case_study=case)
    graded(old, grader, dict.fromkeys(range(1, 7), 2))
    released(old)
    new = submitted_session(candidate_user=alice, case_study=case)
    graded(new, grader, dict.fromkeys(range(1, 7), 4))
    released(new)
    # Bob's only session is graded but not released; Carol's is on another case study.
    bobs = submitted_session(candidate_user=bob, case_study=case)
    graded(bobs, grader, THREES)
    carols = submitted_session(candidate_user=carol)
    graded(carols, grader, THREES)
    released(carols)

    with CaptureQueriesContext(connection) as queries:
        verdicts = released_verdicts_for_case(case_study=case)
    assert len(queries) == 1
    assert verdicts == {alice.pk: ReleasedVerdict(rules.STRONG_HIRE,
                                                           Decimal("4.000"), new.pk)}
    verdict, mean, session_id = verdicts[alice.pk]  # a plain tuple as well
    assert (verdict, mean, session_id) == ("strong_hire", Decimal("4.000"), new.pk)

    # Still one query with many more candidates.
    for _ in range(5):
        session = submitted_session(case_study=case)
        graded(session, grader, THREES)
        released(session)
    with CaptureQueriesContext(connection) as queries:
        assert len(released_verdicts_for_case(case_study=case)) == 6
    assert len(queries) == 1


# --- the candidate's feedback and skill profile -----------------------------------------------


def test_feedback_is_none_until_released_then_names_graders_by_letter():
    session = submitted_session(graders_required=2)
    first, second = interviewer(username="zed"), interviewer(username="amy")
    graded(session, first, {**THREES, 4: 4}, comments={4: "Great features."})
    assert feedback_for_candidate(session=session) is None
    graded(session, second, {**THREES, 4: 2})
    assert feedback_for_candidate(session=session) is None
    session = released(session, by=first)
    feedback = feedback_for_candidate(session=session)
    assert [g.label for g in feedback.graders] == ["Interviewer A", "Interviewer B"]
    assert [g.grade.grader_id for g in feedback.graders] == [first.pk, second.pk]
    step4 = feedback.step(4)
    assert [entry.score.level for entry in step4.entries] == [4, 2]
    assert step4.mean_level == 3
    assert step4.entries[0].score.comment == "Great features."
    assert "Consensus (mean)" in feedback.radar_svg and "Interviewer B" in feedback.radar_svg
    assert "zed" not in feedback.radar_svg and "amy" not in feedback.radar_svg


def test_skill_profile_averages_each_step_over_released_sessions():
    user = candidate()
    assert skill_profile_for_candidate(user=user) is None
    first = submitted_session(candidate_user=user, graders_required=2)
    graded(first, interviewer(), {1: 4, 2: 2, 3: 3, 4: 3, 5: 3, 6: 3, 7: 4})
    graded(first, interviewer(), {1: 2, 2: 2, 3: 3, 4: 3, 5: 3, 6: 3, 7: 2})
    released(first)
    second = submitted_session(candidate_user=user, case_study=CaseStudyFactory())
    graded(second, interviewer(), {1: 1, 2: 4, 3: 3, 4: 3, 5: 3, 6: rules.NOT_REACHED, 7: 3})
    released(second)
    unreleased = submitted_session(candidate_user=user)
    graded(unreleased, interviewer(), dict.fromkeys(range(1, 8), 1))

    profile = skill_profile_for_candidate(user=user)
    assert (profile.sessions, profile.case_studies) == (2, 2)
    averages = {row.number: row.average for row in profile.rows}
    # Step 1: session one's graders average 3, session two gave 1 -> 2.
    assert averages[1] == 2 and averages[2] == 3 and averages[3] == 3
    assert averages[6] == 2  # 3, and "not reached" as 1
    assert profile.communication.average == 3
    assert 'class="chart-series"' in profile.radar_svg


# --- replay -----------------------------------------------------------------------------------


def test_replay_shows_each_answer_as_it_stood_at_a_time():
    session = start_session()
    first = answer_save(session=session, step_number=1, text="First draft.", base_version=0)
    answer_save(session=session, step_number=1, text="Second draft.", base_version=1)
    answer_save(session=session, step_number=2, text="Metrics.", base_version=0)
    # Spread the saves over the timeline: 1 min, 5 min, 9 min.
    for version, minutes in ((1, 1), (2, 5)):
        AnswerRevision.objects.filter(answer=first.answer, version=version).update(
            elapsed_ms=minutes * 60_000)
    AnswerRevision.objects.filter(answer__step_number=2).update(elapsed_ms=9 * 60_000)
    # As the view has it: fetched with its rubric (``session_get_for_scorecard``).
    session = type(session).objects.select_related("rubric").get(pk=session.pk)
    with CaptureQueriesContext(connection) as queries:
        frame = session_replay_frame(session=session, at_ms=6 * 60_000)
    # The answers as they stood, the rubric's titles, the questions asked so far.
    assert len(queries) == 3
    by_step = {step.number: step for step in frame.steps}
    assert (by_step[1].text, by_step[1].version, by_step[1].final_version) == (
        "Second draft.", 2, 2)
    assert by_step[2].version == 0 and by_step[2].text == ""
    early = session_replay_frame(session=session, at_ms=2 * 60_000)
    assert early.steps[0].text == "First draft."
    timeline = session_replay_timeline(session=session)
    assert timeline.saves_ms == [60_000, 300_000, 540_000]
    assert [row["count"] for row in timeline.rows] == [2, 1, 0, 0, 0, 0]


# --- the queue --------------------------------------------------------------------------------


def test_queue_filters_by_state_and_case_and_counts_each_state():
    me, other = interviewer(), interviewer()
    case_a, case_b = CaseStudyFactory(), CaseStudyFactory()
    unclaimed = submitted_session(case_study=case_a)
    mine = submitted_session(case_study=case_a)
    graded(mine, me, THREES, submit=False)
    done = submitted_session(case_study=case_b)
    graded(done, other, THREES)
    start_session(case_study=case_a)  # still running: never in the queue

    queue = scorecard_queue(user=me, state="unclaimed")
    assert [row.session.pk for row in queue.rows] == [unclaimed.pk]
    assert queue.rows[0].can_claim and queue.counts == {"unclaimed": 1, "mine": 1,
                                                        "graded": 1, "all": 3}
    assert [r.session.pk for r in scorecard_queue(user=me, state="mine").rows] == [
        mine.pk]
    graded_rows = scorecard_queue(user=me, state="graded").rows
    assert [row.session.pk for row in graded_rows] == [done.pk]
    assert graded_rows[0].state == "ready" and not graded_rows[0].can_release
    assert scorecard_queue(user=other, state="graded").rows[0].can_release
    by_case = scorecard_queue(user=me, state="all", case_slug=case_b.slug)
    assert [row.session.pk for row in by_case.rows] == [done.pk]
    assert by_case.counts["all"] == 1
    assert scorecard_queue(user=me, state="bogus").state == "unclaimed"


def test_the_queue_runs_a_constant_number_of_queries():
    me = interviewer()

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            queue = scorecard_queue(user=me, state="all")
            [row.state for row in queue.rows]
        return len(queries)

    session = submitted_session()
    graded(session, interviewer(), THREES)
    count()  # the first call also loads the user's permissions, once
    few = count()
    for _ in range(4):
        session = submitted_session(graders_required=2)
        graded(session, interviewer(), THREES)
        graded(session, interviewer(), THREES, submit=False)
    assert count() == few


# --- calibration ------------------------------------------------------------------------------

# Two interviewers on five sessions (steps 1-6 and communication). Rater "ann" always
# submits first, so she is rater A in every pair.
ANN = [
    {1: 3, 2: 3, 3: 2, 4: 4, 5: 3, 6: 2, 7: 3},
    {1: 2, 2: 3, 3: 3, 4: 2, 5: 2, 6: 1, 7: 3},
    {1: 4, 2: 4, 3: 3, 4: 3, 5: 4, 6: 3, 7: 4},
    {1: 1, 2: 2, 3: 2, 4: 2, 5: 1, 6: 1, 7: 2},
    {1: 3, 2: 2, 3: 3, 4: 3, 5: 3, 6: "not_reached", 7: 3},
]
BEN = [
    {1: 3, 2: 2, 3: 2, 4: 3, 5: 3, 6: 2, 7: 3},
    {1: 2, 2: 3, 3: 2, 4: 2, 5: 1, 6: 1, 7: 3},
    {1: 3, 2: 4, 3: 3, 4: 4, 5: 4, 6: 3, 7: 4},
    {1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 2, 7: 2},
    {1: 3, 2: 2, 3: 1, 4: 3, 5: 3, 6: 1, 7: 3},
]


def _level(value) -> int:
    return 1 if value == "not_reached" else value


@pytest.fixture
def panel():
    ann, ben = interviewer(username="ann"), interviewer(username="ben")
    case = CaseStudyFactory()
    for ann_levels, ben_levels in zip(ANN, BEN, strict=True):
        session = submitted_session(case_study=case, graders_required=2)
        graded(session, ann, ann_levels)
        graded(session, ben, ben_levels)
    # Noise: a session whose third grade is a draft (it counts nowhere until that grade is
    # in), and a single-graded one (complete: it counts in ann's mean and distribution, not
    # towards agreement).
    pending = submitted_session(case_study=case, graders_required=3)
    graded(pending, ann, dict.fromkeys(range(1, 8), 4))
    graded(pending, ben, dict.fromkeys(range(1, 8), 1))
    graded(pending, interviewer(), THREES, submit=False)
    single = submitted_session(case_study=case)
    graded(single, ann, dict.fromkeys(range(1, 8), 4))
    return case, ann, ben


def test_calibration_kappa_per_step_matches_scikit_learn(panel):
    case, _, _ = panel
    report = calibration_report(case_study=case)
    assert report.sessions == 5
    rows = {row.number: row for row in report.steps}
    for step in range(1, 8):
        a = [_level(levels[step]) for levels in ANN]
        b = [_level(levels[step]) for levels in BEN]
        expected = cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4])
        assert rows[step].agreement.pairs == 5
        assert rows[step].agreement.kappa == pytest.approx(expected, abs=1e-12), step
        assert rows[step].agreement.exact == pytest.approx(
            sum(x == y for x, y in zip(a, b, strict=True)) / 5)
        assert rows[step].agreement.adjacent == pytest.approx(
            sum(abs(x - y) <= 1 for x, y in zip(a, b, strict=True)) / 5)
    # Communication: identical levels throughout, kappa 1.
    assert rows[7].agreement.kappa == pytest.approx(1.0)
    # Step 3 by hand: ann 2,3,3,2,3 against ben 2,2,3,2,1. With weights (i - j)^2, the
    # observed disagreement is (0 + 1 + 0 + 0 + 4) / 5 = 1 and the chance one from the
    # marginals is (2 + 2 + 12 + 9) / 25 = 1: kappa 0, though 3 of 5 pairs agree exactly.
    assert rows[3].agreement.kappa == pytest.approx(0.0, abs=1e-12)
    assert rows[3].agreement.exact == pytest.approx(0.6)
    pooled_a = [_level(levels[s]) for levels in ANN for s in range(1, 7)]
    pooled_b = [_level(levels[s]) for levels in BEN for s in range(1, 7)]
    assert report.overall.kappa == pytest.approx(
        cohen_kappa_score(pooled_a, pooled_b, weights="quadratic"))


def test_calibration_reports_leniency_against_the_panel(panel):
    case, ann, ben = panel
    report = calibration_report(case_study=case)
    raters = {row.username: row for row in report.raters}
    diffs = [_level(a[s]) - _level(b[s]) for a, b in zip(ANN, BEN, strict=True)
             for s in range(1, 7)]
    assert raters["ann"].offset == pytest.approx(sum(diffs) / len(diffs))
    assert raters["ben"].offset == pytest.approx(-sum(diffs) / len(diffs))
    assert raters["ann"].offset == pytest.approx(7 / 30)  # 7 levels more over 30 pairs
    assert raters["ann"].leniency == "more lenient than the panel"
    assert raters["ben"].leniency == "stricter than the panel"
    # Means and distributions count the grades on complete sessions only: ann's 6 (5 paired
    # and the single-graded one), ben's 5; the pending session's are left out.
    assert (raters["ann"].grades, raters["ben"].grades) == (6, 5)
    ann_levels = [_level(lv[s]) for lv in ANN for s in range(1, 7)] + [4] * 6
    assert raters["ann"].mean == pytest.approx(sum(ann_levels) / len(ann_levels))
    ben_levels = [_level(lv[s]) for lv in BEN for s in range(1, 7)]
    assert raters["ben"].mean == pytest.approx(sum(ben_levels) / len(ben_levels))
    assert raters["ann"].distribution.counts["not_reached"] == 1
    assert raters["ann"].distribution.total == 36
    assert report.panel_distribution.total == 36 + 30
    assert report.panel_mean == pytest.approx(
        sum(ann_levels + ben_levels) / len(ann_levels + ben_levels))
    # The pending session's 4-against-1 spread is not listed; real two-level gaps are.
    assert all(item.spread >= 2 for item in report.disagreements)
    assert {(d.step_number, d.levels[0][1], d.levels[1][1]) for d in report.disagreements} == {
        (3, 3, 1)}
    assert 'class="chart-bar' in report.kappa_chart and "ann" in report.leniency_chart


def test_calibration_is_empty_without_double_scoring():
    session = submitted_session()
    graded(session, interviewer(), THREES)
    report = calibration_report()
    assert report.sessions == 0 and report.overall.kappa is None
    assert all(row.agreement.pairs == 0 for row in report.steps)
    assert InterviewSession.objects.count() == 1
