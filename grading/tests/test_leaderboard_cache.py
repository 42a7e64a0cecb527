"""The leaderboard page's cache (``grading.selectors.leaderboard_page.leaderboard_shown``): a
page is drawn once per change of the board and kept under its change marker, so every write
that changes the board must show on the next request; what depends on the reader (their own
row's "me" mark and "you" chip) is filled in per request and never travels between readers;
the rows built in Python are the template's rows; and the "ago" texts remembered between
requests are the ones ``naturaltime`` gives. On PostgreSQL, whose row versions are the
marker (other databases draw every page afresh)."""

import datetime as dt
import random
import re
from types import SimpleNamespace

import pytest
from django.contrib.humanize.templatetags import humanize
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading.engine.errors import FailureReason, ScoringError
from grading.models import Leaderboard, Score
from grading.selectors import leaderboard_page as selectors
from grading.selectors.leaderboard_page import leaderboard_rows_parts
from grading.selectors.leaderboards import leaderboard_get_for_viewer, leaderboard_page
from grading.services.leaderboards import (
    leaderboard_close,
    leaderboard_entry_refresh,
    leaderboard_for,
)
from grading.services.submissions import submission_fail, submission_pin
from grading.tests.factories import SubmissionFactory
from interviews.models import CaseStudy
from interviews.tests.factories import candidate

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_postgres")]

SLUG = "food-delivery-time"  # rmse: lower is better
URL = f"/case-studies/{SLUG}/leaderboard/"
YOU = ' <span class="chip">you</span>'


def rows(html: str) -> list[tuple[str, str, str]]:
    """(the row's class, its name, its primary cell's text) for each row of the table."""
    found = []
    for row in re.findall(r'<tr class="[^"]*" data-testid="row">.*?</tr>', html, re.S):
        cls = re.search(r'<tr class="([^"]*)"', row).group(1)
        who = re.search(r'<td class="lb-who">(.*?)</td>', row, re.S).group(1)
        name = re.sub(r"<[^>]+>", "", who.replace(YOU, "")).strip()
        primary = re.sub(r"<[^>]+>", "", re.search(r'data-testid="primary">(.*?)</td>', row,
                                                     re.S).group(1)).strip()
        found.append((cls.strip(), name, primary))
    return found


def queries(client, url: str = URL, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


@pytest.fixture
def board(scored):
    ada, bob = candidate(username="ada"), candidate(username="bob")
    scored(SLUG, ada, public=10.0, private=12.0)
    scored(SLUG, bob, public=11.0, private=9.0)
    scored(SLUG, None, public=10.5, private=10.5, baseline_name="global mean")
    leaderboard = leaderboard_for(CaseStudy.objects.get(slug=SLUG))
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_public=True)
    return {"ada": ada, "bob": bob}


def test_a_second_request_is_served_from_the_cache(board, client):
    drawn, first = queries(client)
    cached, second = queries(client)
    assert cached < drawn
    assert cached == 1  # the leaderboard with its change marker; anonymous: no session
    assert rows(first) == rows(second) == [
        ("", "ada", "10.0000 [9.9900, 10.0100]"),
        ("baseline", "baseline: global mean", "10.5000 [10.4900, 10.5100]"),
        ("", "bob", "11.0000 [10.9900, 11.0100]")]
    # The htmx fragment of a page is the same table.
    _, fragment = queries(client, HX_Request="true")
    assert rows(fragment) == rows(second)


def test_a_new_score_shows_on_the_cached_page_at_once(board, client, scored):
    queries(client)
    assert queries(client)[0] == 1  # cached
    scored(SLUG, candidate(username="cy"), public=9.0, private=9.5)
    drawn, html = queries(client)
    assert drawn > 1
    assert [name for _, name, _ in rows(html)] == ["cy", "ada", "baseline: global mean", "bob"]
    assert "4 entries" in html


def test_a_better_score_of_a_candidate_on_the_board_shows_at_once(board, client, scored):
    queries(client)
    # Clearly better than the shown 11.0 (the Ladder releases it): bob leads.
    scored(SLUG, board["bob"], public=8.0, private=8.0)
    html = queries(client)[1]
    assert rows(html)[0] == ("", "bob", "8.0000 [7.9900, 8.0100]")
    assert re.findall(r'data-testid="sent">([^<]*)<', html)[0] == "2"


