"""Every pod spec inside a list of rendered Kubernetes objects.

Workloads carry a pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob), hook
pods are bare Pods, and the KubernetesExecutor's worker pod template travels as YAML text inside a
ConfigMap. All of them end up as pods on a node, so all of them face the same gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import yaml

TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController")


@dataclass(frozen=True)
class PodSpec:
    origin: str  # e.g. "Deployment/airflow-scheduler" or "ConfigMap/airflow-pod-template[pod_template_file.yaml]"
    metadata: dict[str, Any]  # the pod's metadata (labels, annotations)
    spec: dict[str, Any]


def embedded_pods(config_map: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(data key, Pod object) for every ConfigMap data value that is a Pod manifest."""
    found = []
    for key, text in (config_map.get("data") or {}).items():
        if not isinstance(text, str) or "kind:" not in text:
            continue
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            continue  # not YAML at all (e.g. an airflow.cfg); cannot be a pod
        if isinstance(doc, dict) and doc.get("kind") == "Pod":
            found.append((key, doc))
    return found


def pod_specs(objects: Iterable[dict[str, Any]]) -> list[PodSpec]:
    found: list[PodSpec] = []
    for obj in objects:
        kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name", "?")
        origin = f"{kind}/{name}"
        if kind == "Pod":
            found.append(PodSpec(origin, obj.get("metadata") or {}, obj.get("spec") or {}))
        elif kind in TEMPLATE_KINDS:
            template = obj["spec"]["template"]
            found.append(PodSpec(origin, template.get("metadata") or {}, template.get("spec") or {}))
        elif kind == "CronJob":
            template = obj["spec"]["jobTemplate"]["spec"]["template"]
            found.append(PodSpec(origin, template.get("metadata") or {}, template.get("spec") or {}))
        elif kind == "ConfigMap":
            for key, pod in embedded_pods(obj):
                found.append(PodSpec(f"{origin}[{key}]", pod.get("metadata") or {}, pod.get("spec") or {}))
    return found
