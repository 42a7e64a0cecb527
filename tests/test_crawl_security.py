"""Crawl the site as every role and check every response: held-out labels never appear
(several fingerprints of them), and every HTML page carries a CSP header with a nonce that
its scripts use."""

import re
from collections import deque
from html.parser import HTMLParser

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from grading.models import Dataset, Leaderboard, Submission
from grading.services.datasets import dataset_build, dataset_directory
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.services.submissions import submission_create
from grading.tests.conftest import train_example_model
from interviews.models import CaseStudy
from interviews.services.autosave import answer_save
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import admin_user, candidate, interviewer

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

MAX_PAGES_PER_ROLE = 250
SKIP = re.compile(r"^/(static/|accounts/logout/|admin/.+/(delete|history)/|admin/logout/)")


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"href", "hx-get"} and value and value.startswith("/"):
                self.links.append(value.split("#")[0])


def label_fingerprints(dataset: Dataset) -> list[bytes]:
    """Byte strings that would betray held-out labels if they appeared in a response."""
    import hashlib

    directory = dataset_directory(dataset) / "heldout"
    labels = np.load(directory / "labels.npy", allow_pickle=False)
    raw = (directory / "labels.npy").read_bytes()
    prints = [
        hashlib.sha256(labels.tobytes()).hexdigest().encode(),
        hashlib.sha256(raw).hexdigest().encode(),
        raw[128:192],  # the array's data, past the .npy header
        (directory / "features.parquet").read_bytes()[64:128],
    ]
    if labels.dtype.kind == "f":  # distinctive values: look for runs of consecutive labels
        # Runs of three: delivery minutes carry one decimal, so a pair such as "31.5\n33" also
        # turns up by chance where a training row's label meets the next row's first field.
        for start in range(0, min(len(labels) - 3, 400), 7):
            a, b, c = labels[start:start + 3]
            for fmt in ("{:.7g}", "{:.6g}", "{:.4f}", "{:.2f}", "{}"):
                for sep in (",", ", ", "\n", " ", "]["):
                    prints.append(sep.join(fmt.format(v) for v in (a, b, c)).encode())
    return prints


@pytest.fixture
def site(catalogue, data_dirs, tmp_path, django_capture_on_commit_callbacks):
    owner = candidate(username="owner")
    users = {
        "anonymous": None,
        "candidate": owner,
        "other-candidate": candidate(username="other"),
        "interviewer": interviewer(username="iv"),
        "admin": admin_user(username="boss", is_superuser=True),
    }
    datasets = {}
    for slug in ("food-delivery-time", "ad-click-prediction"):
        case = CaseStudy.objects.get(slug=slug)
        dataset, built = dataset_build(case_study=case, size="tiny")
        datasets[slug] = dataset
        model = train_example_model(built, tmp_path / slug)
        with django_capture_on_commit_callbacks(execute=True):
            submission_create(
                candidate=owner, case_study=case,
                upload=SimpleUploadedFile("model.onnx", model.read_bytes()), note="mine")
    # One round closed, so private scores and whole-split plots are on show too.
    leaderboard_close(
        leaderboard=leaderboard_for(CaseStudy.objects.get(
            slug="ad-click-prediction")))
    session, _ = session_start(
        candidate=owner, case_study=CaseStudy.objects.get(slug="food-delivery-time"))
    answer_save(session=session, step_number=1, text="Predict minutes.",
                                   base_version=0)
    session_submit(session=session)
    return users, datasets


def crawl(client: Client) -> dict[str, object]:
    seen: dict[str, object] = {}
    queue = deque(["/", "/sessions/", "/grading/", "/scorecards/calibration/", "/admin/",
                   "/case-studies/food-delivery-time/data/train.csv",
                   "/case-studies/food-delivery-time/validator.pyz"])
    while queue and len(seen) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        if url in seen or SKIP.match(url):
            continue
        response = client.get(url)
        seen[url] = response
        content_type = response.get("Content-Type", "")
        if response.status_code == 200 and content_type.startswith("text/html"):
            parser = Links()
            parser.feed(response.content.decode())
            queue.extend(link for link in parser.links if link not in seen)
    return seen


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_no_response_to_any_role_contains_heldout_labels(site):
    users, datasets = site
    prints = [p for dataset in datasets.values() for p in label_fingerprints(dataset)]
    total = 0
    for role, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        pages = crawl(client)
        total += len(pages)
        assert len(pages) > 3, role
        for url, response in pages.items():
            content = body(response)
            for fingerprint in prints:
                assert fingerprint not in content, (role, url, fingerprint[:40])
            assert response.status_code < 500, (role, url, response.status_code)
    assert total > 40


