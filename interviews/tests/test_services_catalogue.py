import json
import shutil
from decimal import Decimal

import pytest

from interviews.models import CaseStudy, Concept, Rubric, RubricStep
from interviews.services.catalogue import CATALOGUE_DIR, catalogue_load, demo_accounts_ensure
from mlsd_site import roles

pytestmark = pytest.mark.django_db

SLUGS = {
    "video-recommendation",
    "feed-ranking",
    "ad-click-prediction",
    "rental-search-ranking",
    "food-delivery-time",
}


def test_catalogue_loads_five_case_studies_with_their_parts(catalogue):
    assert set(catalogue.created) == SLUGS
    for case in CaseStudy.objects.prefetch_related("questions", "concepts", "budgets"):
        assert 6 <= case.questions.count() <= 10, case.slug
        assert case.duration_seconds == 45 * 60
        assert sorted(b.step_number for b in case.budgets.all()) == [1, 2, 3, 4, 5, 6]
        assert sum(b.seconds for b in case.budgets.all()) <= case.duration_seconds
        for step in range(1, 7):
            concepts = case.concepts.filter(step_number=step)
            assert 5 <= concepts.count() <= 10, (case.slug, step)
            assert all(concept.synonyms for concept in concepts)
        assert case.primary_metric
        assert case.online_metrics
        assert case.latency_budget_ms > 0


def test_task_types_match_the_product(catalogue):
    task_types = dict(CaseStudy.objects.values_list("slug", "task_type"))
    assert task_types == {
        "video-recommendation": "ranking",
        "feed-ranking": "binary",
        "ad-click-prediction": "binary",
        "rental-search-ranking": "ranking",
        "food-delivery-time": "regression",
    }


def test_rubric_has_six_weighted_steps_and_communication(catalogue):
    rubric = Rubric.objects.get(is_current=True)
    steps = list(rubric.steps.order_by("number"))
    assert [s.number for s in steps] == [1, 2, 3, 4, 5, 6, 7]
    assert steps[-1].is_communication and steps[-1].default_minutes is None
    assert sum(s.weight for s in steps[:6]) == Decimal("1")
    assert [int(s.weight * 100) for s in steps[:6]] == [15, 15, 15, 25, 20, 10]
    assert [s.default_minutes for s in steps[:6]] == [5, 4, 6, 12, 8, 5]
    for step in steps:
        assert all(text.strip() for _, text in step.descriptors)


def test_loading_again_changes_nothing(catalogue):
    rubric_ids = list(Rubric.objects.values_list("id", flat=True))
    concept_count = Concept.objects.count()
    again = catalogue_load()
    assert again.created == [] and again.updated == []
    assert set(again.unchanged) == SLUGS
    assert not again.rubric_created
    assert list(Rubric.objects.values_list("id", flat=True)) == rubric_ids
    assert Concept.objects.count() == concept_count


def test_loading_again_keeps_admin_edits_unless_overwrite(catalogue):
    CaseStudy.objects.filter(slug="feed-ranking").update(title="Edited in the admin")
    catalogue_load()
    assert CaseStudy.objects.get(slug="feed-ranking").title == "Edited in the admin"
    result = catalogue_load(overwrite=True)
    assert set(result.updated) == SLUGS
    assert CaseStudy.objects.get(slug="feed-ranking").title == "Feed Ranking"


def test_changed_rubric_text_adds_a_version_and_keeps_the_old_one(catalogue, tmp_path):
    directory = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, directory)
    data = json.loads((directory / "rubric.json").read_text())
    data["steps"][0]["descriptors"]["3"] = "A rewritten hire bar."
    (directory / "rubric.json").write_text(json.dumps(data))

    old = Rubric.objects.get(is_current=True)
    old_text = old.steps.get(number=1).descriptor_3
    result = catalogue_load(directory=directory)

    assert result.rubric_created
    assert result.rubric.version == old.version + 1
    assert RubricStep.objects.get(rubric=result.rubric, number=1).descriptor_3 == (
        "A rewritten hire bar."
    )
    old.refresh_from_db()
    assert not old.is_current
    assert old.steps.get(number=1).descriptor_3 == old_text
    assert Rubric.objects.filter(is_current=True).count() == 1


def test_demo_accounts_have_their_roles_and_can_be_reset(db):
    accounts = demo_accounts_ensure()
    demo_accounts_ensure()  # running again is safe
    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {a.username for a in accounts}
    assert roles.role_name(users["admin"]) == "admin"
    assert roles.role_name(users["interviewer"]) == "interviewer"
    assert roles.role_name(users["candidate"]) == "candidate"
    for account in accounts:
        assert users[account.username].check_password(account.password)
    assert users["admin"].is_staff and not users["candidate"].is_staff
