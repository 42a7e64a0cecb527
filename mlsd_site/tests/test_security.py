"""Deployment settings, the Content Security Policy, and the settings' refusals."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "mlsd.example.com",
    "MLSD_HTTPS": "1",
    "DATABASE_URL": "sqlite:///:memory:",
    "MLSD_DATASET_SECRET": secrets.token_hex(32),
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "MLSD_HTTPS",
                          "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**clean, **env, "DJANGO_SETTINGS_MODULE": "mlsd_site.settings"},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_https_is_off():
    # The check above can fail, so it means something.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        env={**PRODUCTION_ENV, "MLSD_HTTPS": "0"})
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "Set SECRET_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "never '*'"),
        ({"ALLOWED_HOSTS": ""}, "Set ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_unsafe_values(override, message):
    result = run_manage("check", env={**PRODUCTION_ENV, **override})
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/accounts/signup/",
                                 "/case-studies/feed-ranking/", "/no-such-page/"])
def test_every_html_page_carries_a_csp_header_with_the_nonce_it_uses(client, catalogue, url):
    response = client.get(url)
    header = response["Content-Security-Policy"]
    match = re.search(r"'nonce-([^']+)'", header)
    assert match, header
    assert "script-src 'self' 'nonce-" in header
    assert "object-src 'none'" in header
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the base layout loads htmx"
    for tag in scripts:
        assert f'nonce="{match.group(1)}"' in tag, tag


@pytest.mark.django_db
def test_the_nonce_changes_on_every_response(client, catalogue):
    nonces = {
        re.search(r"'nonce-([^']+)'", client.get("/")["Content-Security-Policy"]).group(1)
        for _ in range(3)
    }
    assert len(nonces) == 3


@pytest.mark.django_db
def test_writes_need_a_csrf_token(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/signup/", {"username": "x"})
    assert response.status_code == 403
    assert "session expired" in response.content.decode().lower()


@pytest.mark.django_db
def test_healthz_reports_database_and_workers(client):
    from grading.services.workers import worker_heartbeat_record

    body = client.get("/healthz").json()
    assert body == {"database": "ok", "workers_alive": 0, "worker_last_seen_seconds": None,
                    "workers": [], "workers_per_queue": {"default": 0, "scoring": 0}}
    worker_heartbeat_record(hostname="scoring@test", queues=["scoring"], starting=True)
    body = client.get("/healthz").json()
    assert body["workers_alive"] == 1
    assert 0 <= body["worker_last_seen_seconds"] < 60
    [worker] = body["workers"]
    assert worker["hostname"] == "scoring@test" and worker["queues"] == ["scoring"]
    assert 0 <= worker["last_seen_seconds"] < 60
    assert body["workers_per_queue"] == {"default": 0, "scoring": 1}


@pytest.mark.django_db
def test_healthz_leaves_out_a_worker_silent_for_longer_than_the_window(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from grading.models import WorkerHeartbeat
    from grading.services.workers import worker_heartbeat_record

    worker_heartbeat_record(hostname="default@test", queues=["default"])
    worker_heartbeat_record(hostname="scoring@gone", queues=["scoring"])
    WorkerHeartbeat.objects.filter(hostname="scoring@gone").update(
        seen_at=timezone.now() - timedelta(seconds=settings.WORKER_ALIVE_SECONDS + 1))
    body = client.get("/healthz").json()
    assert [worker["hostname"] for worker in body["workers"]] == ["default@test"]
    assert body["workers_alive"] == 1
    assert body["workers_per_queue"] == {"default": 1, "scoring": 0}
