"""The cluster under test is a real Kubernetes 1.35 with Pod Security admission, and pods finish.

On the local real node and on kind the pods' containers really run; on simulated nodes KWOK plays
them (hack/cluster/kwok/stages.yaml). Each pod below is written to behave the same on all: its
command does what its KWOK annotations tell the simulation to do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_helm_charts.clusters import Cluster

from tests.lib.cluster.local_node import TASK_IMAGE, is_local_node
from tests.lib.cluster.target import (
    OUTCOME_ANNOTATION,
    RUN_FOR_ANNOTATION,
    ClusterTarget,
    control_plane_bin_dir,
    local_component_executable,
)

KUBE_MINOR = "v1.35."

RESTRICTED_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(name: str, script: str, security: dict[str, Any], annotations: dict[str, str] | None = None) -> str:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "main", "image": TASK_IMAGE, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", script],
                 "securityContext": security}
            ],
        },
    }
    return json.dumps(manifest)


def wait_for_phase(cluster: ClusterTarget, namespace: str, name: str, phase: str, timeout: str = "120s") -> None:
    cluster.kubectl(
        "wait", "-n", namespace, f"pod/{name}", f"--for=jsonpath={{.status.phase}}={phase}", f"--timeout={timeout}"
    )


def test_api_server_reports_kubernetes_1_35(kube_cluster: Cluster) -> None:
    version = kube_cluster.kubectl("version")["serverVersion"]
    assert version["gitVersion"].startswith(KUBE_MINOR), version
    assert (version["major"], version["minor"]) == ("1", "35")


def test_restricted_namespace_refuses_a_privileged_pod(
    cluster_target: ClusterTarget, restricted_namespace: str
) -> None:
    manifest = pod("privileged", "true", {"privileged": True})
    result = cluster_target.kubectl("create", "-n", restricted_namespace, "-f", "-", stdin=manifest, check=False)
    assert result.returncode != 0, "a privileged pod was admitted into a restricted namespace"
    assert 'violates PodSecurity "restricted:latest"' in result.stderr
    assert "privileged" in result.stderr


def test_restricted_pod_is_admitted_runs_and_succeeds(cluster_target: ClusterTarget, restricted_namespace: str) -> None:
    manifest = pod(
        "succeeds",
        "echo smoke test ran; sleep 5",
        RESTRICTED_CONTAINER_SECURITY,
        annotations={RUN_FOR_ANNOTATION: "5s"},
    )
    cluster_target.kubectl("create", "-n", restricted_namespace, "-f", "-", stdin=manifest)

    wait_for_phase(cluster_target, restricted_namespace, "succeeds", "Running")
    wait_for_phase(cluster_target, restricted_namespace, "succeeds", "Succeeded")

    status = cluster_target.kubectl_json("get", "-n", restricted_namespace, "pod/succeeds")["status"]
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    logs = cluster_target.kubectl("logs", "-n", restricted_namespace, "succeeds").stdout
    expected = "simulated by KWOK" if cluster_target.simulated else "smoke test ran"
    assert expected in logs


def test_pod_asked_to_fail_ends_failed(cluster_target: ClusterTarget, restricted_namespace: str) -> None:
    manifest = pod(
        "fails",
        "echo failing on purpose; exit 1",
        RESTRICTED_CONTAINER_SECURITY,
        annotations={OUTCOME_ANNOTATION: "Failed", RUN_FOR_ANNOTATION: "1s"},
    )
    cluster_target.kubectl("create", "-n", restricted_namespace, "-f", "-", stdin=manifest)

    wait_for_phase(cluster_target, restricted_namespace, "fails", "Failed")

    status = cluster_target.kubectl_json("get", "-n", restricted_namespace, "pod/fails")["status"]
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 1


def test_deleted_pod_goes_away(cluster_target: ClusterTarget, restricted_namespace: str) -> None:
    manifest = pod("deleted", "sleep 600", RESTRICTED_CONTAINER_SECURITY, annotations={RUN_FOR_ANNOTATION: "10m"})
    cluster_target.kubectl("create", "-n", restricted_namespace, "-f", "-", stdin=manifest)
    wait_for_phase(cluster_target, restricted_namespace, "deleted", "Running")

    cluster_target.kubectl("delete", "-n", restricted_namespace, "pod/deleted", "--grace-period=2", "--timeout=60s")

    result = cluster_target.kubectl("get", "-n", restricted_namespace, "pod/deleted", check=False)
    assert result.returncode != 0 and "NotFound" in result.stderr


def test_serviceaccount_token_authenticates_and_rbac_denies_by_default(
    cluster_target: ClusterTarget, restricted_namespace: str, tmp_path: Path
) -> None:
    cluster_target.kubectl("create", "serviceaccount", "smoke", "-n", restricted_namespace)
    token = cluster_target.kubectl("create", "token", "smoke", "-n", restricted_namespace, "--duration=10m").stdout
    as_sa = cluster_target.with_token(token.strip(), tmp_path)

    who = as_sa.kubectl_json("auth", "whoami")["status"]["userInfo"]["username"]
    assert who == f"system:serviceaccount:{restricted_namespace}:smoke"
    denied = as_sa.kubectl("get", "pods", "-n", restricted_namespace, check=False)
    assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr


@pytest.mark.parametrize(
    ("component", "binary"),
    [
        ("kube-apiserver", "kube-apiserver"),
        ("kube-controller-manager", "kube-controller-manager"),
        ("kube-scheduler", "kube-scheduler"),
        ("etcd", "etcd"),
        ("kwok-controller", "kwok"),
    ],
)
def test_local_control_plane_runs_the_binaries_built_from_source(
    cluster_target: ClusterTarget, component: str, binary: str
) -> None:
    if not (cluster_target.simulated or is_local_node(cluster_target)):
        pytest.skip("the cluster under test is not the local control plane; its binaries are not ours")
    assert local_component_executable(component) == control_plane_bin_dir() / binary
