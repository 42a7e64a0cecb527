"""Two clients racing on PostgreSQL: row locks, not luck, keep every save in order."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from interviews.models import Answer, AnswerRevision, InterviewSession
from interviews.services.sessions import session_start
from interviews.tests.factories import CaseStudyFactory, candidate, rubric_with_steps, start_session

pytestmark = pytest.mark.django_db(transaction=True)

SAVES_PER_CLIENT = 100


def test_two_clients_interleaving_200_saves_lose_nothing(require_postgres, settings):
    # 200 saves in seconds is a script to the rate limit (mlsd_site/ratelimit.py): off here.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "autosave": {"user": "off", "ip": "off"}}
    session = start_session()
    url = reverse("interviews:answer_save", args=[session.pk, 4])
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, list[tuple[str, int, int]]] = {"a": [], "b": []}
    failures: list[BaseException] = []

    def client_run(name: str) -> None:
        try:
            client = Client()
            client.force_login(session.candidate)
            version = 0
            for i in range(SAVES_PER_CLIENT):
                text = f"client {name}, save {i}"
                barrier.wait()  # both clients send each save at the same moment
                response = client.post(url, {"text": text, "base_version": version,
                                             "active_step": 4}, HTTP_HX_REQUEST="true")
                # 200 and 409 both say which version is current now.
                version = int(response["X-Answer-Version"])
                outcomes[name].append((text, response.status_code, version))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=client_run, args=(name,)) for name in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    results = outcomes["a"] + outcomes["b"]
    assert len(results) == 2 * SAVES_PER_CLIENT
    assert {status for _, status, _ in results} == {200, 409}
    accepted = sorted((version, text) for text, status, version in results if status == 200)
    refused = {text for text, status, _ in results if status == 409}

    history = list(
        AnswerRevision.objects.filter(answer__session=session, answer__step_number=4)
        .order_by("version").values_list("version", "text")
    )
    # Every accepted save is in the history, with the version it was given, and nothing else.
    assert history == accepted
    assert [version for version, _ in history] == list(range(1, len(history) + 1))
    assert refused.isdisjoint(text for _, text in history)
    answer = Answer.objects.get(session=session, step_number=4)
    assert (answer.version, answer.text) == accepted[-1]


def test_two_simultaneous_starts_make_one_session(require_postgres):
    rubric_with_steps()
    case = CaseStudyFactory()
    user = candidate()
    barrier = threading.Barrier(2, timeout=30)
    started: list[int] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            session, _ = session_start(candidate=user, case_study=case)
            started.append(session.pk)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(started) == 2 and started[0] == started[1]
    assert InterviewSession.objects.filter(candidate=user).count() == 1
    assert Answer.objects.filter(session_id=started[0]).count() == 6
