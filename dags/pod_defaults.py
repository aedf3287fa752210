"""Defaults shared by every DAG and pod task in this bundle, so no DAG repeats them.

`default_args()` gives a DAG its task defaults (owner, retries, retry delay); `pod_kwargs()` gives a
pod task its pod settings. A DAG passes either only what differs, with a comment saying why.

Every pod built from these settings satisfies the Kubernetes *restricted* Pod Security Standard:
non-root user, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp — set at pod
level and on the main container, and on the XCom sidecar when a task pushes XComs. Beyond the
standard: a read-only root filesystem (tasks write to volumes: the XCom emptyDir, or the /tmp emptyDir
of `pod_kwargs(writable_tmp=True)`) and no ServiceAccount token (task pods never call the API server).

The DAG folder is on ``sys.path`` in Airflow, so DAG files import this as ``import pod_defaults``.
``.airflowignore`` keeps the DAG processor from parsing it as a DAG file.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from kubernetes.client import models as k8s

# Every DAG's task defaults before its own overrides, what most of the bundle's pattern DAGs use: owned
# by the platform team, one retry 2 minutes later. Read-only, so no DAG can change them for the others;
# `default_args()` hands each DAG a copy.
DEFAULT_ARGS: Mapping[str, Any] = MappingProxyType(
    {
        "owner": "platform",
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
    }
)


def default_args(**overrides: Any) -> dict[str, Any]:
    """A DAG's `default_args`: DEFAULT_ARGS with `overrides` on top, a new dict for each DAG.

    A DAG that does not retry (`retries=0`) gets no `retry_delay` unless it passes one: with no
    second try there is nothing to wait for.
    """
    merged = {**DEFAULT_ARGS, **overrides}
    if merged["retries"] == 0 and "retry_delay" not in overrides:
        del merged["retry_delay"]
    return merged


# A namespace the chart's RBAC lets workers launch pods in (`rbac.podLaunchNamespaces`).
NAMESPACE = "development"

# The example task image (docker/task-example); `make images` builds it and kind loads it.
TASK_IMAGE = "airflow-on-k8s/task-example:dev"

# The uid the task images run as (docker/task-example uses USER 10001); any non-zero uid passes
# the restricted standard. Every container of a pod, the XCom sidecar included, runs as this user,
# so the sidecar can read the result file the task writes; fsGroup makes volumes writable for it.
RUN_AS_USER = 10001
RUN_AS_GROUP = 10001

LABELS = {
    "app.kubernetes.io/part-of": "airflow-on-k8s",
    "app.kubernetes.io/component": "task",
}

_SECCOMP = k8s.V1SeccompProfile(type="RuntimeDefault")

POD_SECURITY_CONTEXT = k8s.V1PodSecurityContext(
    run_as_non_root=True,
    run_as_user=RUN_AS_USER,
    run_as_group=RUN_AS_GROUP,
    fs_group=RUN_AS_GROUP,
    seccomp_profile=_SECCOMP,
)

CONTAINER_SECURITY_CONTEXT = k8s.V1SecurityContext(
    run_as_non_root=True,
    run_as_user=RUN_AS_USER,
    allow_privilege_escalation=False,
    capabilities=k8s.V1Capabilities(drop=["ALL"]),
    seccomp_profile=_SECCOMP,
    read_only_root_filesystem=True,
)

# A writable /tmp for tasks that need one on the read-only root filesystem (e.g. @task.kubernetes,
# which writes its script there), sized so one task cannot fill the node's disk.
TMP_VOLUME = k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="64Mi"))
TMP_MOUNT = k8s.V1VolumeMount(name="tmp", mount_path="/tmp")


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> k8s.V1ResourceRequirements:
    """Container requests and limits; every pod task sets both so the scheduler can place it."""
    return k8s.V1ResourceRequirements(
        requests={"cpu": cpu_request, "memory": memory_request},
        limits={"cpu": cpu_limit, "memory": memory_limit},
    )


DEFAULT_RESOURCES = resources("100m", "128Mi", "500m", "256Mi")

# A Kubernetes quantity: digits with an optional decimal part and suffix (1, 500m, 1.5, 32Gi, 1e3).
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?([eE][0-9]+|[numkMGTPE]|[KMGTPE]i)?$")


# The worker pod's disk: the chart's default `workers.resources` ephemeral-storage (its emptyDirs' sum,
# charts/airflow/values.yaml). A pod_override that sets the worker's resources replaces the whole map,
# so one that sizes CPU and memory must carry these too, or the worker pod has no disk limit.
WORKER_EPHEMERAL_STORAGE = ("256Mi", "9Gi")


def with_worker_disk(sized: k8s.V1ResourceRequirements) -> k8s.V1ResourceRequirements:
    """`sized` plus the worker pod's ephemeral-storage request and limit (WORKER_EPHEMERAL_STORAGE)."""
    request, limit = WORKER_EPHEMERAL_STORAGE
    return k8s.V1ResourceRequirements(requests={**sized.requests, "ephemeral-storage": request},
                                      limits={**sized.limits, "ephemeral-storage": limit})  # fmt: skip


