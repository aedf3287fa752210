"""Task logs: an emptyDir per pod by default, or one shared claim every Airflow pod mounts."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, volumes, worker_pod_template
from tests.lib.render.helm_template import render


class TestLogs:
    def test_emptydir_by_default(self):
        rendered = render(scenarios.DEFAULT)
        assert volumes(rendered.get("Deployment", "airflow-api-server"))["logs"] == {"name": "logs", "emptyDir": {"sizeLimit": "1Gi"}}
        # A task's log is what grows: the worker's folder is the larger one.
        assert {"name": "logs", "emptyDir": {"sizeLimit": "4Gi"}} in worker_pod_template(rendered)["spec"]["volumes"]
        assert rendered.maybe("PersistentVolumeClaim", "airflow-logs") is None

    def test_one_shared_claim_for_workers_and_every_component(self):
        rendered = render(scenarios.LOGS_PVC)
        claim = {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-logs"}}
        for name in SERVER_DEPLOYMENTS:
            assert volumes(rendered.get("Deployment", name))["logs"] == claim, name
        assert volumes(rendered.get("Job", "airflow-run-migrations"))["logs"] == claim
        assert claim in worker_pod_template(rendered)["spec"]["volumes"]
        pvc = rendered.get("PersistentVolumeClaim", "airflow-logs")
        assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
        assert pvc["spec"]["resources"]["requests"]["storage"] == "10Gi"
