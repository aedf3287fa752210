"""What the conformance gates look at: every values scenario's objects, and the DAG bundle's pods.

Row names of the scan table live here too, so every gate spells them the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.lib.conformance.pod_specs_in_manifests import PodSpec, embedded_pods
from tests.lib.dag_bundle.bundle_pods import dag_pods
from tests.lib.render import scenarios
from tests.lib.render.helm_template import NAMESPACE, render

SCENARIOS = scenarios.ALL
DAG_PODS_ROW = "dag-pods"
REJECTED_ROW = "wrong-values"


def chart_objects(scenario) -> list[dict[str, Any]]:
    """The rendered objects of one scenario (helm runs once per scenario per test session)."""
    return render(scenario).objects


def with_embedded_pods(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(label, object) for every object, plus each Pod manifest carried inside a ConfigMap."""
    found = []
    for obj in objects:
        label = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        found.append((label, obj))
        if obj.get("kind") == "ConfigMap":
            found += [(f"{label}[{key}]", pod) for key, pod in embedded_pods(obj)]
    return found


def as_applied(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as `helm install --namespace airflow` sends it: namespaced kinds get the release namespace."""
    obj = copy.deepcopy(obj)
    if obj.get("kind") not in CLUSTER_SCOPED_KINDS:
        obj.setdefault("metadata", {}).setdefault("namespace", NAMESPACE)
    return obj


CLUSTER_SCOPED_KINDS = frozenset({
    "ClusterRole", "ClusterRoleBinding", "Namespace", "PersistentVolume", "StorageClass", "PriorityClass",
    "CustomResourceDefinition", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
})


def dag_pod_objects() -> list[tuple[str, dict[str, Any]]]:
    """(dag_id.task_id[map_index], Pod object) for every pod the DAG bundle launches."""
    return [(p.label, p.pod) for p in dag_pods()]


def dag_pod_specs() -> list[PodSpec]:
    return [PodSpec(f"DAG pod {label}", pod.get("metadata") or {}, pod.get("spec") or {})
            for label, pod in dag_pod_objects()]