def sized_from_env(variable: str, default: tuple[str, str, str, str]) -> k8s.V1ResourceRequirements:
    """Requests and limits from environment variable `variable`, else `default`.

    The value is four comma-separated quantities, as `resources()` takes them:
    "cpu request,memory request,cpu limit,memory limit" (e.g. "500m,512Mi,1,1Gi"). It lets one DAG
    file size a pod for the cluster it runs on: the default is the production size; a small dev
    cluster sets the variable (values/dev.yaml does, for the DAG processor and the workers).
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return resources(*default)
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 4 or not all(_QUANTITY.match(p) for p in parts):
        raise ValueError(
            f"{variable}={value!r}: expected four comma-separated Kubernetes quantities "
            '"cpu request,memory request,cpu limit,memory limit", e.g. "500m,512Mi,1,1Gi"'
        )
    return resources(*parts)


# Where task pods may run, as the cluster says it: tolerations and a node selector in the worker's env
# (the chart's `workers.extraEnv`), as JSON in the Kubernetes API's own shape. A cluster whose nodes
# are all tainted sets the same toleration here as in the chart's global `tolerations`.
TOLERATIONS_ENV = "TASK_POD_TOLERATIONS"
NODE_SELECTOR_ENV = "TASK_POD_NODE_SELECTOR"
_TOLERATION_KEYS = {"key": "key", "operator": "operator", "value": "value", "effect": "effect",
                    "tolerationSeconds": "toleration_seconds"}  # fmt: skip


def _json_from_env(variable: str, kind: type, example: str) -> Any:
    value = os.environ.get(variable, "").strip()
    if not value:
        return kind()
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as err:
        raise ValueError(f"{variable} is not JSON ({err.msg} at character {err.pos}): expected e.g. {example}") from None
    if not isinstance(parsed, kind):
        raise ValueError(f"{variable} must be a JSON {'list' if kind is list else 'object'}, e.g. {example}")
    return parsed


def tolerations_from_env() -> list[k8s.V1Toleration]:
    """Task pod tolerations from TASK_POD_TOLERATIONS, a JSON list of Kubernetes tolerations; [] when unset."""
    example = '[{"key": "dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}]'
    tolerations = []
    for i, item in enumerate(_json_from_env(TOLERATIONS_ENV, list, example)):
        unknown = set(item) - set(_TOLERATION_KEYS) if isinstance(item, dict) else {"(not an object)"}
        if unknown:
            raise ValueError(f"{TOLERATIONS_ENV}[{i}] has {sorted(unknown)}: a toleration takes {sorted(_TOLERATION_KEYS)}")
        tolerations.append(k8s.V1Toleration(**{_TOLERATION_KEYS[k]: v for k, v in item.items()}))
    return tolerations


def node_selector_from_env() -> dict[str, str]:
    """Task pod node selector from TASK_POD_NODE_SELECTOR, a JSON object of node labels; {} when unset."""
    selector = _json_from_env(NODE_SELECTOR_ENV, dict, '{"example.com/pool": "airflow"}')
    if not all(isinstance(v, str) for v in selector.values()):
        raise ValueError(f"{NODE_SELECTOR_ENV} values must be strings (node label values)")
    return selector


def pod_kwargs(*, writable_tmp: bool = False, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for KubernetesPodOperator (or @task.kubernetes), with `overrides` on top.

    `writable_tmp` adds an emptyDir at /tmp to the task's own volumes. A fresh deep copy each call:
    the operator mutates some of these objects (labels, env) while building the pod, and tasks must
    never share them.
    """
    defaults: dict[str, Any] = {
        "namespace": NAMESPACE,
        "image": TASK_IMAGE,
        # Images loaded into kind are not in any registry: use the node's copy when present.
        "image_pull_policy": "IfNotPresent",
        "labels": LABELS,
        "security_context": POD_SECURITY_CONTEXT,
        "container_security_context": CONTAINER_SECURITY_CONTEXT,
        "xcom_sidecar_container_security_context": CONTAINER_SECURITY_CONTEXT,
        "container_resources": DEFAULT_RESOURCES,
        "automount_service_account_token": False,
        # Pods hold node resources; remove them when the task ends.
        "on_finish_action": "delete_pod",
        "get_logs": True,
        # Fail the attempt if the pod is not running within 5 minutes (e.g. image cannot be pulled).
        "startup_timeout_seconds": 300,
    }
    if tolerations := tolerations_from_env():
        defaults["tolerations"] = tolerations
    if node_selector := node_selector_from_env():
        defaults["node_selector"] = node_selector
    merged = {**defaults, **overrides}
    if "labels" in overrides:
        merged["labels"] = {**LABELS, **overrides["labels"]}
    if writable_tmp:
        merged["volumes"] = [*merged.get("volumes", []), TMP_VOLUME]
        merged["volume_mounts"] = [*merged.get("volume_mounts", []), TMP_MOUNT]
    return copy.deepcopy(merged)
