"""The two images: what they are built from, who they run as, and `make images` without Docker."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from lib.paths import REPO

AIRFLOW_DOCKERFILE = REPO / "docker" / "airflow" / "Dockerfile"
AIRFLOW_REQUIREMENTS = REPO / "docker" / "airflow" / "requirements.txt"
AIRFLOW_DOCKERIGNORE = REPO / "docker" / "airflow" / "Dockerfile.dockerignore"
TASK_DOCKERFILE = REPO / "docker" / "task-example" / "Dockerfile"
BUILD_SCRIPT = REPO / "hack" / "build-images.sh"
EXPORT_ARGS = ["export", "--no-dev", "--no-hashes", "--frozen", "--no-annotate", "--no-emit-project"]


def instructions(dockerfile: Path, name: str) -> list[str]:
    return [line.split(None, 1)[1].strip() for line in dockerfile.read_text().splitlines()
            if line.upper().startswith(f"{name} ")]


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;]+)", text, flags=re.MULTILINE))


def test_airflow_image_is_the_official_332_python312_image():
    assert instructions(AIRFLOW_DOCKERFILE, "FROM") == ["apache/airflow:3.3.2-python3.12"]


def test_images_end_as_non_root_numeric_users():
    assert instructions(AIRFLOW_DOCKERFILE, "USER")[-1] == "50000"
    assert instructions(TASK_DOCKERFILE, "USER")[-1] == "10001"


def test_task_image_user_is_the_uid_the_pods_run_as(pods):
    uid = int(instructions(TASK_DOCKERFILE, "USER")[-1])
    assert {p.pod["spec"]["securityContext"]["runAsUser"] for p in pods} == {uid}


def test_airflow_image_bakes_the_bundle_into_the_default_dags_folder():
    copies = instructions(AIRFLOW_DOCKERFILE, "COPY")
    assert any(c.endswith("dags/ /opt/airflow/dags/") for c in copies), copies
    allowed = AIRFLOW_DOCKERIGNORE.read_text().splitlines()
    assert "!dags/" in allowed and "!docker/airflow/requirements.txt" in allowed


def test_requirements_pin_the_project_versions_the_tests_run_with():
    pinned = pins(AIRFLOW_REQUIREMENTS.read_text())
    assert pinned["apache-airflow"] == "3.3.2"
    assert pinned["apache-airflow-providers-cncf-kubernetes"] == "10.25.0"
    for name in ("apache-airflow", "apache-airflow-providers-cncf-kubernetes", "kubernetes"):
        assert pinned[name] == metadata.version(name), name


def _uv() -> str | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-on-k8s"
    candidates = [shutil.which("uv"), *sorted(str(p) for p in cache.glob("uv-*/bin/uv")), "/tmp/uvv/bin/uv"]
    return next((c for c in candidates if c and Path(c).exists()), None)


def test_requirements_match_uv_lock():
    uv = _uv()
    if uv is None:
        pytest.skip("no uv binary (PATH, ~/.cache/airflow-on-k8s/uv-*, /tmp/uvv): run make setup to install it")
    proc = subprocess.run([uv, *EXPORT_ARGS], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert pins(proc.stdout) == pins(AIRFLOW_REQUIREMENTS.read_text()), (
        "docker/airflow/requirements.txt is stale: re-export it with "
        f"`uv {' '.join(EXPORT_ARGS)} -o docker/airflow/requirements.txt`")


def _docker_daemon_reachable(env: dict[str, str]) -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], env=env, capture_output=True, timeout=30).returncode == 0


def test_make_images_without_a_daemon_says_so_in_one_line(tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    if _docker_daemon_reachable(env):
        pytest.skip("a Docker daemon answers even at a missing socket; cannot observe the no-daemon path")
    proc = subprocess.run([str(BUILD_SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("build-images: no Docker") and "docker" in line.lower()


def test_build_images_refuses_arguments_with_its_usage():
    proc = subprocess.run([str(BUILD_SCRIPT), "--push"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: hack/build-images.sh")