def test_a_score_that_no_longer_counts_leaves_the_cached_page_at_once(board, client):
    """A re-score onto another dataset, a withdrawn score: the row goes when the service
    refreshes it (nothing scored on the active dataset)."""
    queries(client)
    Score.objects.filter(submission__candidate=board["ada"]).update(is_current=False)
    leaderboard_entry_refresh(case_study=CaseStudy.objects.get(slug=SLUG),
                              candidate_id=board["ada"].pk)
    html = queries(client)[1]
    assert [name for _, name, _ in rows(html)] == ["baseline: global mean", "bob"]


def test_a_failed_submission_and_a_pin_show_at_once(board, client, scored):
    ada = board["ada"]
    queries(client)
    failed = SubmissionFactory(case_study=CaseStudy.objects.get(slug=SLUG), candidate=ada)
    submission_fail(submission=failed, error=ScoringError(FailureReason.INVALID_OUTPUT, "no"))
    html = queries(client)[1]
    assert re.findall(r'data-testid="sent">([^<]*)<', html)[0] == "2"  # failures count too

    worse = scored(SLUG, ada, public=30.0, private=7.0)
    queries(client)
    submission_pin(submission=worse)
    leaderboard_close(leaderboard=leaderboard_for(CaseStudy.objects.get(slug=SLUG)))
    # The final ranking counts the pinned submission's private score: ada leads on 7.0.
    html = queries(client, URL + "?split=private")[1]
    assert rows(html)[0][1:] == ("ada", "7.0000 [6.9900, 7.0100]")


def test_closing_the_round_shows_the_private_ranking_at_once(board, client):
    html = queries(client)[1]
    assert "on the public part" in html and "lb-private" not in html
    assert queries(client)[0] == 1
    leaderboard_close(leaderboard=leaderboard_for(CaseStudy.objects.get(slug=SLUG)))
    html = queries(client)[1]
    assert "on the private part" in html and 'data-testid="shake-up-head"' in html
    assert [name for _, name, _ in rows(html)] == ["bob", "baseline: global mean", "ada"]


def test_an_admins_edit_of_the_board_shows_at_once(board, client):
    queries(client)
    board_row = leaderboard_for(CaseStudy.objects.get(slug=SLUG))
    board_row.public_decimals = 2
    board_row.save()
    html = queries(client)[1]
    assert rows(html)[0] == ("", "ada", "10.00 [9.99, 10.01]")


def test_an_admins_edit_or_deletion_of_an_entry_shows_at_once(board, client, rf):
    from django.contrib.admin.sites import site

    from grading.admin import LeaderboardEntryAdmin
    from grading.models import LeaderboardEntry

    admin = LeaderboardEntryAdmin(LeaderboardEntry, site)
    request = rf.post("/admin/")
    queries(client)
    entry = LeaderboardEntry.objects.get(candidate=board["ada"])
    entry.display_name = "ada (renamed)"
    admin.save_model(request, entry, form=None, change=True)
    names = [name for _, name, _ in rows(queries(client)[1])]
    assert "ada (renamed)" in names and "ada" not in names
    admin.delete_queryset(request, LeaderboardEntry.objects.filter(pk=entry.pk))
    names = [name for _, name, _ in rows(queries(client)[1])]
    assert "ada (renamed)" not in names and "bob" in names


def test_two_readers_never_see_each_others_marks(board, client, django_user_model):
    """Each signed-in reader's own row carries "me" and the "you" chip on the same cached
    page; the other reader's row never does, whoever drew the page first."""
    from django.test import Client

    ada_client, bob_client = Client(), Client()
    ada_client.force_login(board["ada"])
    bob_client.force_login(board["bob"])
    for turn in range(2):
        drawn_ada, ada_page = queries(ada_client)
        drawn_bob, bob_page = queries(bob_client)
        _, anonymous = queries(client)
        if turn:  # every page from the cache by now: the marks were filled per request
            assert drawn_ada == drawn_bob
        assert rows(ada_page)[0][:2] == ("me", "ada") and rows(ada_page)[2][:2] == ("", "bob")
        assert rows(bob_page)[0][:2] == ("", "ada") and rows(bob_page)[2][:2] == ("me", "bob")
        assert [cls for cls, _, _ in rows(anonymous)] == ["", "baseline", ""]
        assert ada_page.count(YOU) == bob_page.count(YOU) == 1 and YOU not in anonymous
        assert f'title="ada">ada</span>{YOU}' in ada_page
        assert f'title="bob">bob</span>{YOU}' in bob_page


