"""The scheduler: runs the KubernetesExecutor, which starts one pod per task from the pod template."""

from __future__ import annotations

import hashlib

import pytest

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    init_containers,
    mounts,
    pod_annotations,
    pod_spec,
    volumes,
)
from tests.lib.render.helm_template import render
from tests.lib.render.startup_scripts import ENTRY


class TestScheduler:
    def test_runs_the_scheduler_with_its_own_service_account_and_token(self):
        deployment = render(scenarios.DEFAULT).get("Deployment", "airflow-scheduler")
        assert containers(deployment)["scheduler"]["args"] == ["airflow", "scheduler"]
        spec = pod_spec(deployment)
        assert spec["serviceAccountName"] == "airflow-scheduler"
        assert spec["automountServiceAccountToken"] is True  # the executor calls the Kubernetes API

    def test_mounts_the_worker_pod_template_where_the_config_points(self):
        rendered = render(scenarios.DEFAULT)
        deployment = rendered.get("Deployment", "airflow-scheduler")
        template_file = airflow_cfg(rendered)["kubernetes_executor"]["pod_template_file"]
        folder, filename = template_file.rsplit("/", 1)
        mount = mounts(containers(deployment)["scheduler"])[folder]
        volume = volumes(deployment)[mount["name"]]
        if "emptyDir" in volume:  # workers.deleteWithRelease: an init container writes it from the ConfigMap
            writer = init_containers(deployment)["own-worker-pods"]
            assert writer["args"][-1] == template_file
            volume = volumes(deployment)[mounts(writer)[writer["args"][-2].rsplit("/", 1)[0]]["name"]]
        config_map = volume["configMap"]["name"]
        assert config_map == "airflow-pod-template"
        assert filename in rendered.get("ConfigMap", config_map)["data"]

    def test_launches_worker_pods_in_the_release_namespace(self):
        assert airflow_cfg(render(scenarios.DEFAULT))["kubernetes_executor"]["namespace"] == "airflow"

    def test_liveness_uses_the_scheduler_health_server_the_config_enables(self):
        rendered = render(scenarios.DEFAULT)
        container = containers(rendered.get("Deployment", "airflow-scheduler"))["scheduler"]
        assert airflow_cfg(rendered)["scheduler"]["enable_health_check"] == "True"
        assert {"name": "health", "containerPort": 8974} in container["ports"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"] == {"path": "/health", "port": "health"}

    def test_rolls_when_the_pod_template_changes(self):
        rendered = render(scenarios.DEFAULT)
        text = rendered.get("ConfigMap", "airflow-pod-template")["data"]["pod_template_file.yaml"]
        checksum = pod_annotations(rendered.get("Deployment", "airflow-scheduler"))["checksum/pod-template"]
        assert checksum == hashlib.sha256(text.encode()).hexdigest()
        other = render(scenarios.GITSYNC_HTTPS).get("Deployment", "airflow-scheduler")
        assert pod_annotations(other)["checksum/pod-template"] != checksum

    def test_waits_for_migrations(self):
        waiter = init_containers(render(scenarios.DEFAULT).get("Deployment", "airflow-scheduler"))["wait-for-migrations"]
        assert waiter["args"][:2] == ["python", ENTRY] and waiter["args"][2] == "wait-for-migrations"

    @pytest.mark.parametrize("scenario,pdb", [(scenarios.DEFAULT, False), (scenarios.REPLICATED, True)], ids=["1", "2"])
    def test_pdb_only_when_replicated(self, scenario, pdb):
        assert (render(scenario).maybe("PodDisruptionBudget", "airflow-scheduler") is not None) is pdb

    def test_network_policy_admits_nothing(self):
        policy = render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", "airflow-scheduler")
        assert policy["spec"]["policyTypes"] == ["Ingress"] and policy["spec"]["ingress"] == []
