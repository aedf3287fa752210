"""Airflow's own hooks given in values: airflow_local_settings.py in every Airflow container and worker
pod, the api-server's webserver_config.py (scenario `local-settings`)."""

from __future__ import annotations

import types

import pytest
from kubernetes.client import ApiClient
from kubernetes.client import models as k8s

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    containers,
    mounts,
    pod_annotations,
    worker_pod_as_executor_builds,
    worker_pod_template,
)
from tests.lib.render.helm_template import Rendered, render

LOCAL_SETTINGS = "/opt/airflow/config/airflow_local_settings.py"
AIRFLOW_CONTAINERS = {("Deployment", "airflow-scheduler"): "scheduler", ("Deployment", "airflow-api-server"): "api-server",
                      ("Deployment", "airflow-dag-processor"): "dag-processor", ("Deployment", "airflow-triggerer"): "triggerer",
                      ("Job", "airflow-run-migrations"): "run-migrations"}  # fmt: skip


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return render(scenarios.LOCAL_SETTINGS)


def local_settings_module(rendered: Rendered) -> types.ModuleType:
    """The rendered airflow_local_settings.py, imported as Airflow imports it."""
    module = types.ModuleType("airflow_local_settings")
    source = rendered.get("ConfigMap", "airflow-config")["data"]["airflow_local_settings.py"]
    exec(compile(source, "airflow_local_settings.py", "exec"), module.__dict__)
    return module


def test_every_airflow_container_and_the_worker_pod_read_the_local_settings(rendered: Rendered):
    for (kind, name), container in AIRFLOW_CONTAINERS.items():
        mount = mounts(containers(rendered.get(kind, name))[container])[LOCAL_SETTINGS]
        assert mount == {"name": "config", "mountPath": LOCAL_SETTINGS, "subPath": "airflow_local_settings.py",
                         "readOnly": True}, name  # fmt: skip
    (base,) = [c for c in worker_pod_template(rendered)["spec"]["containers"] if c["name"] == "base"]
    assert LOCAL_SETTINGS in mounts(base)
    assert LOCAL_SETTINGS not in mounts(containers(render(scenarios.DEFAULT).get("Deployment", "airflow-scheduler"))["scheduler"])


def test_the_pod_mutation_hook_labels_the_worker_pod_the_executor_builds(rendered: Rendered):
    # The KubernetesExecutor calls settings.pod_mutation_hook(pod) on each pod before creating it.
    pod = ApiClient()._ApiClient__deserialize(worker_pod_as_executor_builds(rendered), k8s.V1Pod)
    local_settings_module(rendered).pod_mutation_hook(pod)
    assert pod.metadata.labels["example.com/mutated-by"] == "airflow", "the source is templated, then applied"


def test_a_change_of_the_local_settings_rolls_the_components(rendered: Rendered):
    hooks = pod_annotations(rendered.get("Deployment", "airflow-scheduler"))["checksum/airflow-hooks"]
    assert len(hooks) == 64
    assert "checksum/airflow-hooks" not in pod_annotations(render(scenarios.DEFAULT).get("Deployment", "airflow-scheduler"))


def test_the_api_server_reads_its_webserver_config(rendered: Rendered):
    api_server = containers(rendered.get("Deployment", "airflow-api-server"))["api-server"]
    assert mounts(api_server)["/opt/airflow/webserver_config.py"]["name"] == "config"
    assert rendered.get("ConfigMap", "airflow-config")["data"]["webserver_config.py"].strip() == "AUTH_ROLE_PUBLIC = None"
    scheduler = containers(rendered.get("Deployment", "airflow-scheduler"))["scheduler"]
    assert "/opt/airflow/webserver_config.py" not in mounts(scheduler)
