"""The pods a DAG run makes: the KubernetesExecutor's worker pods and KubernetesPodOperator's task pods.

Both carry the run's labels (dag_id, task_id, run_id, try_number), which is how tests find them.
"""

from __future__ import annotations

import time
from typing import Any

from tests.lib.cluster.target import ClusterTarget
from tests.lib.cluster.unstartable_pods import StuckPodCheck

TASK_POD_SELECTOR = "kubernetes_pod_operator=True"  # on every pod KubernetesPodOperator creates
WORKER_POD_SELECTOR = "kubernetes_executor=True"  # on every worker pod the KubernetesExecutor creates


def run_label(run_id: str) -> str:
    """A run id as the provider writes it into a label (invalid characters replaced, at most 63)."""
    from airflow.providers.cncf.kubernetes.pod_generator import make_safe_label_value

    return make_safe_label_value(run_id)


def pods_of_run(target: ClusterTarget, namespace: str, selector: str, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The pods in `namespace` matching `selector` that belong to one DAG run, as they are now."""
    labels = f"{selector},dag_id={dag_id},run_id={run_label(run_id)}"
    return target.kubectl_json("get", "pods", "-n", namespace, "-l", labels)["items"]


def wait_for_pod_phase(target: ClusterTarget, namespace: str, selector: str, dag_id: str, run_id: str,
                       phase: str, timeout: float = 180, expect_stuck_pods: bool = False) -> dict[str, Any]:  # fmt: skip
    """Wait until a pod of the run is in `phase` (e.g. Running); return it.

    Raises unstartable_pods.PodStuck within about a minute when one of the run's pods (in any
    namespace: its worker pod too, without which no task pod comes) cannot be scheduled or started,
    unless `expect_stuck_pods`."""
    run = f"dag_id={run_label(dag_id)},run_id={run_label(run_id)}"
    check = StuckPodCheck(target, (), run, f"waiting for a pod of {dag_id} run {run_id} to be {phase}")
    deadline = time.monotonic() + timeout
    while True:
        for pod in pods_of_run(target, namespace, selector, dag_id, run_id):
            if pod["status"].get("phase") == phase:
                return pod
        if time.monotonic() > deadline:
            raise TimeoutError(f"no pod of {dag_id} run {run_id} reached {phase} in {namespace} within {timeout} s")
        if not expect_stuck_pods:
            check.poll()
        time.sleep(1)


def wait_no_pods(target: ClusterTarget, namespace: str, selector: str, timeout: float = 120) -> list[str]:
    """Wait until no pod matches; return the names of those still there at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        items = target.kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"]
        left = [p["metadata"]["name"] for p in items]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(2)
