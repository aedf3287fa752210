"""The user's `make deploy-dev` release on the cluster the e2e tests use: paused while they run where
the node has no room for both, and brought back when the run ends.

On a node of fewer than SHARED_NODE_CPUS cores the release's CPU requests, the suite's two lanes of
installs and the seed DAG's 1-CPU task pod do not fit together: a task pod stays Pending
("Insufficient cpu") and the run waiting on it times out. Pausing scales the release's Deployments
and StatefulSet to zero; nothing is lost (the database keeps its volume, Secrets and history stay),
and the suite then has the node CI has. Each paused object keeps its replica count in the
PAUSED_REPLICAS annotation and MARKER names the cluster, so a run that was killed before it could
restore is restored by the next run's end (or by `make deploy-dev`, whose upgrade sets the replicas).
A run that ends while the one that paused is still going (an offline run beside an e2e run) leaves
the release paused: MARKER names the pausing process and its parent (the pytest-xdist controller).

E2E_DEV_RELEASE=keep leaves the release running on any node; E2E_DEV_RELEASE=pause pauses it on any.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.lib.cluster.target import ClusterTarget
from tests.lib.paths import ARTIFACTS

NAME = NAMESPACE = "airflow"  # what hack/deploy-dev.sh installs, and where
SHARED_NODE_CPUS = 4
PAUSED_REPLICAS = "airflow-on-k8s.dev/paused-replicas"
MARKER = ARTIFACTS / "dev-release-paused.json"
WORKLOADS = "deployments,statefulsets"
SELECTOR = f"app.kubernetes.io/instance={NAME}"


def workloads(target: ClusterTarget) -> list[dict]:
    return target.kubectl_json("get", WORKLOADS, "-n", NAMESPACE, "-l", SELECTOR)["items"]


def why_pause(target: ClusterTarget, choice: str | None = None) -> str | None:
    """Why the release should be paused for this run, or None to leave it running."""
    choice = (os.environ.get("E2E_DEV_RELEASE", "") if choice is None else choice).strip()
    if choice not in ("", "keep", "pause"):
        raise ValueError(f"E2E_DEV_RELEASE is {choice!r}: set it to keep or pause, or leave it unset")
    if choice == "keep" or not workloads(target):
        return None
    if choice == "pause":
        return "E2E_DEV_RELEASE=pause"
    cpus = sum(cpu_cores(n["status"]["allocatable"]["cpu"]) for n in target.kubectl_json("get", "nodes")["items"])
    if cpus < SHARED_NODE_CPUS:
        return f"the cluster has {cpus:g} allocatable CPUs, fewer than the {SHARED_NODE_CPUS} the release and the suite need together"
    return None


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ("2", "1500m") in cores."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def pause(target: ClusterTarget, reason: str) -> list[str]:
    """Scale the release's workloads to zero, each remembering its replicas; the names paused now.
    Idempotent: an object already paused (by this run's other lane, or a run that was killed) keeps
    the count it had before the first pause."""
    MARKER.parent.mkdir(parents=True, exist_ok=True)
    MARKER.write_text(json.dumps({"kubeconfig": str(target.kubeconfig), "reason": reason,
                                  "paused_by": [os.getpid(), os.getppid()]}) + "\n")  # fmt: skip
    paused = []
    for obj in workloads(target):
        name = f"{obj['kind'].lower()}/{obj['metadata']['name']}"
        if PAUSED_REPLICAS in obj["metadata"].get("annotations", {}):
            continue
        replicas = obj["spec"].get("replicas", 1)
        target.kubectl("annotate", "-n", NAMESPACE, name, f"{PAUSED_REPLICAS}={replicas}")
        target.kubectl("scale", "-n", NAMESPACE, name, "--replicas=0")
        paused.append(name)
    return paused


def another_run_is_pausing(paused_by: list[int]) -> bool:
    """Whether the run that paused (a process and its parent) is still going and is not this one."""
    if os.getpid() in paused_by:
        return False
    return any(Path(f"/proc/{pid}").exists() for pid in paused_by if pid > 1)


def restore(marker: Path = MARKER) -> list[str]:
    """Bring back what pause() scaled down on the cluster the marker names; the names restored. The
    release's pods start in the background: the run does not wait for them."""
    if not marker.exists():
        return []
    paused = json.loads(marker.read_text())
    if another_run_is_pausing(paused.get("paused_by", [])):
        return []
    target = ClusterTarget(kubeconfig=Path(paused["kubeconfig"]), simulated=False)
    restored = []
    if target.kubeconfig.exists() and target.kubectl("get", "namespace", NAMESPACE, check=False).returncode == 0:
        for obj in workloads(target):
            replicas = obj["metadata"].get("annotations", {}).get(PAUSED_REPLICAS)
            if replicas is None:
                continue
            name = f"{obj['kind'].lower()}/{obj['metadata']['name']}"
            target.kubectl("scale", "-n", NAMESPACE, name, f"--replicas={replicas}")
            target.kubectl("annotate", "-n", NAMESPACE, name, f"{PAUSED_REPLICAS}-")
            restored.append(name)
    marker.unlink()
    return restored
