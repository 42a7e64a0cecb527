"""The leaderboard page as a reader meets it: which ranking it opens on before and after the
round closes, the shake-up column, the chart each tab shows, the decimals of each tab, what a
logged-out visitor is told, and the admin's names for the rows."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from grading.models import Leaderboard, LeaderboardEntry
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from interviews.models import CaseStudy
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"  # rmse: lower is better
URL = f"/case-studies/{SLUG}/leaderboard/"


@pytest.fixture
def board(scored):
    """ada leads the public ranking, bob the private one; a baseline between them."""
    ada, bob = candidate(username="ada"), candidate(username="bob")
    scored(SLUG, ada, public=10.0, private=12.123456789)
    scored(SLUG, bob, public=11.0, private=9.87654321)
    scored(SLUG, None, public=10.5, private=10.5, baseline_name="global mean")
    return leaderboard_for(CaseStudy.objects.get(slug=SLUG))


def cells(html: str, testid: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</td>', html, re.S)]


def test_an_open_round_opens_on_the_public_ranking_with_its_history(board, client):
    client.force_login(candidate())
    response = client.get(URL)
    html = response.content.decode()
    assert response.context["board"].split == "public"
    assert "on the public part" in html and "private part" not in html
    assert 'data-testid="history-chart"' in html and "Best public score over time" in html
    assert 'data-testid="shake-up-head"' not in html


def test_a_closed_round_opens_on_the_private_ranking_with_the_shake_up(board, client):
    leaderboard_close(leaderboard=board)
    client.force_login(candidate())
    response = client.get(URL)
    html = response.content.decode()
    assert response.context["board"].split == "private"
    # The final ranking comes first, and the page's words follow the tab.
    tabs = re.search(r'<nav class="tabs".*?</nav>', html, re.S).group(0)
    assert tabs.index("Private") < tabs.index("Public")
    assert re.search(r'href="\?split=private"\s+aria-current="page"', tabs)
    assert "on the private part" in html and "on the public part" not in html
    # Each rank's change against the public ranking, in a column of its own.
    assert 'data-testid="shake-up-head"' in html
    assert cells(html, "rank") == ["1", "–", "2"]
    assert cells(html, "shake-up") == ["▲ 1", "", "▼ 1"]
    # The public score's history says nothing about the private ranking.
    assert "Best public score over time" not in html
    assert 'data-testid="history-chart"' not in html

    html = client.get(URL + "?split=public").content.decode()
    assert "on the public part" in html and 'data-testid="history-chart"' in html
    assert 'data-testid="shake-up-head"' not in html


def test_both_tabs_show_the_boards_decimals(board, client):
    """Both tabs round to the board's ``public_decimals`` (4 here), so the two rankings
    compare digit for digit; the private tab ranks by the full value, which its cells carry
    as a tooltip (the private split is revealed once the round closes)."""
    leaderboard_close(leaderboard=board)
    client.force_login(candidate())
    for split in ("public", "private"):
        response = client.get(URL + f"?split={split}")
        assert response.context["board"].decimals == 4, split
    html = client.get(URL + "?split=private").content.decode()
    assert re.match(r"9\.8765\s", cells(html, "primary")[0])
    assert "9.876543" not in "".join(cells(html, "primary"))
    assert 'title="9.87654321"' in html


def test_a_logged_out_visitor_is_told_why_they_must_log_in(board, client):
    response = client.get(URL, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("login"))
    html = response.content.decode()
    assert "Estimate Food Delivery Time leaderboard is shown to logged-in users" in html
    Leaderboard.objects.filter(pk=board.pk).update(is_public=True)
    html = client.get(URL).content.decode()
    assert "ada" in html and "logged-in users" not in html


def test_the_admin_names_leaderboard_entries_in_plain_english(board, client):
    assert LeaderboardEntry._meta.verbose_name_plural == "leaderboard entries"
    client.force_login(get_user_model().objects.create_superuser("root", password=None))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Leaderboard entries" in html and "entrys" not in html
