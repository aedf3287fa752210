"""The local cluster's life on this host: it survives a crash, and cluster-down leaves nothing behind.

These take the local cluster down and up again, so they run after every other test (marker
`cluster_lifecycle`) and leave a fresh, empty cluster running. They skip, saying so, where the cluster
holds the user's `make deploy-dev` release (release `airflow` in namespace `airflow`), which taking it
down would delete; set E2E_KEEP_CLUSTER=1 to skip them on any cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from tests.lib.cluster.host_state import HostState, cluster_processes
from tests.lib.cluster.local_node import TASK_IMAGE, crash, is_local_node, setting
from tests.lib.cluster.one_off_pods import pod_manifest
from tests.lib.cluster.target import CLUSTER_UP_SCRIPT, ClusterTarget
from tests.lib.paths import REPO

pytestmark = pytest.mark.cluster_lifecycle
CLUSTER_DOWN_SCRIPT = REPO / "hack" / "cluster" / "down.sh"
DEV_RELEASE = DEV_NAMESPACE = "airflow"  # what hack/deploy-dev.sh installs, and where


@pytest.fixture(scope="module")
def local_node(running_containers: ClusterTarget) -> ClusterTarget:
    if not is_local_node(running_containers):
        pytest.skip("the cluster under test is not the local control plane's real node (kind or a user's cluster)")
    if os.environ.get("E2E_KEEP_CLUSTER"):
        pytest.skip("E2E_KEEP_CLUSTER is set: the local cluster is not taken down")
    user_release = running_containers.kubectl("get", "deployments", "-n", DEV_NAMESPACE, "-o", "name", "-l",
                                              f"app.kubernetes.io/instance={DEV_RELEASE}", check=False).stdout.split()  # fmt: skip
    if user_release:
        pytest.skip(f"the cluster holds the make deploy-dev release ({DEV_RELEASE} in namespace {DEV_NAMESPACE}), "
                    "which taking the cluster down would delete: run make cluster-down yourself first to run these")  # fmt: skip
    return running_containers


def script(path: os.PathLike[str], timeout: int = 600) -> str:
    proc = subprocess.run([str(path)], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{path} failed:\n{(proc.stdout + proc.stderr)[-3000:]}"
    return proc.stdout


def wait_ready(target: ClusterTarget, namespace: str, selector: str, timeout: int = 120) -> dict:
    target.kubectl("wait", "-n", namespace, "pod", "-l", selector, "--for=condition=Ready", f"--timeout={timeout}s")
    return target.kubectl_json("get", "pods", "-n", namespace, "-l", selector)["items"][0]


def test_cluster_up_after_every_process_was_killed_brings_back_the_node_and_its_pods(local_node: ClusterTarget) -> None:
    namespace = f"e2e-crash-{uuid.uuid4().hex[:6]}"
    local_node.create_namespace(namespace)
    server = pod_manifest("server", TASK_IMAGE, command=["python", "-m", "http.server", "8000"], restart="Always",
                          labels={"app": "server"}, ready_port=8000)  # fmt: skip
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "server"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "server"}},
                           "template": {"metadata": server["metadata"], "spec": server["spec"]}}}  # fmt: skip
    local_node.kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(deployment))
    before = wait_ready(local_node, namespace, "app=server")

    killed = crash()
    assert any(p.endswith("/kubelet") for p in killed) and any(p.endswith("/kube-apiserver") for p in killed), killed
    time.sleep(1)
    assert cluster_processes() == [], "processes survived kill -9"

    started = time.monotonic()
    out = script(CLUSTER_UP_SCRIPT)
    restart_seconds = time.monotonic() - started
    assert out.strip().splitlines()[-1].startswith("KUBECONFIG="), out
    node = local_node.kubectl_json("get", "node", setting("NODE_NAME"))
    assert next(c for c in node["status"]["conditions"] if c["type"] == "Ready")["status"] == "True"
    # The API server kept the pod; the kubelet started a new container for it (a node restart).
    after = wait_ready(local_node, namespace, "app=server")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    container_id = [p["status"]["containerStatuses"][0]["containerID"] for p in (before, after)]
    assert container_id[0] != container_id[1], container_id
    print(f"cluster-up after the crash took {restart_seconds:.1f} s")  # for the log; make bench measures it
    local_node.kubectl("delete", "namespace", namespace, "--wait=false")


def test_cluster_down_removes_everything_the_cluster_added_to_this_host(local_node: ClusterTarget) -> None:
    script(CLUSTER_DOWN_SCRIPT)
    without = HostState.read()
    # Down means down: nothing of the cluster is left by the teardown itself either.
    assert without.processes == (), without.processes
    node_dirs = (setting("NODE_STATE"), setting("NODE_RUN"))
    assert not [m for m in without.mounts if m.startswith(node_dirs)], without.mounts
    assert setting("BRIDGE") not in without.links
    assert not [r for r in without.iptables + without.ip6tables if "KUBE-" in r or "airflow-on-k8s" in r]
    assert not [c for c in without.cgroups if "/kubepods" in c]

    script(CLUSTER_UP_SCRIPT)
    # Exercise the node: containers, volumes, DNS; then take it all down again.
    namespace = f"e2e-down-{uuid.uuid4().hex[:6]}"
    local_node.create_namespace(namespace)
    run = pod_manifest("once", TASK_IMAGE, command=["python", "-c", "import socket; print(socket.gethostbyname('kubernetes.default'))"])
    local_node.kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(run))
    local_node.kubectl("wait", "-n", namespace, "pod/once", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=60s")
    assert HostState.read().added_since(without), "cluster-up added nothing to the host: is the node running?"

    script(CLUSTER_DOWN_SCRIPT)
    after = HostState.read()
    assert after.added_since(without) == {}, "left behind by cluster-down"
    assert without.added_since(after) == {}, "removed or changed by cluster-up + cluster-down (restored wrongly)"

    script(CLUSTER_UP_SCRIPT)  # leave a running cluster, as found
