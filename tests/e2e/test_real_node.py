"""Containers really run: the task image's pods print, are limited, and reach Services and the API.

Where the cluster is the local control plane's real node (hack/cluster/node) these also check the
node itself: the kubelet and containerd built and configured here, registered with the node's own
certificate under the Node authorizer and NodeRestriction. On kind the container tests run as they
are; on simulated nodes (KWOK) they skip, since no container runs there.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.lib.cluster.local_node import TASK_IMAGE, is_local_node, kubelet_kubeconfig, setting
from tests.lib.cluster.one_off_pods import pod_manifest, run_to_end
from tests.lib.cluster.target import ClusterTarget, local_component_args, local_component_executable

KUBE_VERSION = "v1.35.8"


@pytest.fixture(scope="module")
def namespace(running_containers: ClusterTarget, restricted_namespace: str) -> str:
    """A namespace enforcing the restricted standard, where containers really run."""
    return restricted_namespace


@pytest.fixture(scope="module")
def local_node(cluster_target: ClusterTarget) -> ClusterTarget:
    if not is_local_node(cluster_target):
        pytest.skip("the cluster under test is not the local control plane's real node (kind, KWOK or a user's cluster)")
    return cluster_target


def test_task_image_pod_runs_in_a_restricted_namespace_and_its_log_is_served(
    running_containers: ClusterTarget, namespace: str
) -> None:
    end = run_to_end(running_containers, namespace, pod_manifest("task", TASK_IMAGE, args=["--partition", "2028-02"]))
    assert end.phase == "Succeeded" and end.terminated["exitCode"] == 0, end
    # docker/task-example computes this: February of a leap year.
    assert "processed partition 2028-02: 29 rows" in end.logs, end.logs


def test_a_pod_over_its_memory_limit_is_oom_killed(running_containers: ClusterTarget, namespace: str) -> None:
    grab = ["python", "-c", "block = bytearray(256 * 1024 * 1024); print('allocated', len(block))"]
    end = run_to_end(running_containers, namespace, pod_manifest("hog", TASK_IMAGE, command=grab, memory="64Mi"))
    assert end.phase == "Failed", end
    assert (end.terminated["reason"], end.terminated["exitCode"]) == ("OOMKilled", 137), end.terminated
    assert "allocated" not in end.logs


def test_a_pod_reaches_a_service_by_its_dns_name(running_containers: ClusterTarget, namespace: str) -> None:
    web = pod_manifest("web", TASK_IMAGE, command=["python", "-m", "http.server", "8000", "--directory", "/app"],
                       labels={"app": "web"}, restart="Always", ready_port=8000)  # fmt: skip
    running_containers.kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(web))
    running_containers.kubectl("expose", "pod", "web", "-n", namespace, "--port", "80", "--target-port", "8000")
    running_containers.kubectl("wait", "-n", namespace, "pod/web", "--for=condition=Ready", "--timeout=60s")
    # kube-proxy programs a new Service within a second or so: retry refused connections briefly.
    fetch = ("import sys, time, urllib.request\n"
             "for url in sys.argv[1:]:\n"
             "    for attempt in range(30):\n"
             "        try:\n"
             "            body = urllib.request.urlopen(url, timeout=10).read().decode()\n"
             "            break\n"
             "        except OSError:\n"
             "            time.sleep(0.5)\n"
             "    print(url, 'task_example.py' in body)\n")  # fmt: skip
    urls = [f"http://web.{namespace}/", f"http://web.{namespace}.svc.{setting('CLUSTER_DOMAIN') or 'cluster.local'}/"]
    end = run_to_end(running_containers, namespace, pod_manifest("client", TASK_IMAGE, command=["python", "-c", fetch, *urls]))
    assert end.phase == "Succeeded", end
    assert end.logs.split() == [urls[0], "True", urls[1], "True"], end.logs


def test_a_pod_calls_the_api_server_through_the_kubernetes_service_with_its_token(
    running_containers: ClusterTarget, namespace: str
) -> None:
    target = running_containers
    target.kubectl("create", "serviceaccount", "reader", "-n", namespace)
    target.kubectl("create", "role", "pod-reader", "-n", namespace, "--verb=list", "--resource=pods")
    target.kubectl("create", "rolebinding", "pod-reader", "-n", namespace, "--role=pod-reader",
                   f"--serviceaccount={namespace}:reader")  # fmt: skip
    call = ("import ssl, sys, urllib.request, urllib.error\n"
            "sa = '/var/run/secrets/kubernetes.io/serviceaccount/'\n"
            "context = ssl.create_default_context(cafile=sa + 'ca.crt')\n"
            "token = open(sa + 'token').read()\n"
            "for kind in ('pods', 'secrets'):\n"
            "    url = f'https://kubernetes.default.svc/api/v1/namespaces/{sys.argv[1]}/{kind}'\n"
            "    request = urllib.request.Request(url, headers={'Authorization': 'Bearer ' + token})\n"
            "    try:\n"
            "        print(kind, urllib.request.urlopen(request, context=context, timeout=10).status)\n"
            "    except urllib.error.HTTPError as err:\n"
            "        print(kind, err.code)\n")  # fmt: skip
    manifest = pod_manifest("caller", TASK_IMAGE, command=["python", "-c", call, namespace], service_account="reader")
    end = run_to_end(target, namespace, manifest)
    assert end.phase == "Succeeded", end
    # The CA and TLS name check passed, the token authenticated, and RBAC decided each call.
    assert end.logs.split() == ["pods", "200", "secrets", "403"], end.logs


def test_the_node_runs_the_kubelet_and_containerd_built_and_configured_here(local_node: ClusterTarget) -> None:
    node = local_node.kubectl_json("get", "node", setting("NODE_NAME"))
    info = node["status"]["nodeInfo"]
    assert info["kubeletVersion"] == KUBE_VERSION and info["kubeProxyVersion"] in ("", KUBE_VERSION), info
    assert info["containerRuntimeVersion"].startswith("containerd://"), info
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True", ready
    assert "kwok.x-k8s.io/node" not in node["metadata"].get("annotations", {})
    pid_dir = Path(setting("NODE_RUN")) / "pids"
    bin_dir = local_component_executable("kube-apiserver").parent
    for daemon in ("kubelet", "kube-proxy"):
        pid = (pid_dir / f"{daemon}.pid").read_text().strip()
        assert Path(f"/proc/{pid}/exe").resolve() == bin_dir / daemon


def test_the_kubelet_is_its_node_under_the_node_authorizer_and_node_restriction(
    local_node: ClusterTarget, tmp_path: Path
) -> None:
    name = setting("NODE_NAME")
    kubelet = ClusterTarget(kubelet_kubeconfig(), simulated=False)
    user = kubelet.kubectl_json("auth", "whoami")["status"]["userInfo"]
    assert user["username"] == f"system:node:{name}" and "system:nodes" in user["groups"], user

    # The API server runs with both, and with no authorizer that would allow everything.
    args = local_component_args("kube-apiserver")
    assert "--authorization-mode=Node,RBAC" in args, args
    assert any(a.startswith("--enable-admission-plugins=") and "NodeRestriction" in a for a in args), args
    assert not any("AlwaysAllow" in a for a in args), args

    # Node authorizer: another node's object and arbitrary Secrets are not the kubelet's business.
    other = f"not-{name}-{uuid.uuid4().hex[:6]}"
    local_node.kubectl("create", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "Node", "metadata": {"name": other}}))
    try:
        denied = kubelet.kubectl("label", "node", other, "touched=yes", check=False)
        assert denied.returncode != 0 and "Forbidden" in denied.stderr, denied.stderr
    finally:
        local_node.kubectl("delete", "node", other, "--wait=false", check=False)
    secrets = kubelet.kubectl("get", "secrets", "-n", "kube-system", check=False)
    assert secrets.returncode != 0 and "Forbidden" in secrets.stderr, secrets.stderr
    # NodeRestriction: even on its own Node, the node-restriction label prefix is off limits.
    restricted = kubelet.kubectl("label", "node", name, "node-restriction.kubernetes.io/pool=x", check=False)
    assert restricted.returncode != 0 and "is not allowed to modify labels" in restricted.stderr, restricted.stderr
