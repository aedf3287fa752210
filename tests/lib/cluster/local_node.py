"""The local cluster's real node (hack/cluster/node): where its pieces are, and how to crash it.

The shell scripts own the names and places (hack/cluster/config.sh); this module asks them instead
of repeating them, so a test checks what the scripts really use.
"""

from __future__ import annotations

import os
import signal
import subprocess
from functools import cache
from pathlib import Path

from tests.lib.cluster.host_state import cluster_processes
from tests.lib.cluster.target import LOCAL_KUBECONFIG, ClusterTarget
from tests.lib.paths import REPO

CONFIG = REPO / "hack" / "cluster" / "config.sh"
IMAGES_SCRIPT = REPO / "hack" / "images" / "build.sh"
# The task image the bundle's pods run (docker/task-example): Debian's Python, sh, uid 10001.
TASK_IMAGE = "airflow-on-k8s/task-example:dev"


@cache
def setting(name: str) -> str:
    """One value of hack/cluster/config.sh (NODE_NAME, NODE_STATE, ...), as the scripts see it."""
    out = subprocess.run(["bash", "-c", f'source "{CONFIG}" && printf %s "${{{name}}}"'], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return out.stdout


def is_local_node(target: ClusterTarget) -> bool:
    """The cluster under test is the local control plane with the real node, not kind or KWOK."""
    if target.simulated or target.kubeconfig.resolve() != LOCAL_KUBECONFIG.resolve():
        return False
    nodes = target.kubectl_json("get", "nodes")["items"]
    return any(n["metadata"]["name"] == setting("NODE_NAME") for n in nodes)


def kubelet_kubeconfig() -> Path:
    return Path(setting("NODE_STATE")) / "pki" / "kubelet.kubeconfig"


def crash() -> list[str]:
    """Kill -9 every process of the local cluster, as the end of a session does; return what was killed.

    Control plane, node daemons, containerd's shims and every container's processes (found by their
    pod cgroups), plus the image builder's private dockerd if it runs.
    """
    killed = cluster_processes()
    pids = {int(line.split(" ", 1)[0]) for line in killed}
    for procs in Path("/sys/fs/cgroup/pids").glob("kubepods/**/cgroup.procs"):
        pids.update(int(pid) for pid in procs.read_text().split())
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return killed


def build_and_load_images(*names: str) -> subprocess.CompletedProcess[str]:
    """`make images` (the images values/dev.yaml runs, or those `names`): builds what changed and
    loads it into the node's containerd."""
    return subprocess.run([str(IMAGES_SCRIPT), *names], capture_output=True, text=True, timeout=3600)


# What the prod modules run besides the dev images: git-sync, the git server holding their DAGs, the
# S3 server storing their remote task logs, the statsd-exporter values/prod.yaml turns on and the
# Prometheus that scrapes it, and Keycloak, the identity provider people sign in through.
PROD_IMAGES = ("git-server", "git-sync", "s3-server", "statsd-exporter", "prometheus", "keycloak")


def network_policy_engine() -> str | None:
    """The NetworkPolicy engine on the local real node ("kube-router"), or None: the bridge CNI alone
    enforces nothing. cluster-up starts kube-router with the node unless NETWORK_POLICY_ENGINE=none,
    so it counts before the e2e fixture has brought the node up; kind and kwok clusters have none here."""
    found = subprocess.run(["pgrep", "-f", "airflow-on-k8s/cluster/kube-router-"], capture_output=True, text=True)
    if found.returncode == 0:
        return "kube-router"
    if os.environ.get("NETWORK_POLICY_ENGINE", "kube-router") == "none":
        return None
    from tests.lib.cluster.target import chosen_mode

    return "kube-router" if chosen_mode().split()[0] == "node" else None


NO_POLICY_ENGINE = (
    "no NetworkPolicy engine runs on the local node (the bridge CNI enforces nothing, so this would pass on an open "
    "network): the local real node runs kube-router unless NETWORK_POLICY_ENGINE=none; kind and kwok clusters here "
    "have no engine the tests can rely on"
)
