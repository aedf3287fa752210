"""`helm uninstall --wait` while a fan-out runs: it returns in time and leaves nothing of the release.

values/dev.yaml (its shared logs claim included) installed under a release name of this module's own;
`kubernetes-pod-fanout` triggered with more items than `[core] parallelism`, and the uninstall started
as soon as worker pods run, with the chart's defaults. Each worker pod is owned by the release's
pod-template ConfigMap (workers.deleteWithRelease, files/scripts/worker_owner.py): read on the live
pods here, as the ConfigMap's uid. Deleting the ConfigMap lets the garbage collector delete them, so
none finishes after the scheduler is gone and keeps the claim. Then no pod, claim, RBAC object, ServiceAccount or Job of the release is left in any
namespace, the launch namespace's task pods of the run included. (The fernet key Secret is kept on
purpose: README, Secrets. The embedded database runs on an emptyDir here, so it has no claim.)
"""

from __future__ import annotations

import time

from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import NO_DATABASE_VOLUME, installed
from tests.lib.live_airflow.rest_api import connect
from tests.lib.live_airflow.run_pods import WORKER_POD_SELECTOR, run_label

RELEASE = "airflow-uninstall"
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE
DAG = "kubernetes-pod-fanout"
ITEMS = 12  # twice values/dev.yaml's parallelism: pods are still to come when the uninstall starts
UNINSTALL_WITHIN_S = 120
LEFTOVER_KINDS = "pods,persistentvolumeclaims,roles,rolebindings,serviceaccounts,jobs,deployments,statefulsets"


def running_workers(target: ClusterTarget, namespace: str) -> list[str]:
    pods = target.kubectl_json("get", "pods", "-n", namespace, "-l", WORKER_POD_SELECTOR)["items"]
    return [p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Running"]


def test_uninstall_during_a_fan_out_returns_in_time_and_leaves_nothing(running_containers: ClusterTarget) -> None:
    target = running_containers
    apply_dev_objects(target)
    with installed(target, "e2e-uninstall", (LAUNCH_NAMESPACE,), NO_DATABASE_VOLUME, RELEASE) as release:
        with connect(release) as api:
            api.wait_for_dags({DAG})
            run_id = api.trigger(DAG, {"items": ITEMS})
        deadline = time.monotonic() + 300
        while len(running_workers(target, release.namespace)) < 2:
            assert time.monotonic() < deadline, "no two worker pods of the fan-out ran within 5 minutes"
            time.sleep(1)
        workers = running_workers(target, release.namespace)
        owner = release.kubectl_json("get", "configmap", f"{RELEASE}-pod-template")["metadata"]
        for name in workers:
            references = release.kubectl_json("get", "pod", name)["metadata"].get("ownerReferences", [])
            assert [(r["kind"], r["name"], r["uid"]) for r in references] == [("ConfigMap", owner["name"], owner["uid"])], name

        started = time.monotonic()
        result = release.helm("uninstall", RELEASE, "--wait", "--timeout", f"{UNINSTALL_WITHIN_S}s",
                              timeout=UNINSTALL_WITHIN_S + 60)  # fmt: skip
        seconds = time.monotonic() - started
        assert result.returncode == 0, f"helm uninstall --wait failed after {seconds:.0f} s:\n{result.stderr}"
        assert seconds < UNINSTALL_WITHIN_S, f"helm uninstall --wait took {seconds:.0f} s"

        # Pods the deleted Deployments leave go in the background: give them their grace period.
        deadline = time.monotonic() + 60
        while (left := leftovers(target, release.namespace, run_id)) and time.monotonic() < deadline:
            time.sleep(2)
        assert left == [], f"left after uninstalling while {workers} ran: {left}"


def leftovers(target: ClusterTarget, namespace: str, run_id: str) -> list[str]:
    """What of the release is still there: its objects in its namespace and the launch namespace, any pod
    in its namespace, and the run's task pods."""
    objects = target.kubectl_json("get", LEFTOVER_KINDS, "-A", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]
    objects += target.kubectl_json("get", "pods", "-n", namespace)["items"]
    objects += target.kubectl_json("get", "pods", "-n", LAUNCH_NAMESPACE, "-l", f"run_id={run_label(run_id)}")["items"]
    names = {f"{o['kind']} {o['metadata']['namespace']}/{o['metadata']['name']}" for o in objects
             if o["metadata"]["namespace"] in (namespace, LAUNCH_NAMESPACE)}  # fmt: skip
    return sorted(names)
