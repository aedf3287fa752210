"""extraEnv/extraEnvFrom reach every Airflow server container; workers get only their own list."""

from __future__ import annotations

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, containers, env, init_containers, worker_pod_template
from tests.lib.render.helm_template import render

CONNECTION = {"name": "AIRFLOW_CONN_LOGS", "valueFrom": {"secretKeyRef": {"name": "logs-connection", "key": "uri"}}}


class TestExtraEnv:
    def test_every_server_container_gets_the_extra_env_and_sources(self):
        rendered = render(scenarios.EXTRA_ENV)
        workloads = [rendered.get("Deployment", name) for name in SERVER_DEPLOYMENTS]
        workloads.append(rendered.get("Job", "airflow-run-migrations"))
        for workload in workloads:
            for container in [*containers(workload).values(), *init_containers(workload).values()]:
                if container["name"].startswith("git-sync") or container["name"] in ("copy-simple-auth-passwords", "own-worker-pods"):
                    continue
                where = f"{workload['metadata']['name']}/{container['name']}"
                assert env(container)["AIRFLOW_CONN_LOGS"] == CONNECTION, where
                assert container["envFrom"] == [{"configMapRef": {"name": "airflow-extra-settings"}}], where

    def test_workers_get_only_their_own_list(self):
        base = worker_pod_template(render(scenarios.EXTRA_ENV))["spec"]["containers"][0]
        assert "AIRFLOW_CONN_LOGS" not in env(base)
        assert base["envFrom"] == [{"secretRef": {"name": "task-credentials"}}]

    def test_nothing_extra_by_default(self):
        container = containers(render(scenarios.DEFAULT).get("Deployment", "airflow-scheduler"))["scheduler"]
        assert "envFrom" not in container
        # CONNECTION_CHECK_MAX_COUNT=0: no `airflow db check` in the image's entrypoint (tests/chart/test_startup.py);
        # USER: Airflow's user name under any uid (tests/chart/test_pod_settings.py).
        assert list(env(container)) == ["CONNECTION_CHECK_MAX_COUNT", "USER", "AIRFLOW__CORE__FERNET_KEY",
                                        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__API_AUTH__JWT_SECRET",
                                        "AIRFLOW__API__SECRET_KEY"]
