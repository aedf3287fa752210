"""tests/lib/cluster/unstartable_pods.py without a cluster: which pods a wait gives up on, and what it
says, from pod and node JSON shaped as the API server returns it (`kubectl get pods,nodes -o json`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.lib.cluster.target import ClusterTarget
from tests.lib.cluster.unstartable_pods import (
    PodStuck,
    StuckPodCheck,
    diagnose,
    pod_request,
    show,
    stuck_states,
    timestamp,
)

NOW = timestamp("2026-12-04T15:00:00Z")
NODE = "airflow-on-k8s-node"
SCHEDULER_MESSAGE = ("0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
                     "1 No preemption victims found for incoming pod.")  # fmt: skip
SEED_TASK = {"dag_id": "kubernetes-dag", "task_id": "kubernetespodoperator",
             "run_id": "manual__2026-12-04T145800.1234560000-7c1f9b2e4", "try_number": "1"}  # fmt: skip


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def container(name: str, cpu: str, memory: str = "128Mi", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "airflow-on-k8s/airflow:dev", "imagePullPolicy": "IfNotPresent",
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", **extra}  # fmt: skip


def pod(namespace: str, name: str, *containers: dict[str, Any], created: float = 300, node: str | None = NODE,
        restart: str = "Always", labels: dict[str, str] | None = None, **status: Any) -> dict[str, Any]:  # fmt: skip
    """A pod as the API returns it: running on `node` unless `status` says otherwise."""
    spec: dict[str, Any] = {"containers": list(containers), "restartPolicy": restart, "dnsPolicy": "ClusterFirst",
                            "schedulerName": "default-scheduler", "serviceAccountName": "default",
                            "terminationGracePeriodSeconds": 30, "priority": 0, "enableServiceLinks": True}  # fmt: skip
    if node:
        spec["nodeName"] = node
    default_status = {
        "phase": "Running",
        "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": ago(created)},
                       {"type": "Ready", "status": "True", "lastProbeTime": None, "lastTransitionTime": ago(created - 5)}],
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "sha256:0f1e", "ready": True,
                               "restartCount": 0, "started": True,
                               "state": {"running": {"startedAt": ago(created - 3)}}} for c in containers],
        "hostIP": "10.244.0.1", "podIP": "10.244.0.17", "qosClass": "Burstable", "startTime": ago(created),
    }  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}",
                     "creationTimestamp": ago(created), "labels": labels or {}, "resourceVersion": "4711"},
        "spec": spec,
        "status": {**default_status, **status},
    }  # fmt: skip


def unschedulable(namespace: str, name: str, cpu: str, seconds: float, message: str = SCHEDULER_MESSAGE,
                  **kwargs: Any) -> dict[str, Any]:  # fmt: skip
    condition = {"type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": ago(seconds),
                 "reason": "Unschedulable", "message": message}  # fmt: skip
    return pod(namespace, name, container("base", cpu), created=seconds + 1, node=None, phase="Pending",
               conditions=[condition], containerStatuses=None, hostIP=None, podIP=None, startTime=None, **kwargs)  # fmt: skip


def waiting(namespace: str, name: str, reason: str, message: str, scheduled: float) -> dict[str, Any]:
    p = pod(namespace, name, container("base", "100m"), created=scheduled, restart="Never", phase="Pending")
    p["status"]["conditions"][1] = {"type": "Ready", "status": "False", "lastProbeTime": None,
                                    "lastTransitionTime": ago(scheduled), "reason": "ContainersNotReady",
                                    "message": "containers with unready status: [base]"}  # fmt: skip
    p["status"]["containerStatuses"][0].update(ready=False, started=False, imageID="",
                                               state={"waiting": {"reason": reason, "message": message}})  # fmt: skip
    return p


def node(cpu: str = "2", memory: str = "8025424Ki") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "47093746Ki"},
                       "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}  # fmt: skip


def other_release(namespace: str) -> list[dict[str, Any]]:
    """Another Airflow release's long-running pods on the node."""
    return [pod(namespace, "airflow-scheduler-5f7c9d8b6-x2k9q", container("scheduler", "500m")),
            pod(namespace, "airflow-api-server-7d4b8c9f5-m3n7p", container("api-server", "250m")),
            pod(namespace, "airflow-postgresql-0", container("postgresql", "100m"))]  # fmt: skip


