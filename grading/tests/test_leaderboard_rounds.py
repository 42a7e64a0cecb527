"""Closing a round is final on its dataset: the private split is revealed, so the round
reopens only once a newer data version, built after the close, is active. Through the
service and through the admin's action (and the change form cannot untick "closed")."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from grading.models import Dataset, Leaderboard
from grading.services.datasets import dataset_activate
from grading.services.leaderboards import (
    RoundReopenRefused,
    leaderboard_close,
    leaderboard_for,
    leaderboard_reopen,
)
from grading.tests.factories import DatasetFactory
from interviews.tests.factories import CaseStudyFactory

pytestmark = pytest.mark.django_db


def refreshed(board: Leaderboard) -> Leaderboard:
    board.refresh_from_db()
    return board


@pytest.fixture
def closed_round():
    """A round closed on data version 10 (``revealed``), with version 20 (``prebuilt``)
    built before the close but not active."""
    case = CaseStudyFactory()
    prebuilt = DatasetFactory(case_study=case, data_version=20, is_active=False)
    revealed = DatasetFactory(case_study=case, data_version=10)
    board = leaderboard_for(case)
    leaderboard_close(leaderboard=board)
    return refreshed(board), revealed, prebuilt


def activate_new(board: Leaderboard, data_version: int, **fields):
    dataset = DatasetFactory(case_study=board.case_study, data_version=data_version,
                             is_active=False, **fields)
    dataset_activate(dataset=dataset)
    return dataset


def test_closing_records_the_revealed_dataset(closed_round):
    board, revealed, _ = closed_round
    assert board.is_closed and board.closed_at is not None
    assert board.closed_dataset == revealed


def test_a_round_does_not_reopen_on_the_dataset_it_closed_on(closed_round):
    board, _, _ = closed_round
    with pytest.raises(RoundReopenRefused, match="private split is now revealed"):
        leaderboard_reopen(leaderboard=board)
    assert refreshed(board).is_closed


def test_nor_on_an_older_data_version_or_a_rebuild_of_the_same_rows(closed_round):
    board, revealed, _ = closed_round
    for dataset in (activate_new(board, 9),
                    activate_new(board, 11, fingerprint=revealed.fingerprint)):
        with pytest.raises(RoundReopenRefused, match="private split is now revealed"):
            leaderboard_reopen(leaderboard=board)
        assert refreshed(board).is_closed, dataset


def test_nor_on_a_dataset_built_before_the_close(closed_round):
    board, _, prebuilt = closed_round
    dataset_activate(dataset=prebuilt)
    with pytest.raises(RoundReopenRefused, match="built before the round closed"):
        leaderboard_reopen(leaderboard=board)
    assert refreshed(board).is_closed


def test_nor_with_no_active_dataset(closed_round):
    board, revealed, _ = closed_round
    Dataset.objects.filter(pk=revealed.pk).update(is_active=False)
    with pytest.raises(RoundReopenRefused, match="No dataset is active"):
        leaderboard_reopen(leaderboard=board)


def test_a_new_data_version_reopens_the_round_and_the_next_close_records_it(closed_round):
    board, revealed, _ = closed_round
    new = activate_new(board, 30)
    leaderboard_reopen(leaderboard=board)
    board = refreshed(board)
    assert not board.is_closed and board.closed_at is None
    leaderboard_reopen(leaderboard=board)  # an open round: nothing to refuse
    leaderboard_close(leaderboard=board)
    assert refreshed(board).closed_dataset == new
    # The first round's dataset was revealed too: going back to it is refused.
    dataset_activate(dataset=revealed)
    with pytest.raises(RoundReopenRefused):
        leaderboard_reopen(leaderboard=board)


def test_the_admin_action_refuses_then_reopens_and_the_form_cannot_untick_closed(
        client, closed_round):
    board, _, _ = closed_round
    root = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(root)
    changelist = reverse("admin:grading_leaderboard_changelist")
    action = {"action": "reopen_round", "_selected_action": [board.pk]}
    html = client.post(changelist, action, follow=True).content.decode()
    assert "private split is now revealed" in html and "Reopened" not in html
    assert refreshed(board).is_closed
    form = client.get(reverse("admin:grading_leaderboard_change", args=[board.pk]))
    assert 'name="is_closed"' not in form.content.decode()

    activate_new(board, 30)
    html = client.post(changelist, action, follow=True).content.decode()
    assert "Reopened 1 round(s)." in html
    assert not refreshed(board).is_closed
