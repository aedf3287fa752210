"""The worker pod template the KubernetesExecutor starts every task from."""

from __future__ import annotations

import json

import pytest

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    env,
    mounts,
    secret_refs,
    worker_pod_as_executor_builds,
    worker_pod_template,
)
from tests.lib.render.helm_template import render


def _base(pod):
    return {c["name"]: c for c in pod["spec"]["containers"]}["base"]


class TestWorkerPodTemplate:
    def test_runs_as_the_worker_service_account_with_its_token_where_it_may_launch_pods(self):
        spec = worker_pod_template(render(scenarios.DEV))["spec"]
        assert spec["serviceAccountName"] == "airflow-worker"
        assert spec["automountServiceAccountToken"] is True  # KubernetesPodOperator calls the API
        # Granted nowhere (the default): DAG code holds no token; RBAC left to the user: it does.
        assert worker_pod_template(render(scenarios.DEFAULT))["spec"]["automountServiceAccountToken"] is False
        assert worker_pod_template(render(scenarios.NO_RBAC))["spec"]["automountServiceAccountToken"] is True
        assert spec["restartPolicy"] == "Never"

    def test_base_container_uses_the_airflow_image_and_worker_resources(self):
        rendered = render(scenarios.DEV)
        base = _base(worker_pod_template(rendered))
        assert base["image"] == "airflow-on-k8s/airflow:dev"
        assert base["imagePullPolicy"] == "IfNotPresent"
        # values/dev.yaml sets cpu and memory; ephemeral-storage stays the chart's.
        assert base["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "256Mi"},
                                     "limits": {"cpu": "1", "memory": "768Mi", "ephemeral-storage": "9Gi"}}

    def test_gets_airflow_cfg_but_no_server_secret(self):
        # Tasks reach Airflow through the execution API with a per-task token: no DB URL, fernet
        # key or JWT secret in the pod where user code runs.
        base = _base(worker_pod_template(render(scenarios.DEFAULT)))
        assert secret_refs(base) == {}
        assert mounts(base)["/opt/airflow/airflow.cfg"]["subPath"] == "airflow.cfg"
        assert env(base)["CONNECTION_CHECK_MAX_COUNT"]["value"] == "0"

    def test_sizes_the_xcom_sidecar_through_the_kubernetes_default_connection(self):
        # The provider reads the sidecar's resources only from this connection; with them, in_cluster
        # (what the hook would fall back to anyway) and nothing else.
        connection = json.loads(env(_base(worker_pod_template(render(scenarios.DEFAULT))))[
            "AIRFLOW_CONN_KUBERNETES_DEFAULT"]["value"])
        assert connection == {"conn_type": "kubernetes", "extra": {"in_cluster": True, "xcom_sidecar_container_resources": json.dumps(
            {"limits": {"cpu": "50m", "memory": "32Mi"}, "requests": {"cpu": "10m", "memory": "16Mi"}},
            separators=(",", ":"))}}

    def test_names_the_xcom_sidecar_image_in_the_same_connection_when_set(self):
        connection = json.loads(env(_base(worker_pod_template(render(scenarios.DEV))))[
            "AIRFLOW_CONN_KUBERNETES_DEFAULT"]["value"])
        # values/dev.yaml: the task image, which every cluster `make images` serves already has.
        assert connection["extra"]["xcom_sidecar_container_image"] == "airflow-on-k8s/task-example:dev"
        assert set(connection["extra"]) == {"in_cluster", "namespace", "xcom_sidecar_container_image",
                                            "xcom_sidecar_container_resources"}  # fmt: skip

    def test_a_task_naming_no_namespace_launches_in_the_first_granted_one_not_beside_airflow(self, monkeypatch):
        """Airflow's own KubernetesPodOperator, given the connection the worker pod gets: a task that
        names no namespace goes to the first of rbac.podLaunchNamespaces, where the worker may launch,
        not to the worker's own namespace (the release's), where it may not (decision 15)."""
        from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

        for scenario, expected in ((scenarios.DEV, "development"), (scenarios.MULTI_NAMESPACE, "development")):
            value = env(_base(worker_pod_template(render(scenario))))["AIRFLOW_CONN_KUBERNETES_DEFAULT"]["value"]
            monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", value)
            pod = KubernetesPodOperator(task_id="no-namespace", image="busybox").build_pod_request_obj(dry_run=True)
            assert pod.metadata.namespace == expected, scenario.name
        default = env(_base(worker_pod_template(render(scenarios.DEFAULT))))["AIRFLOW_CONN_KUBERNETES_DEFAULT"]["value"]
        assert "namespace" not in json.loads(default)["extra"]  # none granted: nothing to name

    def test_workers_reach_the_execution_api_of_the_api_server_service(self):
        url = airflow_cfg(render(scenarios.DEFAULT))["core"]["execution_api_server_url"]
        assert url == "http://airflow-api-server.airflow:8080/execution/"

    def test_git_sync_runs_once_as_an_init_container(self):
        pod = worker_pod_template(render(scenarios.GITSYNC_HTTPS))
        (init,) = pod["spec"]["initContainers"]
        assert init["name"] == "git-sync-init"
        assert env(init)["GITSYNC_ONE_TIME"]["value"] == "true"
        assert "livenessProbe" not in init
        assert mounts(_base(pod))["/opt/airflow/dags"]["readOnly"] is True

    def test_git_sync_trusts_a_private_ca_from_a_config_map(self):
        rendered = render(scenarios.GITSYNC_PRIVATE_CA)
        pod = worker_pod_template(rendered)
        sidecar = next(c for c in rendered.get("Deployment", "airflow-dag-processor")["spec"]["template"]["spec"]
                       ["containers"] if c["name"] == "git-sync")  # fmt: skip
        for container, volumes in ((pod["spec"]["initContainers"][0], pod["spec"]["volumes"]),
                                   (sidecar, rendered.get("Deployment", "airflow-dag-processor")["spec"]["template"]
                                    ["spec"]["volumes"])):  # fmt: skip
            assert env(container)["GITSYNC_GIT_CONFIG"]["value"] == "http.sslCAInfo:/etc/git-ca/ca.crt"
            assert mounts(container)["/etc/git-ca"] == {"name": "git-ca", "mountPath": "/etc/git-ca", "readOnly": True}
            assert {"name": "git-ca", "configMap": {"name": "git-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}} in volumes
        assert "GITSYNC_GIT_CONFIG" not in env(worker_pod_template(render(scenarios.GITSYNC_HTTPS))["spec"]["initContainers"][0])

    def test_dags_from_a_pvc_or_the_image(self):
        pvc = worker_pod_template(render(scenarios.PVC_DAGS))
        assert {"name": "dags", "persistentVolumeClaim": {"claimName": "airflow-dags"}} in pvc["spec"]["volumes"]
        baked = worker_pod_template(render(scenarios.DEFAULT))
        assert "initContainers" not in baked["spec"]
        assert "/opt/airflow/dags" not in mounts(_base(baked))


class TestWorkerPodAsTheExecutorBuildsIt:
    """The provider's own PodGenerator merges the template with the task's pod, as the scheduler does."""

    @pytest.fixture(scope="class")
    @classmethod
    def pod(cls):
        return worker_pod_as_executor_builds(render(scenarios.GITSYNC_HTTPS))

    def test_keeps_the_template_identity_and_security(self, pod):
        assert pod["spec"]["serviceAccountName"] == "airflow-worker"
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        base = _base(pod)
        assert base["securityContext"]["allowPrivilegeEscalation"] is False
        assert base["resources"]["limits"] == {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "9Gi"}
        assert base["image"] == "apache/airflow:3.3.2"

    def test_adds_the_task_command_and_keeps_the_init_container(self, pod):
        assert _base(pod)["args"][:3] == ["python", "-m", "airflow.sdk.execution_time.execute_workload"]
        assert [c["name"] for c in pod["spec"]["initContainers"]] == ["git-sync-init"]
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
        assert pod["metadata"]["namespace"] == "airflow"