def test_a_task_pod_that_cannot_get_cpu_beside_another_release_is_named_with_what_holds_the_node():
    task = unschedulable("development", "job-kubernetespodoperator-q8w2", "1", 60, labels=SEED_TASK)
    # The run's own worker pod runs to completion, but only once its task pod has: it holds its share.
    worker = pod("e2e-prod-ssh-1a2b3c4d", "kubernetes-dag-kubernetespodoperator-h7gk2", container("base", "400m"),
                 restart="Never", labels={**SEED_TASK, "kubernetes_executor": "True"})  # fmt: skip
    system = pod("kube-system", "coredns-6f6b679f8f-abcde", container("coredns", "100m"))
    pods = [task, worker, system, *other_release("airflow")]
    message = diagnose([task, worker], pods, [node()], NOW)
    assert message is not None
    lines = message.splitlines()
    assert lines[0] == f"pod development/job-kubernetespodoperator-q8w2 has been Unschedulable for 60 s: {SCHEDULER_MESSAGE}"
    assert lines[1] == f"node {NODE}: cpu allocatable 2, this pod requests 1; 5 pod(s) there request 1350m, largest first:"
    assert lines[2:] == ["  airflow/airflow-scheduler-5f7c9d8b6-x2k9q: 500m",
                         "  e2e-prod-ssh-1a2b3c4d/kubernetes-dag-kubernetespodoperator-h7gk2: 400m",
                         "  airflow/airflow-api-server-7d4b8c9f5-m3n7p: 250m",
                         "  airflow/airflow-postgresql-0: 100m",
                         "  kube-system/coredns-6f6b679f8f-abcde: 100m"]  # fmt: skip


def test_an_unschedulable_pod_gets_its_45_seconds_first():
    task = unschedulable("development", "job-a", "1", 30)
    assert diagnose([task], [task, *other_release("airflow")], [node("1")], NOW) is None
    assert diagnose([task], [task, *other_release("airflow")], [node("1")], NOW + timedelta(seconds=20)) is not None


def test_a_pod_queued_behind_pods_that_end_by_themselves_is_not_stuck():
    # A fan-out's next task pod waits for the cpu other tasks' pods hold; they finish, it starts.
    pending = unschedulable("development", "process-item-7", "500m", 90,
                            labels={"dag_id": "kubernetes-pod-fanout", "task_id": "process_item", "map_index": "7"})  # fmt: skip
    others = [pod("development", f"process-item-{i}", container("base", "500m"), restart="Never",
                  labels={"dag_id": "kubernetes-pod-fanout", "task_id": "process_item", "map_index": str(i)})
              for i in range(3)]  # fmt: skip
    pods = [pending, *others, *other_release("airflow")]
    assert diagnose([pending], pods, [node()], NOW) is None
    # Were the long-running pods alone too many for it, it would wait for ever.
    assert diagnose([pending], pods, [node("1")], NOW) is not None


def test_pods_being_deleted_free_their_share_unless_they_have_been_at_it_too_long():
    pending = unschedulable("e2e-dev-0a1b2c3d", "airflow-scheduler-6c8d7f9b4-p2q3r", "500m", 60)
    leaving = pod("e2e-dev-9f8e7d6c", "airflow-scheduler-5f7c9d8b6-x2k9q", container("scheduler", "1600m"))
    leaving["metadata"]["deletionTimestamp"] = ago(-20)  # its grace period ends in 20 s
    assert diagnose([pending], [pending, leaving], [node()], NOW) is None
    leaving["metadata"]["deletionTimestamp"] = ago(300)  # five minutes past: it is not going
    message = diagnose([pending], [pending, leaving], [node()], NOW)
    assert message is not None and "e2e-dev-9f8e7d6c/airflow-scheduler-5f7c9d8b6-x2k9q: 1600m" in message, message