@pytest.fixture
def open_round_site(catalogue, data_dirs, tmp_path, django_capture_on_commit_callbacks):
    """Both rounds open; the owner has two scored submissions on each case study (the second
    the same model again: the Ladder keeps the first), the leaderboards are public."""
    owner = candidate(username="owner")
    users = {"anonymous": None, "candidate": owner, "other-candidate": candidate(username="other")}
    for slug in ("food-delivery-time", "ad-click-prediction"):
        case = CaseStudy.objects.get(slug=slug)
        _, built = dataset_build(case_study=case, size="tiny")
        model = train_example_model(built, tmp_path / slug).read_bytes()
        for note in ("first", "again"):
            with django_capture_on_commit_callbacks(execute=True):
                submission_create(candidate=owner, case_study=case, note=note,
                                  upload=SimpleUploadedFile("model.onnx", model))
        board = leaderboard_for(case)
        board.is_public = True
        board.save(update_fields=["is_public"])
    assert Submission.objects.filter(status="scored").count() == 4
    return users


# While a round is open no page may carry more about the public split than its rounded
# headline: no number with more decimals than the board's, and no chart series with more
# points than the per-week chart has weeks (a ROC curve had 120). The leaderboard's
# best-score line has a point per record, a handful here.
MAX_SERIES_POINTS = 8
NUMBER = re.compile(r"(?<![\w.:#-])\d+\.(\d+)(?![\w.])")
# What the scoring server measured (latency, rates, cost: never from labels) may be shown
# unrounded, and the board's quality-vs-p99 scatter plots its table's rounded scores (to 3
# significant digits); pages mark both ``data-server-measured``, and the scan skips them.
MEASURED = re.compile(r"<(section|td|figure)\b[^>]*\bdata-server-measured\b[^>]*>.*?</\1>",
                      re.S)
SERIES = re.compile(r'<(path|g) (class="chart-series"[^>]*)>(.*?)</\1>', re.S)


def series_points(html: str) -> list[int]:
    """The number of points of each chart series: a path's coordinate pairs, a group's
    markers."""
    counts = []
    for tag, attributes, inner in SERIES.findall(html):
        if tag == "path":
            d = re.search(r' d="([^"]*)"', attributes).group(1)
            counts.append(len(re.findall(r"-?\d+(?:\.\d+)?", d)) // 2)
        else:
            counts.append(inner.count("<circle"))
    return counts


def test_during_an_open_round_no_page_says_more_than_the_rounded_headline(open_round_site):
    decimals = Leaderboard._meta.get_field("public_decimals").default
    assert Leaderboard.objects.filter(public_decimals=decimals).count() == 2
    checked = charts = 0
    for role, user in open_round_site.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url, response in crawl(client).items():
            if response.status_code not in (200, 286) or not response.get(
                    "Content-Type", "").startswith("text/html"):
                continue
            html = MEASURED.sub("", response.content.decode())
            long = [m.group(0) for m in NUMBER.finditer(html) if len(m.group(1)) > decimals]
            assert not long, (role, url, long[:5])
            points = series_points(html)
            assert all(0 < n <= MAX_SERIES_POINTS for n in points), (role, url, points)
            assert "ROC curve</figcaption>" not in html, (role, url)
            charts += len(points)
            checked += 1
    assert checked > 20 and charts >= 4


def test_every_html_page_carries_a_csp_nonce_that_its_scripts_use(site):
    users, _ = site
    checked = 0
    for role, user in users.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url, response in crawl(client).items():
            if response.status_code != 200 or not response.get(
                    "Content-Type", "").startswith("text/html"):
                continue
            header = response.get("Content-Security-Policy", "")
            match = re.search(r"'nonce-([^']+)'", header)
            assert match, (role, url, header)
            assert "'unsafe-inline'" not in header.split("script-src", 1)[1].split(";")[0]
            html = response.content.decode()
            for tag in re.findall(r"<script\b[^>]*>", html):
                assert f'nonce="{match.group(1)}"' in tag, (role, url, tag)
            for tag in re.findall(r"<style\b[^>]*>", html):
                assert f'nonce="{match.group(1)}"' in tag, (role, url, tag)
            assert not re.search(r"\son[a-z]+=\"", html), (role, url)  # no inline handlers
            checked += 1
    assert checked > 30
