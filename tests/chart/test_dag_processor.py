"""The DAG processor: parses the DAG files (from the image, a PVC or git-sync)."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, env, init_containers, mounts, pod_spec, volumes
from tests.lib.render.helm_template import render
from tests.lib.render.startup_scripts import ENTRY, command_of

NAME = "airflow-dag-processor"


class TestDagProcessor:
    def test_runs_the_dag_processor_without_a_token(self):
        deployment = render(scenarios.DEFAULT).get("Deployment", NAME)
        container = containers(deployment)["dag-processor"]
        assert container["args"] == ["airflow", "dag-processor"]
        assert pod_spec(deployment)["automountServiceAccountToken"] is False
        # The job's heartbeat, checked without the Airflow CLI (tests/chart/test_job_liveness.py).
        assert container["livenessProbe"]["exec"]["command"][:2] == ["python", ENTRY]
        assert command_of(container["livenessProbe"]["exec"]["command"])[:3] == ["job-alive", "--job-type", "DagProcessorJob"]
        assert "wait-for-migrations" in init_containers(deployment)

    def test_reads_dags_baked_into_the_image_by_default(self):
        deployment = render(scenarios.DEFAULT).get("Deployment", NAME)
        assert "dags" not in volumes(deployment)
        assert list(containers(deployment)) == ["dag-processor"]

    def test_git_sync_sidecar_fills_the_dags_volume(self):
        deployment = render(scenarios.GITSYNC_HTTPS).get("Deployment", NAME)
        sidecar = containers(deployment)["git-sync"]
        variables = env(sidecar)
        assert variables["GITSYNC_REPO"]["value"] == "https://git.example.com/org/dags.git"
        assert variables["GITSYNC_REF"]["value"] == "main"
        assert variables["GITSYNC_ONE_TIME"]["value"] == "false"
        assert variables["GITSYNC_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "git-credentials", "key": "password"}
        assert sidecar["livenessProbe"]["httpGet"]["port"] == "git-sync"
        assert mounts(sidecar)["/git"]["name"] == "dags"
        assert mounts(containers(deployment)["dag-processor"])["/opt/airflow/dags"] == {
            "name": "dags", "mountPath": "/opt/airflow/dags", "readOnly": True}
        assert volumes(deployment)["dags"] == {"name": "dags", "emptyDir": {"sizeLimit": "2Gi"}}

    def test_first_sync_happens_before_airflow_starts(self):
        # An empty dags folder at start (sync failing) would mark every DAG stale: see dag-processor/deployment.yaml.
        for name in (NAME, "airflow-triggerer"):
            deployment = render(scenarios.GITSYNC_HTTPS).get("Deployment", name)
            inits = init_containers(deployment)
            assert list(inits) == ["git-sync-init", "wait-for-migrations"], name
            assert env(inits["git-sync-init"])["GITSYNC_ONE_TIME"]["value"] == "true"
            assert "git-sync-init" not in init_containers(render(scenarios.DEFAULT).get("Deployment", name))

    def test_dags_from_a_pvc(self):
        deployment = render(scenarios.PVC_DAGS).get("Deployment", NAME)
        assert volumes(deployment)["dags"]["persistentVolumeClaim"] == {"claimName": "airflow-dags"}
        assert render(scenarios.PVC_DAGS).get("PersistentVolumeClaim", "airflow-dags")["spec"]["accessModes"] == ["ReadWriteMany"]

    def test_network_policy_admits_nothing(self):
        policy = render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", NAME)
        assert policy["spec"]["ingress"] == []