def test_memory_is_shown_in_mebibytes_and_gibibytes_and_pods_are_sized_as_the_scheduler_sizes_them():
    message = ("0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: "
               "1 No preemption victims found for incoming pod.")  # fmt: skip
    pending = unschedulable("development", "job-big", "100m", 50, message=message)
    pending["spec"]["containers"][0]["resources"]["requests"]["memory"] = "2Gi"
    database = pod("airflow", "airflow-postgresql-0", container("postgresql", "100m", "7Gi"))
    result = diagnose([pending], [pending, database], [node()], NOW)
    assert result is not None
    assert f"node {NODE}: memory allocatable 7837Mi, this pod requests 2Gi; 1 pod(s) there request 7Gi" in result, result
    assert "  airflow/airflow-postgresql-0: 7Gi" in result
    # Containers (and sidecars) add up; a one-off init container counts when it alone asks for more.
    sized = pod("x", "y", container("a", "250m"), container("b", "250m"))
    sized["spec"]["initContainers"] = [container("sync", "100m", restartPolicy="Always"), container("migrate", "700m")]
    assert pod_request(sized, "cpu") == Decimal("0.7") and show("cpu", pod_request(sized, "cpu")) == "700m"
    sized["spec"]["initContainers"][1]["resources"]["requests"]["cpu"] = "500m"
    assert show("cpu", pod_request(sized, "cpu")) == "600m"
    assert [show("cpu", Decimal(v)) for v in ("2.000", "10", "0.05")] == ["2", "10", "50m"]


def test_an_image_that_cannot_be_pulled_or_a_missing_secret_is_named_with_the_kubelets_message():
    pull = waiting("development", "job-no-image", "ImagePullBackOff",
                   'Back-off pulling image "airflow-on-k8s/no-such-image:1.0": ErrImagePull: failed to pull and unpack image', 50)  # fmt: skip
    secret = waiting("e2e-faults-1a2b", "job-no-secret", "CreateContainerConfigError", 'secret "test-env" not found', 46)
    message = diagnose([pull, secret], [], [], NOW)
    assert message is not None
    assert message.splitlines() == [
        'pod development/job-no-image: container base has been waiting with ImagePullBackOff for 50 s: Back-off pulling '
        'image "airflow-on-k8s/no-such-image:1.0": ErrImagePull: failed to pull and unpack image',
        'pod e2e-faults-1a2b/job-no-secret: container base has been waiting with CreateContainerConfigError for 46 s: '
        'secret "test-env" not found',
    ]  # fmt: skip
    assert diagnose([waiting("development", "job-soon", "ErrImagePull", "", 20)], [], [], NOW) is None


def test_pods_starting_ending_or_being_deleted_are_not_stuck():
    creating = waiting("development", "job-starting", "ContainerCreating", "", 300)
    done = pod("development", "job-done", container("base", "1"), restart="Never", phase="Succeeded")
    leaving = waiting("development", "job-leaving", "CreateContainerConfigError", 'secret "test-env" not found', 300)
    leaving["metadata"]["deletionTimestamp"] = ago(-30)
    assert stuck_states([creating, done, leaving, *other_release("airflow")], NOW) == []


def test_an_unschedulable_pod_for_another_reason_says_that_reason_alone():
    message = ("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes "
               "are available: 1 Preemption is not helpful for scheduling.")  # fmt: skip
    pending = unschedulable("e2e-faults-1a2b", "airflow-postgresql-0", "100m", 120, message=message)
    assert diagnose([pending], [pending], [node()], NOW) == (
        f"pod e2e-faults-1a2b/airflow-postgresql-0 has been Unschedulable for 120 s: {message}")


