"""The triggerer: runs deferred tasks' triggers."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, init_containers, pod_spec
from tests.lib.render.helm_template import render
from tests.lib.render.startup_scripts import ENTRY, command_of

NAME = "airflow-triggerer"


class TestTriggerer:
    def test_runs_the_triggerer_with_a_token_for_deferred_pods(self):
        deployment = render(scenarios.DEFAULT).get("Deployment", NAME)
        container = containers(deployment)["triggerer"]
        assert container["args"] == ["airflow", "triggerer"]
        # The job's heartbeat, checked without the Airflow CLI (tests/chart/test_job_liveness.py).
        assert container["livenessProbe"]["exec"]["command"][:2] == ["python", ENTRY]
        assert command_of(container["livenessProbe"]["exec"]["command"])[:3] == ["job-alive", "--job-type", "TriggererJob"]
        # A token only where rbac.podLaunchNamespaces lets it watch deferred pods (none by default).
        assert pod_spec(deployment)["automountServiceAccountToken"] is False
        assert pod_spec(render(scenarios.DEV).get("Deployment", NAME))["automountServiceAccountToken"] is True
        assert pod_spec(deployment)["serviceAccountName"] == NAME
        assert pod_spec(render(scenarios.NO_RBAC).get("Deployment", NAME))["automountServiceAccountToken"] is False
        assert "wait-for-migrations" in init_containers(deployment)

    def test_gets_dags_like_the_dag_processor(self):
        deployment = render(scenarios.GITSYNC_SSH).get("Deployment", NAME)
        assert "git-sync" in containers(deployment)

    def test_replicas_and_pdb(self):
        rendered = render(scenarios.PROD)
        assert rendered.get("Deployment", NAME)["spec"]["replicas"] == 2
        assert rendered.get("PodDisruptionBudget", NAME)["spec"]["maxUnavailable"] == 1
        assert render(scenarios.DEFAULT).maybe("PodDisruptionBudget", NAME) is None
