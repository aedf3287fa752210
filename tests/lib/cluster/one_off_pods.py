"""Run one-off pods on a cluster and read back how they ended, as a user would with kubectl."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from tests.lib.cluster.target import ClusterTarget
from tests.lib.cluster.unstartable_pods import StuckPodCheck

# The restricted Pod Security Standard, met by every pod these helpers make.
RESTRICTED_POD = {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True}  # fmt: skip
FINISHED = ("Succeeded", "Failed")


def pod_manifest(name: str, image: str, *, command: list[str] | None = None, args: list[str] | None = None,
                 memory: str = "128Mi", service_account: str | None = None, labels: dict[str, str] | None = None,
                 restart: str = "Never", ready_port: int | None = None) -> dict[str, Any]:  # fmt: skip
    """A restricted pod with one container, requests and limits set; Ready once `ready_port` accepts."""
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": RESTRICTED_CONTAINER,
        "resources": {"requests": {"cpu": "50m", "memory": memory}, "limits": {"cpu": "500m", "memory": memory}},
    }
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    if ready_port is not None:
        container["readinessProbe"] = {"tcpSocket": {"port": ready_port}, "periodSeconds": 1}
    spec: dict[str, Any] = {"restartPolicy": restart, "securityContext": RESTRICTED_POD, "containers": [container],
                            "automountServiceAccountToken": service_account is not None}  # fmt: skip
    if service_account:
        spec["serviceAccountName"] = service_account
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}}, "spec": spec}


@dataclass(frozen=True)
class PodEnd:
    phase: str
    terminated: dict[str, Any]  # the container's terminated state: exitCode, reason, ...
    logs: str


def run_to_end(target: ClusterTarget, namespace: str, manifest: dict[str, Any], timeout: float = 120,
               expect_stuck_pods: bool = False) -> PodEnd:  # fmt: skip
    """Create the pod, wait until it has Succeeded or Failed, and return how, with its logs.

    Raises unstartable_pods.PodStuck within about a minute when the pod cannot be scheduled or
    started, unless `expect_stuck_pods`."""
    name = manifest["metadata"]["name"]
    target.kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))
    check = StuckPodCheck(target, (namespace,), "", f"waiting for pod {namespace}/{name} to finish")
    deadline = time.monotonic() + timeout
    while True:
        pod = target.kubectl_json("get", "pod", name, "-n", namespace)
        if pod["status"].get("phase") in FINISHED:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"pod {namespace}/{name} did not finish in {timeout} s: {pod['status']}")
        if not expect_stuck_pods:
            check.poll([pod])
        time.sleep(0.5)
    state = pod["status"]["containerStatuses"][0]["state"]
    logs = target.kubectl("logs", "-n", namespace, name, check=False).stdout
    return PodEnd(pod["status"]["phase"], state.get("terminated", {}), logs)
