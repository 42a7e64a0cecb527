"""The Docker files: compose validates (no engine needed) and its defaults are safe; the image
runs as non-root and cannot rewrite its own code."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker" / "compose.yml"
SECCOMP = ROOT / "docker" / "seccomp-scoring.json"


def compose_command() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
        if shutil.which("docker-compose"):
            return ["docker-compose"]
    skip_or_fail("no docker compose client (run `make test-deps`)")
    return []


# What a deployment must set: compose has no default for any of them.
REQUIRED_ENV = {"SECRET_KEY": "compose-config-check", "POSTGRES_PASSWORD": "compose-check",
                "MLSD_DATASET_SECRET": "compose-config-check"}


def run_config(compose_file: Path, *extra: str, without: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, **REQUIRED_ENV}
    env.pop(without, None)
    # From the compose file's folder: Compose v2 reads the seccomp profile's path relative to
    # it, v1 (Debian's docker-compose) relative to the working directory.
    return subprocess.run(
        [*compose_command(), "-f", str(compose_file), "config", *extra],
        capture_output=True, text=True, env=env, timeout=60, cwd=compose_file.parent,
    )


def test_compose_file_validates_with_every_service():
    assert run_config(COMPOSE, "-q").returncode == 0
    services = set(run_config(COMPOSE, "--services").stdout.split())
    assert {"web", "worker-default", "worker-scoring", "beat", "postgres", "redis",
            "migrate"} <= services


@pytest.mark.parametrize("name", sorted(REQUIRED_ENV))
def test_compose_refuses_to_start_without_each_secret(name):
    result = run_config(COMPOSE, "-q", without=name)
    assert result.returncode != 0 and f"set {name}" in result.stderr


def test_compose_validation_catches_a_broken_file(tmp_path):
    shutil.copy(SECCOMP, tmp_path / SECCOMP.name)
    broken = tmp_path / "compose.yml"
    broken.write_text(COMPOSE.read_text())
    assert run_config(broken, "-q").returncode == 0  # the copy alone is fine
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
    for service in ("web", "live", "worker-default", "worker-scoring", "postgres", "redis"):
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


def test_compose_defaults_are_safe():
    """HTTPS on behind a proxy, the web port on loopback only, no default database password,
    and neither PostgreSQL nor Redis reachable from outside."""
    text = COMPOSE.read_text()
    blocks = service_blocks(text)
    assert "MLSD_HTTPS: ${MLSD_HTTPS:-1}" in text
    assert "MLSD_BEHIND_PROXY: ${MLSD_BEHIND_PROXY:-1}" in text
    uses = re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", text)
    assert len(uses) == 2 and set(uses) == {"${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"}
    published = {service: re.findall(r'^\s+- "([^"]+)"$', block.split("ports:", 1)[1], re.M)
                 for service, block in blocks.items() if "ports:" in block}
    assert set(published) == {"web", "live"}, published
    for service in ("web", "live"):
        assert published[service] and all(p.startswith("127.0.0.1:")
                                           for p in published[service]), service
    assert "network_mode" not in text and "expose:" not in blocks["redis"]


def test_no_env_file_reaches_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored and "**/.env" in ignored


def test_the_code_in_the_image_is_root_owned_and_read_only_to_the_app_user():
    text = (ROOT / "docker" / "Dockerfile").read_text()
    runtime = text.split(" AS runtime", 1)[1]
    assert "--chown" not in runtime  # COPY leaves the code to root
    chowned = re.findall(r"chown -R \S+ ([^\n\\&]+)", runtime)
    assert chowned == ["/var/lib/mlsd"], chowned  # the data volume only
    assert "chmod -R go-w /app" in runtime
    assert runtime.index("chmod -R go-w /app") < runtime.index("\nUSER ")


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


def test_only_the_scoring_worker_may_create_the_sandboxs_namespaces():
    """bubblewrap needs clone/unshare with namespace flags, mount, umount2 and pivot_root,
    which Docker's default seccomp profile refuses without CAP_SYS_ADMIN, a /proc it may
    mount again, and no AppArmor rule denying mounts: granted to worker-scoring only, by a
    profile that is Docker's default plus those five calls, and no capability."""
    blocks = service_blocks(COMPOSE.read_text())
    options = {"- seccomp=./seccomp-scoring.json", "- systempaths=unconfined",
               "- apparmor=unconfined"}
    scoring = {line.strip() for line in blocks["worker-scoring"].splitlines()}
    assert options <= scoring
    for service, block in blocks.items():
        assert not re.search(r"^\s+(cap_add|privileged):", block, re.M), service
        if service != "worker-scoring":
            assert "security_opt" not in block, service
    profile = json.loads(SECCOMP.read_text())
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    unconditional = [rule for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW"
                     and not rule.get("includes") and not rule.get("excludes")
                     and not rule.get("args")]
    added = [rule for rule in unconditional if "pivot_root" in rule["names"]]
    assert len(added) == 1
    assert sorted(added[0]["names"]) == ["clone", "mount", "pivot_root", "umount2", "unshare"]
    # Nothing else a namespace-creating process could abuse is allowed outright.
    allowed = {name for rule in unconditional for name in rule["names"]}
    assert not allowed & {"setns", "bpf", "open_tree", "move_mount", "fsopen", "chroot",
                          "ptrace", "keyctl", "add_key", "clone3", "init_module"}
    clone3 = [rule for rule in profile["syscalls"] if "clone3" in rule["names"]
              and rule["action"] == "SCMP_ACT_ERRNO"]
    assert clone3 and clone3[0]["errnoRet"] == 38  # ENOSYS: callers fall back to clone


def test_the_image_installs_bubblewrap():
    runtime = (ROOT / "docker" / "Dockerfile").read_text().split(" AS runtime", 1)[1]
    installs = re.findall(r"apt-get install [^\n]*", runtime)
    assert any("bubblewrap" in line.split() for line in installs), installs
