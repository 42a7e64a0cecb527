"""The interviewer guide (``interviews/catalogue/guides/``, ``GuideStep``): complete for every
case study, loaded idempotently, editable in the admin, and shown to candidates only as the
strong-answer outline on the review page after they submit."""

import json
import re
import shutil
from pathlib import Path

import pytest
from django.utils.html import escape

from interviews.markdown import render_markdown
from interviews.models import CaseStudy, GuideStep, RubricStep
from interviews.selectors.guide import guide_answer_key_column
from interviews.services.autosave import answer_save
from interviews.services.catalogue import CATALOGUE_DIR, catalogue_load, guide_upsert
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import admin_user, candidate, interviewer

CASE_STUDY_FILES = sorted((CATALOGUE_DIR / "case_studies").glob("*.json"))
STEPS = [str(number) for number in range(1, 7)]


def guide_data(case_file: Path) -> dict:
    return json.loads((CATALOGUE_DIR / "guides" / case_file.name).read_text(encoding="utf-8"))


def interviewer_only_texts(guide: dict) -> list[str]:
    """Everything in a guide that only interviewers may read."""
    texts = []
    for step in guide["steps"].values():
        texts += [text for probe in step["probes"] for text in probe.values()]
        texts += [text for change in step["requirement_changes"] for text in change.values()]
        texts += step["red_flags"]
    return texts


# --- the catalogue files ----------------------------------------------------------------


def test_there_is_a_guide_for_every_case_study_and_none_without_one():
    guides = {path.name for path in (CATALOGUE_DIR / "guides").glob("*.json")}
    assert guides == {path.name for path in CASE_STUDY_FILES}
    assert len(guides) == 5


@pytest.mark.parametrize("case_file", CASE_STUDY_FILES, ids=lambda path: path.stem)
def test_every_step_of_every_guide_is_complete(case_file):
    guide = guide_data(case_file)
    assert guide["version"] == 1
    assert guide["case_study"] == case_file.stem
    assert sorted(guide["steps"]) == STEPS
    for number, step in guide["steps"].items():
        where = f"{case_file.stem} step {number}"
        assert set(step) == {"answer_key", "probes", "requirement_changes", "red_flags"}, where
        bullets = [line for line in step["answer_key"].splitlines() if line.startswith("- ")]
        assert len(bullets) >= 4, where
        assert 3 <= len(step["probes"]) <= 5, where
        for probe in step["probes"]:
            assert set(probe) == {"question", "signal"}, where
            assert probe["question"].strip() and probe["signal"].strip(), where
        assert len(step["requirement_changes"]) >= 2, where
        for change in step["requirement_changes"]:
            assert set(change) == {"change", "good_adjustment"}, where
            assert change["change"].strip() and change["good_adjustment"].strip(), where
        assert len(step["red_flags"]) >= 2, where
        assert all(isinstance(flag, str) and flag.strip() for flag in step["red_flags"]), where


@pytest.mark.parametrize("case_file", CASE_STUDY_FILES, ids=lambda path: path.stem)
def test_no_guide_text_is_repeated_across_steps(case_file):
    guide = guide_data(case_file)
    texts = []
    for step in guide["steps"].values():
        texts += [line for line in step["answer_key"].splitlines() if line.strip()]
        texts += [probe["question"] for probe in step["probes"]]
        texts += [change["change"] for change in step["requirement_changes"]]
        texts += step["red_flags"]
    repeated = {text for text in texts if texts.count(text) > 1}
    assert not repeated


@pytest.mark.parametrize("case_file", CASE_STUDY_FILES, ids=lambda path: path.stem)
def test_each_answer_key_is_specific_to_its_case_study(case_file):
    """The figures the case study gives (its latency budget at least) reach the guide, and
    every answer key renders as a Markdown list."""
    case = json.loads(case_file.read_text(encoding="utf-8"))
    guide = guide_data(case_file)
    keys = " ".join(step["answer_key"] for step in guide["steps"].values())
    assert f"{case['latency_budget_ms']} ms" in keys
    for step in guide["steps"].values():
        assert render_markdown(step["answer_key"]).startswith("<ul>")


# --- loading --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_the_catalogue_fills_six_guide_steps_per_case_study(catalogue):
    assert catalogue.guide_steps_written == 30
    for case_file in CASE_STUDY_FILES:
        guide = guide_data(case_file)
        rows = {row.step_number: row
                for row in GuideStep.objects.filter(case_study__slug=case_file.stem)}
        assert sorted(rows) == list(range(1, 7))
        for number, row in rows.items():
            step = guide["steps"][str(number)]
            assert row.answer_key == step["answer_key"]
            assert row.probes == step["probes"]
            assert row.requirement_changes == step["requirement_changes"]
            assert row.red_flags == step["red_flags"]


def guide_snapshot() -> list[tuple]:
    return list(GuideStep.objects.order_by("pk").values_list(
        "pk", "case_study__slug", "step_number", "answer_key", "probes",
        "requirement_changes", "red_flags"))


