"""The submission page's "Scenario slices" table: the public part rounded to the board's
``public_decimals`` while the round is open (interval too), the whole split at full
precision after it closes, and the traffic-spike line from the serving load test."""

import pytest

from grading.services.submissions import report_as_json, score_report_save
from grading.tests.conftest import fake_report
from grading.tests.factories import SubmissionFactory
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SCENARIOS = {
    "public": {"cold_start": {"value": 5.123456789, "low": 4.987654321, "high": 5.259259259,
                              "rows": 321},
               "latest_week": {"value": 4.55554444, "low": 4.44443333, "high": 4.66665555,
                               "rows": 654}},
    "all": {"cold_start": {"value": 5.111122223, "low": 5.01010101, "high": 5.21212121,
                           "rows": 1070},
            "latest_week": {"value": 4.56789012, "low": 4.50505050, "high": 4.63636363,
                            "rows": 2180},
            "missing_features": {"value": 6.25252525, "low": 6.1, "high": 6.4, "rows": 998}},
}
SERVING = {"budget_ms": 80, "spike": {"rate_rps": 80.0, "p99_ms": 123.4, "p50_ms": 9.0,
                                      "within_budget": False}}


def _scored_submission(tiny_dataset):
    dataset, _ = tiny_dataset("food-delivery-time")
    owner = candidate()
    submission = SubmissionFactory(case_study=dataset.case_study, candidate=owner,
                                   artifact_file=True)
    report = fake_report(case_study=dataset.case_study, public=5.0, private=5.1)
    report.scenarios = SCENARIOS
    report.serving = SERVING
    score_report_save(submission=submission, dataset=dataset, report=report)
    return submission, owner, report


def test_during_the_round_the_table_shows_the_public_slices_rounded(tiny_dataset, client):
    submission, owner, _ = _scored_submission(tiny_dataset)
    client.force_login(owner)
    html = client.get(submission.get_absolute_url()).content.decode()
    assert 'data-testid="scenario-slices"' in html and "Scenario slices" in html
    assert 'data-testid="scenario-cold_start"' in html
    assert "5.1235" in html and "4.9877 – 5.2593" in html  # public_decimals = 4
    assert "5.123456" not in html and "5.1111" not in html  # neither digits nor "all"
    assert 'data-testid="scenario-missing_features"' not in html  # absent from public
    # the load test is measured on the server, not from labels: shown as measured
    assert 'data-testid="scenario-traffic-spike"' in html
    assert "123.4 ms" in html and "over budget" in html


def test_after_the_close_the_table_shows_the_whole_split_at_full_precision(tiny_dataset,
                                                                          client):
    from grading.selectors.leaderboards import leaderboard_settings
    from grading.services.leaderboards import leaderboard_close
    from grading.tests.factories import LeaderboardFactory

    submission, owner, _ = _scored_submission(tiny_dataset)
    leaderboard = leaderboard_settings(case_study=submission.case_study)
    if leaderboard.pk is None:
        leaderboard = LeaderboardFactory(case_study=submission.case_study)
    leaderboard_close(leaderboard=leaderboard)
    client.force_login(owner)
    html = client.get(submission.get_absolute_url()).content.decode()
    assert "5.111122" in html and "5.010101 – 5.212121" in html
    assert 'data-testid="scenario-missing_features"' in html and "6.252525" in html
    assert "5.1235" not in html


def test_the_scoring_report_json_includes_the_scenarios(tiny_dataset):
    _, _, report = _scored_submission(tiny_dataset)
    assert '"cold_start"' in report_as_json(report)


def test_heldout_load_brings_the_scenario_masks_with_the_labels(tiny_dataset):
    from grading.services.datasets import heldout_load

    dataset, built = tiny_dataset("ad-click-prediction")
    heldout = heldout_load(dataset=dataset)
    assert set(heldout.scenarios) == set(built.heldout_scenarios)
    for name, mask in built.heldout_scenarios.items():
        assert heldout.scenarios[name].dtype == bool and (heldout.scenarios[name] == mask).all()
    # the sandbox gets the features only: no mask rides along as a column
    assert set(heldout.features.columns) == set(built.spec.feature_names)
