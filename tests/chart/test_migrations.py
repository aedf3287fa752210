"""Database migrations: a hook Job, and every component waiting for it."""

from __future__ import annotations

import pytest

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import SERVER_DEPLOYMENTS, containers, init_containers, pod_spec, secret_refs
from tests.lib.render.helm_template import render
from tests.lib.render.startup_scripts import ENTRY, command_of


class TestMigrations:
    def test_migrate_runs_as_a_post_install_and_post_upgrade_hook(self):
        job = render(scenarios.DEFAULT).get("Job", "airflow-run-migrations")
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        # A wait for the database in plain Python, then `airflow db migrate` (tests/chart/test_startup.py).
        args = containers(job)["run-migrations"]["args"]
        assert args[:2] == ["python", ENTRY]
        assert command_of(args)[0] == "migrate"

    def test_reads_the_database_url_from_its_secret_without_a_token(self):
        job = render(scenarios.EXTERNAL_DB).get("Job", "airflow-run-migrations")
        refs = secret_refs(containers(job)["run-migrations"])
        assert refs["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == ("airflow-metadata-db", "connection")
        assert pod_spec(job)["automountServiceAccountToken"] is False
        assert pod_spec(job)["serviceAccountName"] == "airflow-run-migrations"

    @pytest.mark.parametrize("name", SERVER_DEPLOYMENTS)
    def test_components_wait_for_migrations(self, name):
        # Reads the schema version itself; `airflow db check-migrations` when out of the ordinary.
        waiter = init_containers(render(scenarios.DEFAULT).get("Deployment", name))["wait-for-migrations"]
        assert waiter["args"][:2] == ["python", ENTRY]
        assert command_of(waiter["args"])[0] == "wait-for-migrations"
        assert command_of(waiter["args"])[1:3] == ["--timeout", "600"]
