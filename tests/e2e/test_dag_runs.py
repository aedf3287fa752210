"""The DAG bundle run by Airflow itself, as the chart's worker ServiceAccount, against the cluster.

Airflow from the project's venv runs each DAG with `dag.test()` in a subprocess
(tests/e2e/dag_test_runner.py), AIRFLOW_HOME in a temporary directory. Its `kubernetes_default`
connection names a kubeconfig holding only a token of the release's worker
ServiceAccount (TokenRequest) and the cluster's server and CA: KubernetesPodOperator creates,
watches and deletes its pods with exactly the rights worker pods get. values/dev.yaml grants
`development`, where the bundle launches its pods (dags/pod_defaults.py); the objects those pods
reference come from dags/dev_objects.yaml (hack/create-dev-objects.sh). While the DAGs run, a
watch from the test records every pod they create there.

Where containers really run (the local real node, kind) the DAGs run as written; test_airflow_runs.py
runs them through the chart's own scheduler and KubernetesExecutor. On simulated nodes containers do
not run: KWOK moves each bare pod to Succeeded after 3 s (hack/cluster/kwok/stages.yaml). Two
consequences there, both handled here and not in the DAGs:
- A followed log does not end with its pod there. Provider 10.25's follow loop (PodManager.fetch_container_logs)
  reads the stream with a hard-coded 300 s socket read timeout; PodLogsConsumer asks whether the
  container has terminated (post_termination_timeout, read_pod_cache_timeout: 120 s each, neither
  reachable from the operator) only after a chunk of log arrives. KWOK v0.8.0 sends its placeholder
  line and then keeps the stream open without sending more, so each pod task blocks until the
  read timeout fires (measured: a one-pod DAG with get_logs=True took 306 s here, its pod having
  Succeeded after 3 s; the last log line arrived 300 s after the first). No setting shortens this
  without changing the DAGs, so on simulated nodes the runner sets get_logs=False on every pod task.
- Tasks that return XComs read them by exec into the XCom sidecar, which needs a running
  container: those DAGs are skipped on simulated nodes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes.utils import parse_quantity

from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle import dev_objects
from tests.lib.dag_bundle.bundle_pods import dag_pods
from tests.lib.dag_bundle.offline_airflow import chart_worker_airflow_env, dag_bag
from tests.lib.installs.release import SHARED_DEV_RELEASE, Release
from tests.lib.live_airflow.run_pods import run_label
from tests.lib.paths import DAGS

RUNNER = Path(__file__).with_name("dag_test_runner.py")
RESULT_PREFIX = "DAG_RESULT "
PYTHON = Path(sys.executable)
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE; values/dev.yaml grants it
RELEASE = SHARED_DEV_RELEASE  # the dev install shared with the other DAG-running modules
WORKER_ACCOUNT = f"{RELEASE}-worker"
SEED_DAG = "kubernetes-dag"
XCOM_SIDECAR = "airflow-xcom-sidecar"
KPO_LABEL = "kubernetes_pod_operator=True"  # on every pod KubernetesPodOperator creates
RUN_TIMEOUT = 600


@dataclass
class DagRun:
    dag_id: str
    run_id: str
    seconds: float
    tasks: dict[str, dict[str, Any]]


@dataclass
class Runs:
    results: dict[str, DagRun]
    log: str
    events: list[dict[str, Any]] = field(default_factory=list)  # the watch's events, in order

    def pod_events(self, dag_id: str) -> list[dict[str, Any]]:
        """The watch's events of the DAG's pods from this module's run of it: a lane beside this one
        may run the same DAG into the same namespace."""
        run = self.results.get(dag_id)
        label = run_label(run.run_id) if run else None
        return [e for e in self.events if (labels := e["object"]["metadata"].get("labels", {})).get("dag_id") == dag_id
                and (label is None or labels.get("run_id") == label)]  # fmt: skip


@pytest.fixture(scope="module")
def release(dev_airflow: Release) -> Release:
    return dev_airflow


@pytest.fixture(scope="module")
def worker_kubeconfig(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("worker-token")
    return release.target.with_token(release.service_account_token(WORKER_ACCOUNT), directory).kubeconfig


@pytest.fixture(scope="module")
def airflow_env(worker_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Env of the Airflow subprocesses: a migrated SQLite home and the worker's connection."""
    connection = json.loads(chart_worker_airflow_env()["AIRFLOW_CONN_KUBERNETES_DEFAULT"])
    connection["extra"] = {**connection.get("extra", {}), "kube_config_path": str(worker_kubeconfig),
                           "in_cluster": False}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW") and k != "KUBECONFIG"}
    env.update({
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow-home")),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW_CONN_KUBERNETES_DEFAULT": json.dumps(connection),
    })  # fmt: skip
    migrate = subprocess.run([str(PYTHON.with_name("airflow")), "db", "migrate"], env=env, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


def run_dags(
    target: ClusterTarget, env: dict[str, str], folder: Path, dag_ids: list[str], watch_namespace: str
) -> Runs:
    args = [str(PYTHON), str(RUNNER), str(folder), *dag_ids]
    if target.simulated:
        args.append("--no-pod-logs")  # see the module docstring: a followed log never ends on KWOK
    with PodWatch(target, watch_namespace, KPO_LABEL) as watch:
        proc = subprocess.run(args, env={**env, "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT)  # fmt: skip
    log = proc.stdout + proc.stderr
    results = {}
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            run = DagRun(**json.loads(line.removeprefix(RESULT_PREFIX)))
            results[run.dag_id] = run
    assert proc.returncode == 0, f"dag_test_runner failed (exit {proc.returncode}):\n{log[-5000:]}"
    return Runs(results, log, watch.events)


def needs_running_containers(dag_id: str) -> bool:
    """The DAG reads XComs by exec into the sidecar, which only a running container answers."""
    return any(c["name"] == XCOM_SIDECAR for p in dag_pods() if p.dag_id == dag_id for c in p.pod["spec"]["containers"])


def runnable_dags(target: ClusterTarget) -> list[str]:
    ids = sorted(dag_bag().dags)
    return [d for d in ids if not (target.simulated and needs_running_containers(d))]


@pytest.fixture(scope="module")
def bundle_runs(release: Release, airflow_env: dict[str, str]) -> Runs:
    """Every bundle DAG that can run on this cluster, run once, the seed first."""
    dag_ids = sorted(runnable_dags(release.target), key=lambda d: d != SEED_DAG)
    return run_dags(release.target, airflow_env, DAGS, dag_ids, LAUNCH_NAMESPACE)


def test_the_connection_authenticates_as_the_worker_service_account(release: Release, worker_kubeconfig: Path) -> None:
    who = ClusterTarget(worker_kubeconfig, release.target.simulated).kubectl_json("auth", "whoami")
    assert who["status"]["userInfo"]["username"] == f"system:serviceaccount:{release.namespace}:{WORKER_ACCOUNT}"


def test_seed_dag_run_succeeds(bundle_runs: Runs) -> None:
    assert SEED_DAG in bundle_runs.results, bundle_runs.log[-5000:]
    states = {task: ti["state"] for task, ti in bundle_runs.results[SEED_DAG].tasks.items()}
    assert states == {task: "success" for task in states} and states, states


def first_seen(runs: Runs, dag_id: str) -> dict[str, Any]:
    added = [e["object"] for e in runs.pod_events(dag_id) if e["type"] == "ADDED"]
    assert len(added) == 1, f"expected one pod of {dag_id}, the watch saw {[p['metadata']['name'] for p in added]}"
    return added[0]


def canonical_resources(resources: dict[str, Any]) -> dict[str, Any]:
    return {kind: {k: parse_quantity(v) for k, v in values.items()} for kind, values in resources.items()}


def test_seed_pod_carries_the_secret_env_configmap_env_pull_secret_and_resources(bundle_runs: Runs) -> None:
    observed = first_seen(bundle_runs, SEED_DAG)
    (built,) = [p.pod for p in dag_pods() if p.dag_id == SEED_DAG]  # what the DAG asks for
    base = next(c for c in observed["spec"]["containers"] if c["name"] == "base")
    wanted = next(c for c in built["spec"]["containers"] if c["name"] == "base")

    assert observed["metadata"]["namespace"] == LAUNCH_NAMESPACE
    assert observed["spec"]["imagePullSecrets"] == built["spec"]["imagePullSecrets"]
    assert base["env"] == wanted["env"]
    assert base["envFrom"] == wanted["envFrom"]
    assert canonical_resources(base["resources"]) == canonical_resources(wanted["resources"])
    # ... and each of those names an object that exists in the launch namespace.
    objects = dev_objects.load()
    secret_refs = {
        e["valueFrom"]["secretKeyRef"]["name"] for e in base["env"] if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert secret_refs and secret_refs <= objects.names("Secret", LAUNCH_NAMESPACE)
    config_maps = {e["configMapRef"]["name"] for e in base["envFrom"] if "configMapRef" in e}
    assert config_maps and config_maps <= objects.names("ConfigMap", LAUNCH_NAMESPACE)
    pull = {s["name"] for s in observed["spec"]["imagePullSecrets"]}
    assert pull <= objects.names("Secret", LAUNCH_NAMESPACE, dev_objects.PULL_SECRET_TYPE)


def test_seed_pod_ran_to_completion_and_was_deleted(release: Release, bundle_runs: Runs) -> None:
    events = bundle_runs.pod_events(SEED_DAG)
    phases = [e["object"]["status"].get("phase") for e in events]
    assert "Succeeded" in phases, phases  # the operator waited for the end (simulated on KWOK)
    assert events[-1]["type"] == "DELETED", [e["type"] for e in events]
    name = events[-1]["object"]["metadata"]["name"]
    gone = release.target.kubectl("get", "pod", name, "-n", LAUNCH_NAMESPACE, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


@pytest.mark.parametrize("dag_id", sorted(d for d in dag_bag().dags if d != SEED_DAG))
def test_bundle_dag_run_succeeds_and_cleans_up(cluster_target: ClusterTarget, bundle_runs: Runs, dag_id: str) -> None:
    if cluster_target.simulated and needs_running_containers(dag_id):
        pytest.skip(f"{dag_id} reads XComs by exec into {XCOM_SIDECAR}; containers do not run on simulated nodes")
    run = bundle_runs.results[dag_id]
    states = {task: ti["state"] for task, ti in run.tasks.items()}
    assert states and all(s == "success" for s in states.values()), states
    events = bundle_runs.pod_events(dag_id)
    launched = {e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"}
    deleted = {e["object"]["metadata"]["name"] for e in events if e["type"] == "DELETED"}
    seen = sorted({e["object"]["metadata"].get("labels", {}).get("dag_id", "?") for e in bundle_runs.events})
    assert launched, f"the watch saw no pod of {dag_id} in {LAUNCH_NAMESPACE}; it saw pods of {seen}"
    assert launched == deleted, f"pods left behind: {launched - deleted}"


UNGRANTED_DAG = '''
"""One pod task in a namespace the chart does not grant."""
from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

with DAG(dag_id="{dag_id}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    KubernetesPodOperator(
        task_id="launch",
        namespace="{namespace}",
        image="busybox:1.37.0",
        name="ungranted",
        get_logs=False,
        retries=0,
    )
'''


@pytest.fixture(scope="module")
def ungranted_namespace(release: Release) -> Iterator[str]:
    name = f"{release.namespace}-ungranted"
    release.target.create_namespace(name)
    yield name
    release.target.kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_task_in_an_ungranted_namespace_fails_fast_with_the_apis_403(
    release: Release, airflow_env: dict[str, str], ungranted_namespace: str, tmp_path: Path
) -> None:
    dag_id = f"ungranted-{uuid.uuid4().hex[:6]}"
    (tmp_path / "ungranted.py").write_text(
        textwrap.dedent(UNGRANTED_DAG.format(dag_id=dag_id, namespace=ungranted_namespace))
    )

    runs = run_dags(release.target, airflow_env, tmp_path, [dag_id], ungranted_namespace)

    task = runs.results[dag_id].tasks["launch"]
    assert task == {"state": "failed", "try_number": 1}, task
    assert "Forbidden" in runs.log and "403" in runs.log, runs.log[-5000:]
    forbidden = [line for line in runs.log.splitlines() if "forbidden" in line.lower()]
    assert any(ungranted_namespace in line and WORKER_ACCOUNT in line for line in forbidden), forbidden[:5]
    assert runs.results[dag_id].seconds < 60, "a 403 is not transient: the operator must not retry it"
    assert not runs.pod_events(dag_id), "no pod may exist in a namespace the chart does not grant"
