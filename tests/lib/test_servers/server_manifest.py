"""The objects of an in-cluster test server, written once for all of them (external_db, object_store,
git_server, prometheus_server): each module describes its server in a `ServerSpec`, and
`server_objects` turns that into its Service and Deployment (and a ServiceAccount where it has one).

What every server shares is fixed here rather than in the specs: one replica; the `app: <name>` label
on everything, which the Service selects; the image pulled only if it is not on the node (the tests'
images are loaded into it); a pod that meets the restricted Pod Security Standard (non-root as the
spec's uid, RuntimeDefault seccomp, no privilege escalation, every capability dropped); no
ServiceAccount token unless the server reads the API; a readiness probe every READINESS_PERIOD_S, so
a test waits for a server seconds, not a default ten-second period at a time.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from tests.lib.cluster.target import ClusterTarget

READINESS_PERIOD_S = 2


@dataclass(frozen=True)
class Port:
    name: str
    port: int  # the Service's
    container_port: int = 0  # the container's, when it differs from the Service's

    @property
    def target(self) -> int:
        return self.container_port or self.port


@dataclass(frozen=True)
class Volume:
    """One volume of the pod and where the container mounts it. `source` is its Kubernetes volume
    source: an emptyDir unless given ({"secret": {...}}, {"configMap": {...}})."""

    name: str
    mount_path: str
    source: dict[str, Any] = field(default_factory=lambda: {"emptyDir": {}})
    read_only: bool = False


@dataclass(frozen=True)
class ServerSpec:
    name: str  # of the Service and the Deployment, and their `app` label
    image: str
    uid: int  # runAsUser and runAsGroup of the pod
    ports: tuple[Port, ...]
    readiness: dict[str, Any]  # the probe's handler: {"tcpSocket": ...}, {"httpGet": ...} or {"exec": ...}
    requests: tuple[str, str]  # (cpu, memory)
    limits: tuple[str, str]  # (cpu, memory)
    container: str = ""  # the container's name, when it differs from the server's
    args: tuple[str, ...] = ()
    env: tuple[dict[str, Any], ...] = ()  # Kubernetes env entries: `literal` and `from_secret` make them
    volumes: tuple[Volume, ...] = ()  # mounted in this order
    fs_group: bool = True  # the volumes group-owned by the uid (fsGroup)
    read_only_root: bool = True  # readOnlyRootFilesystem
    recreate: bool = True  # the Deployment's strategy Recreate: never two pods writing the same data
    # A ServiceAccount of its own, its token mounted, for a server that reads the API; else no token.
    service_account: bool = False


def literal(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def from_secret(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _labelled(spec: ServerSpec) -> dict[str, Any]:
    return {"name": spec.name, "labels": {"app": spec.name}}


def _container(spec: ServerSpec) -> dict[str, Any]:
    container: dict[str, Any] = {"name": spec.container or spec.name, "image": spec.image,
                                 "imagePullPolicy": "IfNotPresent"}  # fmt: skip
    if spec.args:
        container["args"] = list(spec.args)
    if spec.env:
        container["env"] = [dict(entry) for entry in spec.env]
    container["ports"] = [{"name": p.name, "containerPort": p.target} for p in spec.ports]
    container["readinessProbe"] = {**spec.readiness, "periodSeconds": READINESS_PERIOD_S}
    security: dict[str, Any] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    if spec.read_only_root:
        security["readOnlyRootFilesystem"] = True
    container["securityContext"] = security
    (cpu, memory), (cpu_limit, memory_limit) = spec.requests, spec.limits
    container["resources"] = {"requests": {"cpu": cpu, "memory": memory},
                              "limits": {"cpu": cpu_limit, "memory": memory_limit}}  # fmt: skip
    if spec.volumes:
        container["volumeMounts"] = [{"name": v.name, "mountPath": v.mount_path} | ({"readOnly": True} if v.read_only else {})
                                     for v in spec.volumes]  # fmt: skip
    return container


def _pod(spec: ServerSpec) -> dict[str, Any]:
    pod: dict[str, Any] = {"serviceAccountName": spec.name} if spec.service_account else {"automountServiceAccountToken": False}
    security: dict[str, Any] = {"runAsNonRoot": True, "runAsUser": spec.uid, "runAsGroup": spec.uid}
    if spec.fs_group:
        security["fsGroup"] = spec.uid
    pod["securityContext"] = {**security, "seccompProfile": {"type": "RuntimeDefault"}}
    pod["containers"] = [_container(spec)]
    if spec.volumes:
        pod["volumes"] = [{"name": v.name, **v.source} for v in spec.volumes]
    return pod


def server_objects(spec: ServerSpec) -> list[dict[str, Any]]:
    """The server's ServiceAccount (if it has one), Service and Deployment, as `kubectl apply` takes them."""
    objects: list[dict[str, Any]] = []
    if spec.service_account:
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": spec.name}})
    ports = [{"name": p.name, "port": p.port, "targetPort": p.target} for p in spec.ports]
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": _labelled(spec),
                    "spec": {"selector": {"app": spec.name}, "ports": ports}})  # fmt: skip
    deployment: dict[str, Any] = {"replicas": 1}
    if spec.recreate:
        deployment["strategy"] = {"type": "Recreate"}
    deployment["selector"] = {"matchLabels": {"app": spec.name}}
    deployment["template"] = {"metadata": {"labels": {"app": spec.name}}, "spec": _pod(spec)}
    objects.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _labelled(spec), "spec": deployment})
    return objects


def deploy(target: ClusterTarget, namespace: str, spec: ServerSpec, timeout_s: int) -> None:
    """Apply the server's objects in `namespace`; return once its Deployment has rolled out."""
    target.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(server_objects(spec), sort_keys=False))
    target.kubectl("rollout", "status", "-n", namespace, f"deployment/{spec.name}", f"--timeout={timeout_s}s")


@contextlib.contextmanager
def unreachable(target: ClusterTarget, namespace: str, spec: ServerSpec) -> Iterator[None]:
    """The server down, as its clients see it: its Service selects no pod, so every connection is
    refused (the server and its data stay, for after)."""
    patch = json.dumps({"spec": {"selector": {"app": f"{spec.name}-down"}}})
    target.kubectl("patch", "service", spec.name, "-n", namespace, "-p", patch)
    try:
        yield
    finally:
        patch = json.dumps({"spec": {"selector": {"app": spec.name}}})
        target.kubectl("patch", "service", spec.name, "-n", namespace, "-p", patch)