def test_another_sort_and_page_are_kept_apart(board, scored, client):
    for i in range(53):
        scored(SLUG, candidate(username=f"c{i:02d}"), public=10.0 + i, private=10.0 + i)
    first = queries(client, URL + "?sort=last")[1]
    second = queries(client, URL + "?page=2")[1]
    beyond = queries(client, URL + "?page=99")[1]  # the last page, as the paginator says
    assert "Page 2 of 2" in second and "Page 2 of 2" in beyond
    assert rows(second) == rows(beyond)
    assert [name for _, name, _ in rows(second)] == [f"c{i:02d}" for i in range(47, 53)]
    assert rows(first) != rows(queries(client)[1])


# The rows as the page's template wrote them, one {% include %}-free template loop per row,
# before they were built in Python (templates/grading/leaderboard.html at commit 504a47b).
TEMPLATE_ROWS = """{% load humanize grading_serving %}
    {% for row in board.rows %}
      <tr class="{% if row.is_me %}me{% endif %}{% if row.entry.is_baseline %} baseline{% endif %}" data-testid="row">
        <td class="lb-rank" data-testid="rank">{% if row.rank is None %}–{% else %}{{ row.rank }}{% endif %}</td>
        {% if board.split == "private" %}<td class="lb-change" data-testid="shake-up">{% if row.rank_change %}{% if row.rank_change > 0 %}<span class="up" title="up {{ row.rank_change }} place{{ row.rank_change|pluralize }} from the public ranking">▲ {{ row.rank_change }}</span>{% else %}<span class="down" title="down {{ row.rank_change|cut:'-' }} place{{ row.rank_change|pluralize }} from the public ranking">▼ {{ row.rank_change|cut:"-" }}</span>{% endif %}{% elif row.rank_change == 0 %}<span class="muted" title="the same place as on the public ranking">=</span>{% endif %}</td>{% endif %}
        <td class="lb-who">{% if row.entry.is_baseline %}baseline: {{ row.entry.display_name }}{% else %}<span class="lb-name" title="{{ row.entry.display_name }}">{{ row.entry.display_name }}</span>{% if row.is_me %} <span class="chip">you</span>{% endif %}{% endif %}</td>
        <td class="lb-primary" data-label="{{ board.primary.short_label }}" data-testid="primary">{% if row.tied_with_above %}<span class="tie">tied</span> {% endif %}<strong{% if board.split == "private" %} title="{{ row.value }}"{% endif %}>{{ row.value|floatformat:board.decimals }}</strong> <span class="ci">[{{ row.ci_low|floatformat:board.decimals }}, {{ row.ci_high|floatformat:board.decimals }}]</span></td>
        {% for col, value in row.secondary_cells %}<td data-label="{{ col.short_label }}">{% if value is None %}—{% else %}{{ value|floatformat:board.decimals }}{% endif %}</td>{% endfor %}
        {% with serving=row.entry.serving %}{% if serving %}<td class="lb-serving" data-server-measured data-label="p99 ms, max rps, $ per 1M" title="at {{ serving.target_rps|floatformat:'-1' }} requests/s, budget {{ serving.budget_ms }} ms; one request alone: p99 {{ row.entry.latency_p99_ms|floatformat:1 }} ms"><span data-testid="p99-at-target" class="{% if not serving.within_budget %}down{% endif %}">{{ serving.p99_ms|floatformat:1 }}</span> <span class="ci" data-testid="max-rate">{{ serving.max_rate_within_budget_rps|serving_rate:"" }}</span> <span class="ci" data-testid="cost">{{ serving.cost_per_million_usd|serving_usd }}</span></td>
        {% else %}<td class="lb-serving" data-label="p99 ms, max rps, $ per 1M" title="scored before the load test; one request alone: p99 {{ row.entry.latency_p99_ms|floatformat:1 }} ms, budget {{ row.entry.latency_budget_ms }} ms">—</td>{% endif %}{% endwith %}
        <td data-label="Size">{{ row.entry.artifact_bytes|filesizeformat }}</td>
        <td data-label="Sent" data-testid="sent">{{ row.entry.submission_count }}</td>
        <td class="lb-last" data-label="Last" title="{{ row.entry.last_submitted_at|date:'c' }}">{{ row.entry.last_submitted_at|naturaltime }}</td>
      </tr>
    {% empty %}
      <tr><td colspan="{{ board.secondary|length|add:8 }}" class="muted">No scored submissions yet.</td></tr>
    {% endfor %}
"""  # noqa: E501 - the template's lines as they were


