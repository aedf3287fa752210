"""A cluster whose every node is tainted: one global toleration in values is all an install needs.

Every node is tainted NoSchedule with a key of this module's own for as long as the module runs, and
the taint is removed afterwards whatever happens. Without a toleration, the install's wait names the
pods that cannot be scheduled and why, within about a minute instead of helm's timeout. With values/dev.yaml, metrics on and only the global
`tolerations` (plus the DAG bundle's TASK_POD_TOLERATIONS in the worker env, for the pods the DAGs
themselves launch), every pod schedules: the migration Job, PostgreSQL, the statsd-exporter, the four
components, the worker pod and the seed DAG's task pod, and the seed DAG run succeeds.

The taint would keep any other test's new pods off the node, so this module runs alone (node_exclusive).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.target import ClusterTarget
from tests.lib.cluster.unstartable_pods import PodStuck
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import NO_DATABASE_VOLUME, installed
from tests.lib.live_airflow.rest_api import connect
from tests.lib.live_airflow.run_pods import TASK_POD_SELECTOR, WORKER_POD_SELECTOR, run_label

pytestmark = pytest.mark.node_exclusive

TAINT_KEY = "e2e.airflow-on-k8s.dev/dedicated"
TOLERATION = {"key": TAINT_KEY, "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}
RELEASE = "airflow-taints"
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE
SEED = "kubernetes-dag"
STATSD_IMAGE = ("--set", "images.statsdExporter.repository=airflow-on-k8s/statsd-exporter")
# Helm's own wait on the migration hook would last its whole --timeout (10 minutes): the install's
# stuck-pod check must end it long before.
WELL_BEFORE_HELM_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def tainted(prod_images: ClusterTarget) -> Iterator[ClusterTarget]:
    target = prod_images
    nodes = [n["metadata"]["name"] for n in target.kubectl_json("get", "nodes")["items"]]
    try:
        for node in nodes:
            target.kubectl("taint", "nodes", node, f"{TAINT_KEY}=airflow:NoSchedule", "--overwrite")
        yield target
    finally:
        for node in nodes:
            target.kubectl("taint", "nodes", node, f"{TAINT_KEY}:NoSchedule-", check=False)


TASK_PLACEMENT = "task-pod-placement"  # a ConfigMap of the worker env the DAG bundle reads


def tolerating_values(directory: Path) -> Path:
    """The global toleration, metrics on, and the bundle's task pods told the same through the worker
    env, from a ConfigMap (workers.extraEnvFrom: the worker env values/dev.yaml sets stays as it is)."""
    values = {
        "tolerations": [TOLERATION],
        "metrics": {"enabled": True},
        "workers": {"extraEnvFrom": [{"configMapRef": {"name": TASK_PLACEMENT}}]},
    }
    path = directory / "tolerations.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def create_task_placement(target: ClusterTarget, namespace: str) -> None:
    target.kubectl("create", "configmap", TASK_PLACEMENT, "-n", namespace,
                   f"--from-literal=TASK_POD_TOLERATIONS={json.dumps([TOLERATION])}")  # fmt: skip


def test_without_a_toleration_the_install_names_the_pod_that_cannot_be_scheduled(tainted: ClusterTarget) -> None:
    started = time.monotonic()
    with pytest.raises(PodStuck) as stuck:
        with installed(tainted, "e2e-untolerated", (), NO_DATABASE_VOLUME, RELEASE):
            pass
    seconds = time.monotonic() - started
    message = str(stuck.value)
    # The first pods the install creates are the components and PostgreSQL (Helm creates the
    # migration hook only once they exist): the wait names them and the scheduler's reason.
    assert re.search(rf"pod e2e-untolerated-[0-9a-f]+/{RELEASE}-", message), message
    assert "Unschedulable" in message and "untolerated taint" in message, message
    assert seconds < WELL_BEFORE_HELM_TIMEOUT_S, f"the stuck hook was reported after {seconds:.0f} s: {message}"


def test_with_one_global_toleration_every_pod_schedules_and_the_seed_dag_succeeds(
    tainted: ClusterTarget, tmp_path_factory: pytest.TempPathFactory
) -> None:
    apply_dev_objects(tainted)
    values = ("--values", str(tolerating_values(tmp_path_factory.mktemp("taints"))), *STATSD_IMAGE, *NO_DATABASE_VOLUME)
    with installed(tainted, "e2e-tolerated", (LAUNCH_NAMESPACE,), values, RELEASE,
                   before_install=lambda namespace: create_task_placement(tainted, namespace)) as release, \
            connect(release) as api:  # fmt: skip
        components = release.kubectl_json("get", "pods")["items"]
        scheduled = {p["metadata"]["labels"]["app.kubernetes.io/component"] for p in components
                     if p["spec"].get("nodeName") and TOLERATION in p["spec"].get("tolerations", [])}  # fmt: skip
        assert {"scheduler", "api-server", "dag-processor", "triggerer", "postgresql", "statsd"} <= scheduled, scheduled

        api.wait_for_dags({SEED})
        with PodWatch(tainted, LAUNCH_NAMESPACE, TASK_POD_SELECTOR) as task_pods, \
                PodWatch(tainted, release.namespace, WORKER_POD_SELECTOR) as worker_pods:  # fmt: skip
            run_id = api.trigger(SEED)
            state = api.wait_for_run(SEED, run_id, timeout=600)
        assert state == "success", api.task_log(SEED, run_id, "kubernetespodoperator", 1)

        for watch, kind in ((worker_pods, "worker"), (task_pods, "task")):
            pods = [e["object"] for e in watch.of("run_id", run_label(run_id))]
            assert pods, f"no {kind} pod of the seed run was seen"
            assert all(TOLERATION in p["spec"].get("tolerations", []) for p in pods), f"a {kind} pod lacked the toleration"
            assert any(p["spec"].get("nodeName") for p in pods), f"no {kind} pod was scheduled"
