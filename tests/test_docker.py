"""The Docker files: compose validates (no engine needed), the image runs as non-root."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker" / "compose.yml"


def compose_command() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
        if shutil.which("docker-compose"):
            return ["docker-compose"]
    skip_or_fail("no docker compose client (run `make test-deps`)")
    return []


def run_config(compose_file: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SECRET_KEY": "compose-config-check"}
    return subprocess.run(
        [*compose_command(), "-f", str(compose_file), "config", *extra],
        capture_output=True, text=True, env=env, timeout=60,
    )


def test_compose_file_validates_with_every_service():
    assert run_config(COMPOSE, "-q").returncode == 0
    services = set(run_config(COMPOSE, "--services").stdout.split())
    assert {"web", "worker-default", "worker-scoring", "beat", "postgres", "redis",
            "migrate"} <= services


def test_compose_validation_catches_a_broken_file(tmp_path):
    broken = tmp_path / "compose.yml"
    broken.write_text(COMPOSE.read_text().replace("healthcheck:", "healthchek:", 1))
    assert run_config(broken, "-q").returncode != 0


def service_blocks(text: str) -> dict[str, str]:
    """Each top-level service's lines, keyed by name (the file is hand-written YAML)."""
    services = text.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    blocks: dict[str, str] = {}
    name = None
    for line in services.splitlines():
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            name = line.strip().rstrip(":")
            blocks[name] = ""
        elif name:
            blocks[name] += line + "\n"
    return blocks


def test_compose_services_that_serve_have_health_checks():
    blocks = service_blocks(COMPOSE.read_text())
    for service in ("web", "worker-default", "worker-scoring", "postgres", "redis"):
        assert "healthcheck:" in blocks[service], service


def test_compose_runs_one_worker_process_per_queue(settings):
    """The default queue (the sweeps) has a worker of its own that scoring never occupies."""
    blocks = service_blocks(COMPOSE.read_text())
    consumed = {}
    for service, block in blocks.items():
        words = block.split()
        if "worker" in words and "celery" in words:
            assert words.count("-Q") == 1, service
            consumed[service] = words[words.index("-Q") + 1]
    assert consumed == {"worker-default": settings.CELERY_TASK_DEFAULT_QUEUE,
                        "worker-scoring": settings.SCORING_QUEUE}
    assert "worker" not in blocks["beat"].split()


def test_dockerfile_is_multi_stage_and_runs_as_non_root():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert "gunicorn" in text


@pytest.mark.parametrize("name", ["requirements.lock"])
def test_the_image_installs_the_pinned_lock(name):
    lock = (ROOT / name).read_text().splitlines()
    pins = [line for line in lock if line and not line.startswith("#")]
    assert pins and all("==" in line for line in pins)
    assert any(line.lower().startswith("django==6.") for line in pins)