@pytest.mark.django_db
@pytest.mark.parametrize("overwrite", [False, True])
def test_loading_twice_changes_nothing(catalogue, overwrite):
    before = guide_snapshot()
    again = catalogue_load(overwrite=overwrite)
    assert again.guide_steps_written == 0
    assert guide_snapshot() == before


@pytest.mark.django_db
def test_loading_keeps_admin_edits_to_the_guide_unless_overwrite(catalogue):
    case = CaseStudy.objects.get(slug="ad-click-prediction")
    original = case.guide.get(step_number=4).answer_key
    GuideStep.objects.filter(case_study=case, step_number=4).update(
        answer_key="- Edited in the admin.", red_flags=["Edited."])
    assert catalogue_load().guide_steps_written == 0
    assert case.guide.get(step_number=4).answer_key == "- Edited in the admin."
    assert catalogue_load(overwrite=True).guide_steps_written == 1
    restored = case.guide.get(step_number=4)
    assert restored.answer_key == original and restored.red_flags != ["Edited."]


@pytest.mark.django_db
def test_a_guide_added_later_reaches_case_studies_loaded_before_it(db, tmp_path):
    directory = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, directory)
    shutil.move(directory / "guides", tmp_path / "guides-later")
    first = catalogue_load(directory=directory)
    assert first.guide_steps_written == 0 and not GuideStep.objects.exists()
    assert len(first.created) == 5  # a case study without a guide file still loads

    shutil.move(tmp_path / "guides-later", directory / "guides")
    (directory / "guides" / "feed-ranking.json").unlink()
    later = catalogue_load(directory=directory)  # no overwrite needed to add what is missing
    assert set(later.unchanged) == {path.stem for path in CASE_STUDY_FILES}
    assert later.guide_steps_written == 24
    assert not GuideStep.objects.filter(case_study__slug="feed-ranking").exists()
    assert CaseStudy.objects.filter(slug="feed-ranking").exists()


@pytest.mark.django_db
def test_a_guide_file_of_another_case_study_or_format_is_refused(catalogue):
    case = CaseStudy.objects.get(slug="feed-ranking")
    data = guide_data(CATALOGUE_DIR / "case_studies" / "video-recommendation.json")
    with pytest.raises(ValueError, match="video-recommendation"):
        guide_upsert(case_study=case, data=data, overwrite=True)
    with pytest.raises(ValueError, match="version"):
        guide_upsert(case_study=case, data={**data, "case_study": "feed-ranking", "version": 2},
                     overwrite=True)
    assert case.guide.count() == 6


