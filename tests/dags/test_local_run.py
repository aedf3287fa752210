"""Each DAG run locally with `dag.test()` and no cluster: the pod tasks fail fast, saying why.

One subprocess (tests/dags/local_run.py) runs every DAG against a sqlite DB in a throwaway
AIRFLOW_HOME, with KUBECONFIG pointing at a file that does not exist and no in-cluster environment,
so nothing can reach a real cluster. The whole run is bounded; each DAG must finish within seconds.
The DAGs run from a copy of dags/ made the way docker/airflow/Dockerfile copies it, outside the
repository, so a DAG importing anything from outside its folder fails here as it would in the image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lib.paths import DAGS

RUNNER = Path(__file__).parent / "local_run.py"
TIMEOUT_SECONDS = 240
PER_DAG_SECONDS = 60
NO_CLUSTER_MESSAGE = "Invalid kube-config file. No configuration found."


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[dict, str]]:
    """dag_id -> (result JSON, that DAG's log)."""
    home = tmp_path_factory.mktemp("airflow-home")
    bundle = shutil.copytree(DAGS, home / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KUBERNETES_SERVICE"))}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(bundle), AIRFLOW__CORE__LOAD_EXAMPLES="False",
               KUBECONFIG=str(home / "no-such-kubeconfig"))
    proc = subprocess.run([sys.executable, str(RUNNER), str(bundle)], cwd=home, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_SECONDS)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    found: dict[str, tuple[dict, str]] = {}
    log: list[str] = []
    for line in proc.stdout.splitlines():
        if line.startswith("@@begin "):
            log = []
        elif line.startswith("@@end "):
            _, dag_id, result = line.split(" ", 2)
            found[dag_id] = (json.loads(result), "\n".join(log))
        else:
            log.append(line)
    return found


def test_every_dag_was_run(runs, dags):
    assert set(runs) == set(dags)


def test_every_dag_stops_within_seconds(runs):
    slow = {dag_id: r["seconds"] for dag_id, (r, _) in runs.items() if r["seconds"] > PER_DAG_SECONDS}
    assert not slow, f"runs slower than {PER_DAG_SECONDS}s (retrying or hanging instead of failing): {slow}"


def test_pod_tasks_fail_and_nothing_downstream_runs(runs, dags):
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    problems = []
    for dag_id, (result, _) in runs.items():
        assert result["run"] == "failed", dag_id
        for key, state in result["tasks"].items():
            task = dags[dag_id].get_task(key.split("[")[0])
            cls = task.operator_class if isinstance(task, MappedOperator) else type(task)
            if issubclass(cls, KubernetesPodOperator):
                expected = {"failed", "upstream_failed"}  # a pod task after another one never starts
            elif task.upstream_task_ids:
                expected = {"upstream_failed"}
            else:
                expected = {"success"}  # e.g. the seed's `start`
            if state not in expected:
                problems.append(f"{dag_id}.{key}: {state}, expected {sorted(expected)}")
    assert not problems, "\n".join(problems)


def test_the_failure_says_there_is_no_cluster_configuration(runs):
    for dag_id, (result, log) in runs.items():
        failed = sum(state == "failed" for state in result["tasks"].values())
        assert log.count(NO_CLUSTER_MESSAGE) == failed, f"{dag_id}: expected {failed} no-kube-config failures"


def test_the_seeds_start_task_succeeds_before_the_pod_task_fails(runs):
    result, _ = runs["kubernetes-dag"]
    assert result["tasks"] == {"start[-1]": "success", "kubernetespodoperator[-1]": "failed"}
