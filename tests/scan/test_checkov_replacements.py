"""Narrow replacements for the checkov checks skipped in hack/checkov/config.yaml (see each comment there).

checkov asks for probes, no ServiceAccount token and a NetworkPolicy on *every* pod; these tests ask
for them exactly where they matter, so the skips give nothing away.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lib.conformance.label_selectors import selects
from tests.lib.conformance.pod_specs_in_manifests import PodSpec, pod_specs
from tests.lib.conformance.rbac import effective_permissions
from tests.lib.conformance.scan_targets import DAG_PODS_ROW, SCENARIOS, chart_objects, dag_pod_objects, dag_pod_specs
from tests.lib.render.helm_template import NAMESPACE

SCAN_CHECK = "checkov"
LONG_RUNNING = ("Deployment/", "StatefulSet/", "DaemonSet/")


def _token_mounted(pod: PodSpec, service_accounts: dict[str, dict[str, Any]], namespace: str) -> tuple[bool, str]:
    name = pod.spec.get("serviceAccountName") or "default"
    account = service_accounts.get(f"{namespace}/{name}", {})
    for setting in (pod.spec.get("automountServiceAccountToken"), account.get("automountServiceAccountToken")):
        if setting is not None:
            return setting, f"{namespace}/{name}"
    return True, f"{namespace}/{name}"  # Kubernetes mounts the token unless told not to


def _token_problems(pods: list[tuple[PodSpec, str]], objects: list[dict[str, Any]]) -> list[str]:
    permissions = effective_permissions(objects, default_namespace=NAMESPACE)
    accounts = {f"{(o['metadata'].get('namespace') or NAMESPACE)}/{o['metadata']['name']}": o
                for o in objects if o.get("kind") == "ServiceAccount"}
    problems = []
    for pod, namespace in pods:
        mounted, account = _token_mounted(pod, accounts, namespace)
        if mounted and not permissions.get(account):
            problems.append(f"{pod.origin} mounts the token of {account}, which has no RBAC permission; "
                            "set automountServiceAccountToken: false")
    return problems


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_service_account_token_only_where_the_api_is_used(scenario):  # replaces CKV_K8S_38
    objects = chart_objects(scenario)
    pods = [(p, NAMESPACE) for p in pod_specs(objects)]
    problems = _token_problems(pods, objects)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("row", [DAG_PODS_ROW])
def test_dag_pods_mount_no_token(row):  # replaces CKV_K8S_38; task pods never call the Kubernetes API
    pods = [(spec, (pod.get("metadata") or {}).get("namespace") or NAMESPACE)
            for spec, (_, pod) in zip(dag_pod_specs(), dag_pod_objects())]
    problems = _token_problems(pods, [])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_long_running_servers_have_probes(scenario):  # replaces CKV_K8S_8 and CKV_K8S_9
    objects = chart_objects(scenario)
    services = [o for o in objects if o.get("kind") == "Service"]
    problems = []
    for pod in pod_specs(objects):
        labels = pod.metadata.get("labels") or {}
        behind_service = any(selects(s["spec"].get("selector"), labels) for s in services)
        for container in pod.spec.get("containers") or []:
            where = f"{pod.origin} container {container['name']}"
            if pod.origin.startswith(LONG_RUNNING) and "livenessProbe" not in container:
                problems.append(f"{where}: a long-running container needs a livenessProbe")
            if behind_service and container.get("ports") and "readinessProbe" not in container:
                problems.append(f"{where}: serves a Service port but has no readinessProbe")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_every_pod_is_selected_by_a_network_policy(scenario):  # replaces CKV2_K8S_6
    objects = chart_objects(scenario)
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    if not policies:
        pytest.skip(f"{scenario.name} renders no NetworkPolicy (networkPolicies.enabled is false)")
    unselected = [pod.origin for pod in pod_specs(objects)
                  if not any(selects(p["spec"].get("podSelector"), pod.metadata.get("labels") or {})
                             for p in policies)]
    assert not unselected, f"pods no NetworkPolicy selects: {unselected}"