# --- the admin ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_and_renders_a_guide_step_for_editing(client, catalogue):
    client.force_login(admin_user(is_superuser=True))
    step = GuideStep.objects.get(case_study__slug="food-delivery-time", step_number=2)
    listing = client.get("/admin/interviews/guidestep/?step_number__exact=2")
    assert listing.status_code == 200
    assert listing.content.decode().count("guide for step 2") == 5
    page = client.get(f"/admin/interviews/guidestep/{step.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<textarea name="probes"' in html and '<textarea name="red_flags"' in html
    # Indented, one item per line, and not \u-escaped, so a person can edit it.
    assert escape(json.dumps(step.probes[0]["question"], ensure_ascii=False)) in html
    assert '\n    &quot;signal&quot;: ' in html
    case_page = client.get(f"/admin/interviews/casestudy/{step.case_study_id}/change/")
    assert case_page.status_code == 200
    assert f"/admin/interviews/guidestep/{step.pk}/change/" in case_page.content.decode()


@pytest.mark.django_db
def test_admin_saves_a_guide_step_and_refuses_a_malformed_one(client, catalogue):
    client.force_login(admin_user(is_superuser=True))
    step = GuideStep.objects.get(case_study__slug="feed-ranking", step_number=3)
    url = f"/admin/interviews/guidestep/{step.pk}/change/"
    form = {
        "case_study": step.case_study_id,
        "step_number": 3,
        "answer_key": "- Edited **key**.",
        "probes": json.dumps([{"question": "Why?", "signal": "Because."}]),
        "requirement_changes": json.dumps([{"change": "Faster.", "good_adjustment": "Cache."}]),
        "red_flags": json.dumps(["No numbers."]),
    }
    assert client.post(url, form).status_code == 302
    step.refresh_from_db()
    assert step.answer_key == "- Edited **key**." and step.red_flags == ["No numbers."]

    refused = client.post(url, {**form, "probes": json.dumps([{"question": "No signal?"}]),
                                "red_flags": json.dumps([""])})
    assert refused.status_code == 200
    assert "every value filled in" in refused.content.decode()
    step.refresh_from_db()
    assert step.probes == [{"question": "Why?", "signal": "Because."}]


@pytest.mark.django_db
def test_interviewers_and_candidates_cannot_open_the_guide_in_the_admin(client, catalogue):
    for user in (candidate(), interviewer()):
        client.force_login(user)
        response = client.get("/admin/interviews/guidestep/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- what candidates see --------------------------------------------------------------------


def catalogue_session(slug: str = "ad-click-prediction"):
    session, _ = session_start(candidate=candidate(), case_study=CaseStudy.objects.get(slug=slug))
    answer_save(session=session, step_number=2, text="Log loss and **calibration**.",
                base_version=0)
    return session


@pytest.mark.django_db
def test_review_shows_a_strong_answer_outline_per_step_after_submission(
        client, catalogue, django_assert_max_num_queries):
    session = session_submit(session=catalogue_session())
    client.force_login(session.candidate)
    # The outlines come with the rubric steps; +3 for the design claims (the claims, the
    # model link, the candidate's scored submissions), as in test_views_sessions.
    with django_assert_max_num_queries(14):
        response = client.get(session.get_review_url())
    html = response.content.decode()
    assert response.status_code == 200
    guide = guide_data(CATALOGUE_DIR / "case_studies" / "ad-click-prediction.json")
    for number in range(1, 7):
        outline = re.search(
            rf'<details class="strong-answer" data-testid="strong-answer-{number}">(.*?)</details>',
            html, re.S)
        assert outline, number
        assert "<summary>Strong answer outline</summary>" in outline.group(1)
        # Rendered by the project's Markdown renderer: a list with bold labels, no raw "**".
        assert render_markdown(guide["steps"][str(number)]["answer_key"]) in outline.group(1)
        assert "<strong>" in outline.group(1) and "**" not in outline.group(1)
    for text in interviewer_only_texts(guide):
        assert escape(text) not in html, text


def answer_key_column(session) -> dict[int, str]:
    return dict(RubricStep.objects.filter(rubric=session.rubric).annotate(
        answer_key=guide_answer_key_column(session=session)
    ).values_list("number", "answer_key"))


@pytest.mark.django_db
def test_the_answer_key_column_is_blank_until_the_session_is_submitted(catalogue):
    session = catalogue_session()
    assert answer_key_column(session) == dict.fromkeys(range(1, 8), "")
    session = session_submit(session=session)
    keys = answer_key_column(session)
    guide = dict(session.case_study.guide.values_list("step_number", "answer_key"))
    assert keys == {**guide, 7: ""} and all(guide.values()) and len(guide) == 6


@pytest.mark.django_db
def test_the_running_session_page_has_no_guide(client, catalogue):
    session = catalogue_session()
    client.force_login(session.candidate)
    html = client.get(session.get_absolute_url()).content.decode()
    assert "Strong answer outline" not in html and "strong-answer" not in html
    guide = guide_data(CATALOGUE_DIR / "case_studies" / "ad-click-prediction.json")
    for step in guide["steps"].values():
        for line in step["answer_key"].splitlines():
            assert escape(line[2:]) not in html
    for text in interviewer_only_texts(guide):
        assert escape(text) not in html, text


@pytest.mark.django_db
def test_a_blank_answer_key_shows_no_outline(client, catalogue):
    session = session_submit(session=catalogue_session("feed-ranking"))
    GuideStep.objects.filter(case_study=session.case_study, step_number=5).update(answer_key=" ")
    client.force_login(session.candidate)
    html = client.get(session.get_review_url()).content.decode()
    assert 'data-testid="strong-answer-4"' in html
    assert 'data-testid="strong-answer-5"' not in html


@pytest.mark.django_db
@pytest.mark.parametrize("case_file", CASE_STUDY_FILES, ids=lambda path: path.stem)
def test_the_public_case_study_page_shows_neither_catalogue_answers_nor_the_guide(
        client, catalogue, case_file):
    """The page lists the clarifying questions; their answers are revealed only in a session,
    one asked question at a time, and nothing of the interviewer guide is public."""
    case = CaseStudy.objects.get(slug=case_file.stem)
    for user in (None, candidate(), interviewer()):
        if user:
            client.force_login(user)
        html = client.get(case.get_absolute_url()).content.decode()
        for question in case.questions.all():
            assert escape(question.question) in html
            assert escape(question.answer) not in html
        guide = guide_data(case_file)
        for step in guide["steps"].values():
            assert escape(step["answer_key"].splitlines()[0][2:]) not in html
        for text in interviewer_only_texts(guide):
            assert escape(text) not in html, text


@pytest.mark.django_db
def test_load_catalogue_says_how_many_guide_steps_it_wrote():
    from io import StringIO

    from django.core.management import call_command

    first, again = StringIO(), StringIO()
    call_command("load_catalogue", stdout=first)
    call_command("load_catalogue", stdout=again)
    assert "Interviewer guide steps written: 30" in first.getvalue()  # 5 case studies x 6
    assert "Interviewer guide steps written: 0" in again.getvalue()
