"""The kind cluster `CLUSTER_MODE=kind make deploy-dev` makes, seen from this host: its Docker daemon,
its containers, networks and volumes, and whether Docker can run here at all.

The Docker daemon is the one hack/images/dockerd.sh names: the user's when `docker info` reaches one,
else the private daemon it runs as root on Linux (which kind's scripts start and leave running).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

from tests.lib.cluster.target import ClusterTarget
from tests.lib.paths import REPO

DOCKERD = REPO / "hack" / "images" / "dockerd.sh"
KIND_DIR = REPO / "hack" / "cluster" / "kind"
CLUSTER_NAME = "airflow-on-k8s"  # hack/cluster/kind/cluster.yaml
KUBECONFIG = REPO / ".kube" / "kind.yaml"  # where hack/cluster/kind/up.sh writes it
CLUSTER_LABEL = f"io.x-k8s.kind.cluster={CLUSTER_NAME}"  # kind labels its node containers so
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-on-k8s"
NODE_IMAGE_TIMES = CACHE / "kind" / "node-image-times.txt"  # node-image.sh: seconds per step, and total


class DockerUnavailable(RuntimeError):
    """No Docker daemon is reachable and the private one cannot run here; the message says why."""


def private_daemon_running() -> bool:
    return subprocess.run([str(DOCKERD), "status"], capture_output=True, timeout=60).returncode == 0


@functools.cache
def docker_env() -> dict[str, str]:
    """The environment for the docker CLI against the daemon kind uses: dockerd.sh's answer (the user's
    daemon, else the private one, started if need be). Raises DockerUnavailable with its reason."""
    started = subprocess.run([str(DOCKERD), "start"], capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        raise DockerUnavailable(started.stderr.strip().removeprefix("dockerd: "))
    value = started.stdout.strip().splitlines()[-1].removeprefix("DOCKER_HOST=")
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    return env | ({"DOCKER_HOST": value} if value else {})


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    # Debian's client for the private daemon (the API version it speaks), else the user's.
    client = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"
    return subprocess.run([client, *args], capture_output=True, text=True, timeout=120, env=docker_env())


def docker_lines(*args: str) -> set[str]:
    done = docker(*args)
    assert done.returncode == 0, done.stderr
    return {line for line in done.stdout.splitlines() if line.strip()}


def kind(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KIND_DIR / "kind.sh"), *args], capture_output=True, text=True, timeout=timeout)


def cluster_exists() -> bool:
    return CLUSTER_NAME in kind("get", "clusters").stdout.split()


def target() -> ClusterTarget:
    return ClusterTarget(kubeconfig=KUBECONFIG, simulated=False)


def is_kind(cluster: ClusterTarget) -> bool:
    """Whether `cluster`'s nodes are kind's (their provider ID says kind://)."""
    nodes = cluster.kubectl_json("get", "nodes")["items"]
    return any(n["spec"].get("providerID", "").startswith("kind://") for n in nodes)


def host_snapshot() -> dict[str, set[str]]:
    """What a kind cluster puts on this host and its daemon: containers, volumes, networks, and on the
    host the Docker networks' bridges with their veths and every mount under a Docker directory. (Not
    all links and mounts: the local cluster's pods come and go beside it.)"""
    links = json.loads(subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout)
    with open("/proc/self/mountinfo") as mountinfo:
        mounts = {line.split()[4] for line in mountinfo}
    return {
        "containers": docker_lines("ps", "-aq"),
        "volumes": docker_lines("volume", "ls", "-q"),
        "networks": docker_lines("network", "ls", "--format", "{{.Name}}"),
        "links": {
            link["ifname"]
            for link in links
            if link["ifname"].startswith("br-") or link.get("master", "").startswith("br-")
        },  # fmt: skip
        "mounts": {m for m in mounts if "docker" in m},
    }