@pytest.mark.parametrize("split", ["public", "private"])
def test_the_rows_built_in_python_are_the_templates_rows(board, scored, split):
    scored(SLUG, candidate(username="<b>eve</b>"), public=10.00004, private=10.7)
    scored(SLUG, candidate(username="fay"), public=13.0, private=8.0)
    if split == "private":
        leaderboard_close(leaderboard=leaderboard_for(CaseStudy.objects.get(slug=SLUG)))
    reader = board["bob"]
    page = leaderboard_page(leaderboard=leaderboard_get_for_viewer(user=reader, slug=SLUG),
                            user=reader, split=split)
    expected = Template(TEMPLATE_ROWS).render(Context({"board": page}))
    fragment = selectors.BoardFragment(parts=selectors._merged(leaderboard_rows_parts(page)))
    built = fragment.render(viewer_id=reader.pk)

    def normal(html: str) -> str:
        # Whitespace between tags, and "1 place" where the template wrote "1 places".
        html = re.sub(r">\s+<", "><", html.strip())
        return re.sub(r"(down|up) 1 places", r"\1 1 place", html)

    assert "&lt;b&gt;eve&lt;/b&gt;" in built and "<b>eve" not in built
    assert normal(built) == normal(expected)


class FrozenDatetime(dt.datetime):
    frozen: dt.datetime

    @classmethod
    def now(cls, tz=None):
        return cls.frozen


def test_the_remembered_ago_texts_are_the_ones_naturaltime_gives(monkeypatch):
    """``_ago_until``: until then ``naturaltime`` gives the same text, at any instant."""
    monkeypatch.setattr(humanize, "datetime", FrozenDatetime)

    def text_at(value: dt.datetime, at: float) -> str:
        FrozenDatetime.frozen = dt.datetime.fromtimestamp(at, dt.UTC)
        return humanize.naturaltime(value)

    rng = random.Random(7)
    base = dt.datetime(2026, 1, 31, 10, 30, 15, 250_000, tzinfo=dt.UTC).timestamp()
    ages = [0.5, 30, 59.9, 61, 3599, 3601, 86399, 86401, 3 * 86400 + 7, 29 * 86400,
            31 * 86400 + 5, 400 * 86400]
    ages += [rng.uniform(0, 90 * 86400) for _ in range(200)]
    for age in ages:
        value = dt.datetime.fromtimestamp(base + rng.uniform(0, 86400), dt.UTC)
        now = value.timestamp() + age
        until = selectors._ago_until(value.timestamp(), now)
        assert until >= now
        shown = text_at(value, now)
        for at in [now + (until - now) * k / 10 for k in range(11)]:
            assert text_at(value, at) == shown, (value, age, at)
        if until > now + 1:
            assert until - now >= 0.5  # it is remembered for a while, not only to now


def test_the_cached_page_says_how_long_ago_as_of_each_request(board, client, monkeypatch):
    html = queries(client, HX_Request="true")[1]
    assert set(re.findall(r'class="lb-last"[^>]*>([^<]*)<', html)) <= {"now"} | {
        f"{n} seconds ago" for n in range(1, 60)} | {"a second ago"}
    later = timezone.now() + dt.timedelta(hours=3, minutes=5)
    FrozenDatetime.frozen = later
    monkeypatch.setattr(humanize, "datetime", FrozenDatetime)
    monkeypatch.setattr(selectors, "time", SimpleNamespace(time=later.timestamp))
    drawn, html = queries(client, HX_Request="true")  # the table alone: no chart to redraw
    assert drawn == 1  # the table came from the cache; its "ago" texts did not
    assert re.findall(r'class="lb-last"[^>]*>([^<]*)<', html) == ["3\xa0hours ago"] * 3 or (
        re.findall(r'class="lb-last"[^>]*>([^<]*)<', html) == ["3 hours ago"] * 3)