def test_a_wait_gives_a_pod_the_time_it_has_seen_it_stuck_too():
    """A wait that begins while a pod has long been stuck (by the API's clock) still watches it
    STUCK_SECONDS itself, then fails; what it was given as the pods is all it reads."""
    stuck = waiting("development", "job-no-image", "ImagePullBackOff", "not found", 0)
    ten_minutes_ago = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stuck["metadata"]["creationTimestamp"] = ten_minutes_ago
    stuck["status"]["conditions"][0]["lastTransitionTime"] = ten_minutes_ago  # PodScheduled
    check = StuckPodCheck(ClusterTarget(Path("/nonexistent/kubeconfig"), simulated=False), ("development",), "",
                          "waiting for run r of d", interval=0, stuck_seconds=0.3)  # fmt: skip
    check.poll([stuck])  # first seen now
    stuck["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] = "ErrImagePull"  # the kubelet retried
    time.sleep(0.4)
    with pytest.raises(PodStuck) as raised:
        check.poll([stuck])
    assert str(raised.value).startswith("waiting for run r of d: a pod it needs cannot start\npod development/job-no-image:")


def test_a_wait_on_one_run_is_not_failed_by_another_runs_pod_of_the_same_dag_stuck_on_purpose():
    """Two lanes run the same DAG into `development`: a wait fails on its own run's stuck pod only
    (the run_id label, spelt as the provider spells it)."""
    from tests.lib.live_airflow.run_pods import run_label

    mine, theirs = "manual__2026-12-04T15:00:00.000001+00:00", "manual__2026-12-04T15:00:05.000002+00:00"
    pods = []
    for run_id in (theirs, mine):
        stuck = waiting("development", f"job-{len(pods)}", "ErrImagePull", "not found", 120)
        stuck["metadata"]["labels"] = {"dag_id": "kubernetes-pod-params", "run_id": run_label(run_id)}
        pods.append(stuck)
    check = StuckPodCheck(ClusterTarget(Path("/nonexistent/kubeconfig"), simulated=False), ("development",), "",
                          f"waiting for run {mine}", interval=0, stuck_seconds=0.0, run_id=mine)  # fmt: skip
    check.poll(pods[:1])  # another run's pod alone: not this wait's business
    with pytest.raises(PodStuck) as raised:
        check.poll(pods)
    assert "pod development/job-1:" in str(raised.value) and "job-0" not in str(raised.value)


def test_an_untolerated_taint_is_named_with_the_node_condition_the_cluster_set_it_for():
    message = ("0/1 nodes are available: 1 node(s) had untolerated taint(s). preemption: 0/1 nodes are "
               "available: 1 Preemption is not helpful for scheduling.")  # fmt: skip
    pending = unschedulable("e2e-lifecycle-1a2b", "airflow-scheduler-5f7c9d8b6-x2k9q", "500m", 60, message=message)
    pending["spec"]["tolerations"] = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                       "effect": "NoExecute", "tolerationSeconds": 300}]  # fmt: skip
    pressed = node()
    pressed["spec"] = {"taints": [{"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"},
                                  {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                                  {"key": "e2e.example/dedicated", "value": "airflow", "effect": "NoSchedule"}]}  # fmt: skip
    pressed["status"]["conditions"].append({"type": "DiskPressure", "status": "True", "reason": "KubeletHasDiskPressure",
                                            "message": "kubelet has disk pressure"})  # fmt: skip
    lines = (diagnose([pending], [pending], [pressed], NOW) or "").splitlines()
    assert lines[1:] == [
        f"node {NODE}: taint node.kubernetes.io/disk-pressure:NoSchedule, set by the cluster for condition "
        "DiskPressure=True (KubeletHasDiskPressure: kubelet has disk pressure)",
        f"node {NODE}: taint e2e.example/dedicated=airflow:NoSchedule",
    ], lines  # the tolerated not-ready taint is left out
