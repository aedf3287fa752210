"""The images: what they are built from, who they run as, and `make images` where it cannot build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from tests.lib.paths import REPO
from tests.lib.unprivileged import unprivileged

AIRFLOW_DOCKERFILE = REPO / "docker" / "airflow" / "Dockerfile"
AIRFLOW_REQUIREMENTS = REPO / "docker" / "airflow" / "requirements.txt"
AIRFLOW_DOCKERIGNORE = REPO / "docker" / "airflow" / "Dockerfile.dockerignore"
TASK_DOCKERFILE = REPO / "docker" / "task-example" / "Dockerfile"
LOCAL_AIRFLOW_BASE = REPO / "docker" / "base" / "airflow" / "Dockerfile"
POSTGRESQL_DOCKERFILE = REPO / "docker" / "postgresql" / "Dockerfile"
BUILD_SCRIPT = REPO / "hack" / "images" / "build.sh"
EXPORT_ARGS = ["export", "--no-dev", "--no-hashes", "--frozen", "--no-annotate", "--no-emit-project"]


def instructions(dockerfile: Path, name: str) -> list[str]:
    """The arguments of every NAME instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    return [line.split(None, 1)[1].strip() for line in text.splitlines() if line.upper().startswith(f"{name} ")]


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;]+)", text, flags=re.MULTILINE))


def test_airflow_image_builds_on_the_official_332_python312_image_unless_told_otherwise():
    # One Dockerfile for both: the base is a build argument whose default is the official image;
    # hack/images/build.sh passes the local stand-in where no registry is reachable.
    assert instructions(AIRFLOW_DOCKERFILE, "ARG") == ["AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.12"]
    assert instructions(AIRFLOW_DOCKERFILE, "FROM") == ["${AIRFLOW_BASE_IMAGE}"]


def test_local_airflow_base_keeps_the_official_images_contract():
    env = " ".join(instructions(LOCAL_AIRFLOW_BASE, "ENV"))
    assert "AIRFLOW_HOME=/opt/airflow" in env and "PATH=/home/airflow/.local/bin:" in env
    (useradd,) = [r for r in instructions(LOCAL_AIRFLOW_BASE, "RUN") if "useradd" in r]
    assert "--uid 50000 --gid 0" in useradd
    assert instructions(LOCAL_AIRFLOW_BASE, "USER")[-1] == "50000"
    assert instructions(LOCAL_AIRFLOW_BASE, "ENTRYPOINT") == ['["/usr/bin/dumb-init", "--", "/entrypoint"]']


def test_images_end_as_non_root_numeric_users():
    assert instructions(AIRFLOW_DOCKERFILE, "USER")[-1] == "50000"
    assert instructions(TASK_DOCKERFILE, "USER")[-1] == "10001"
    assert instructions(POSTGRESQL_DOCKERFILE, "USER")[-1] == "999"  # the chart runs it as 10001


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


def test_make_images_as_a_user_without_docker_says_so_in_one_line():
    # No reachable daemon, and starting the private one needs root: one line saying what to do.
    with unprivileged("hack/images", "hack/cluster/config.sh", "hack/lib") as user:
        env = {"PATH": os.environ["PATH"], "HOME": str(user.home), "DOCKER_HOST": f"unix://{user.home}/no-docker.sock"}
        cmd = user.command(str(BUILD_SCRIPT.relative_to(REPO)))
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("dockerd: no Docker daemon reachable") and "needs root" in line, line


def test_build_images_refuses_arguments_with_its_usage():
    proc = subprocess.run([str(BUILD_SCRIPT), "--push"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: hack/images/build.sh")
