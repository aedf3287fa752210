"""Database migrations: a hook Job (or, for GitOps tools, a plain Job named by its spec), and every
component waiting for it."""

from __future__ import annotations

import pytest

from tests.lib.render import scenarios
from tests.lib.render.argo_cd_phases import NEVER_APPLIED, SYNC, sync_phases
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


def migration_job(rendered):
    (job,) = [
        o for o in rendered.all("Job") if o["metadata"]["labels"]["app.kubernetes.io/component"] == "run-migrations"
    ]
    return job


class TestMigrationsUnderGitOps:
    """values/gitops.yaml: what Argo CD (or `helm template | kubectl apply`) gets, read as Argo CD reads it."""

    def test_argo_cd_would_hold_the_default_hook_until_the_components_that_wait_for_it_are_healthy(self):
        rendered = render(scenarios.DEV)
        assert sync_phases(migration_job(rendered)) == {"PostSync"}
        assert all(sync_phases(d) == {SYNC} for d in rendered.all("Deployment"))
        assert all(
            "wait-for-migrations" in init_containers(d)
            for d in rendered.all("Deployment")
            if d["metadata"]["labels"]["app.kubernetes.io/component"] in {"scheduler", "api-server"}
        )

    def test_every_object_but_the_helm_test_is_applied_in_the_sync_phase(self):
        rendered = render(scenarios.GITOPS)
        phases = {(o["kind"], o["metadata"]["name"]): sync_phases(o) for o in rendered.objects}
        never = {key for key, phase in phases.items() if phase == {NEVER_APPLIED}}
        assert never and all(
            source.startswith("airflow/templates/tests/")
            for source, o in zip(rendered.sources, rendered.objects)
            if (o["kind"], o["metadata"]["name"]) in never
        )
        assert {key: p for key, p in phases.items() if key not in never and p != {SYNC}} == {}
        assert "helm.sh/hook" not in (migration_job(rendered)["metadata"].get("annotations") or {})

    def test_no_secret_is_generated_so_two_renders_are_the_same(self):
        rendered = render(scenarios.GITOPS)
        assert rendered.all("Secret") == []
        assert render(scenarios.GITOPS, helm_major=4).objects == rendered.objects

    def test_the_job_is_named_by_its_spec_so_a_changed_release_migrates_again(self):
        job, changed = migration_job(render(scenarios.GITOPS)), migration_job(render(scenarios.GITOPS_CHANGED))
        assert job["metadata"]["name"].startswith("airflow-run-migrations-")
        assert job["metadata"]["name"] != changed["metadata"]["name"]
        assert len(job["metadata"]["name"]) <= 63 and "ttlSecondsAfterFinished" not in job["spec"]

    def test_the_embedded_database_reads_the_password_secret_the_values_name(self):
        rendered = render(scenarios.GITOPS)
        postgres = containers(rendered.get("StatefulSet", "airflow-postgresql"))["postgresql"]
        assert secret_refs(postgres)["POSTGRES_PASSWORD"] == ("airflow-postgresql", "password")
        refs = secret_refs(containers(migration_job(rendered))["run-migrations"])
        assert refs["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == ("airflow-metadata", "connection")
