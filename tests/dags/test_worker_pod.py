"""The KubernetesExecutor worker pod of the seed task: the chart's pod template plus the task's pod_override.

Merged by the provider's own code (`PodGenerator.construct_pod`, what the executor calls), from the
pod template the dev values render into the chart's ConfigMap.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.lib.conformance import k8s_schema, pss
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import worker_pod_template
from tests.lib.render.helm_template import NAMESPACE, render

DAG_ID = "kubernetes-dag"
TASK_ID = "kubernetespodoperator"


@pytest.fixture(scope="module")
def template() -> dict:
    return worker_pod_template(render(scenarios.DEV))


@pytest.fixture(scope="module")
def worker_pod(dags, template) -> dict:
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator
    from kubernetes.client import ApiClient

    task = dags[DAG_ID].get_task(TASK_ID)
    (base,) = [c for c in template["spec"]["containers"] if c["name"] == "base"]
    pod = PodGenerator.construct_pod(
        dag_id=DAG_ID,
        task_id=TASK_ID,
        pod_id="kubernetes-dag-kubernetespodoperator",
        try_number=1,
        kube_image=base["image"],
        date=datetime(2026, 1, 1, 16, 5, tzinfo=timezone.utc),
        args=["airflow", "tasks", "run", DAG_ID, TASK_ID],  # stands in for the executor's command
        pod_override_object=task.executor_config["pod_override"],
        base_worker_pod=PodGenerator.deserialize_model_dict(template),
        namespace=NAMESPACE,
        scheduler_job_id="1",
        run_id="scheduled__2026-01-01T16:05:00+00:00",
    )
    return ApiClient().sanitize_for_serialization(pod)


def _base(pod: dict) -> dict:
    (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    return base


def test_worker_pod_carries_the_overridden_resources(worker_pod):
    assert _base(worker_pod)["resources"] == {
        "requests": {"cpu": "4", "memory": "32Gi", "ephemeral-storage": "256Mi"},
        "limits": {"cpu": "8", "memory": "64Gi", "ephemeral-storage": "9Gi"},
    }


def test_the_override_keeps_the_charts_disk_request_and_limit(template, worker_pod):
    # The override replaces the whole resources map: without these the worker pod would have no disk limit.
    for part in ("requests", "limits"):
        assert _base(worker_pod)["resources"][part]["ephemeral-storage"] == _base(template)["resources"][part]["ephemeral-storage"]


def test_the_override_changed_the_templates_resources(template, worker_pod):
    """The chart's template has its own worker resources, so the assertion above is the override's doing."""
    assert _base(template).get("resources") != _base(worker_pod)["resources"]


def test_worker_pod_keeps_the_templates_identity_and_security(template, worker_pod):
    spec = worker_pod["spec"]
    assert spec["serviceAccountName"] == template["spec"]["serviceAccountName"]
    assert spec.get("securityContext") == template["spec"].get("securityContext")
    assert _base(worker_pod).get("securityContext") == _base(template).get("securityContext")


def test_worker_pod_satisfies_the_restricted_standard(worker_pod):
    assert pss.check_pod(worker_pod["spec"], worker_pod["metadata"]) == []


def test_worker_pod_matches_the_kubernetes_schema(worker_pod):
    assert k8s_schema.validate(worker_pod, k8s_schema.SUPPORTED_VERSIONS[-1]) == []
