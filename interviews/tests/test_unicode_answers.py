"""Answers in any script survive a save, the revision history and the review unchanged."""

import pytest

from interviews.models import Answer, AnswerRevision, CaseStudy
from interviews.services.autosave import answer_save
from interviews.services.sessions import session_start, session_submit
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

TEXTS = [
    "مرحبا — نقيس الدقة بالانحدار اللوغاريتمي",  # right-to-left
    "排序模型：召回 → 精排 → 重排",
    "👩🏽‍💻 two-tower retrieval 🚀 then a ranker 🧪",
    "e\u0301 combining, \u200f RLM, \u202e override, \u2066isolate\u2069, tab\tend",
]


@pytest.mark.parametrize("text", TEXTS)
def test_an_answer_in_any_script_is_kept_byte_for_byte(catalogue, client, text):
    user = candidate()
    session, _ = session_start(
        candidate=user, case_study=CaseStudy.objects.get(slug="video-recommendation"))
    answer_save(session=session, step_number=1, text=text, base_version=0)
    answer = Answer.objects.get(session=session, step_number=1)
    assert answer.text.encode() == text.encode()
    assert AnswerRevision.objects.get(answer=answer).text.encode() == text.encode()
    session_submit(session=session)
    client.force_login(user)
    html = client.get(f"/sessions/{session.pk}/review/").content.decode()
    assert text.split("\t")[0] in html
