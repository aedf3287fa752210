"""The example task image's program (docker/task-example/task_example.py), run here with plain Python.

It is what the bundle's pods run, so it must accept every argument list the DAGs pass it, show what
the pod received without leaking secret values, and write the XCom file the sidecar reads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.lib.paths import REPO

SCRIPT = REPO / "docker" / "task-example" / "task_example.py"
TASK_IMAGE = "airflow-on-k8s/task-example:dev"
SECRET_VALUE = "s3cr3t-value-never-printed"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"]}
    return subprocess.run([sys.executable, str(SCRIPT), *args], env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def task_example():
    spec = importlib.util.spec_from_file_location("task_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shows_test_without_its_value_and_the_configmap_env():
    proc = run(env={"TEST": SECRET_VALUE, "APP_ENV": "development", "LOG_LEVEL": "info", "DB_PASSWORD": "hunter22"})
    assert proc.returncode == 0, proc.stderr
    assert "TEST received: <26 chars, starts 's3'>" in proc.stdout
    assert "env APP_ENV=development" in proc.stdout and "env LOG_LEVEL=info" in proc.stdout
    assert SECRET_VALUE not in proc.stdout and "hunter22" not in proc.stdout


def test_says_when_test_is_missing():
    assert "TEST not set" in run().stdout


def test_writes_the_xcom_result(tmp_path):
    proc = run("--partition", "2026-02", "--xcom", "--xcom-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "return.json").read_text()) == {"partition": "2026-02", "rows": 28}


def test_reads_mounted_files_and_uses_scratch(tmp_path):
    (tmp_path / "settings.ini").write_text("[task]\ngreeting = hi\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = run("--read-dir", str(tmp_path), "--scratch-dir", str(scratch))
    assert proc.returncode == 0, proc.stderr
    assert "file settings.ini: [task]" in proc.stdout
    assert json.loads((scratch / "result.json").read_text())["partition"] == "2026-01"


def test_holds_the_memory_it_is_asked_to():
    proc = run("--allocate-mib", "64")
    assert proc.returncode == 0, proc.stderr
    assert "holding 64 MiB" in proc.stdout


def test_exits_with_the_requested_code():
    assert run("--exit-code", "3").returncode == 3


def test_bad_input_is_one_line_not_a_traceback():
    proc = run("--partition", "January")
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["error: --partition must look like YYYY-MM, got 'January'"]


def test_accepts_every_argument_list_the_dags_pass(pods, task_example):
    """DAGs and image cannot drift: each pod's args parse (templates rendered with the DAG's default Params)."""
    parser = task_example.build_parser()
    parser.exit = lambda status=0, message=None: pytest.fail(f"rejected: {message}")
    checked = 0
    for p in pods:
        (main,) = [c for c in p.pod["spec"]["containers"] if c["name"] == "base"]
        if main["image"] != TASK_IMAGE or main.get("command"):
            continue  # another image, or @task.kubernetes replacing the entrypoint
        parser.parse_args(main.get("args") or [])  # rendered with the DAG's default Params (dag_bundle/bundle_pods.py)
        checked += 1
    assert checked >= 6
