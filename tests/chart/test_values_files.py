"""values/dev.yaml and values/prod.yaml: what each environment promises."""

from __future__ import annotations

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.paths import REPO, VALUES_DIR
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    env,
    init_containers,
    pod_spec,
    quantity,
    worker_pod_template,
)
from tests.lib.render.helm_template import Scenario, render

GIB = 2**30
E2E_VALUES = REPO / "tests" / "e2e" / "values"
# The values the e2e tests install with (tests/lib/installs): each file layered over dev or prod.
E2E_INSTALLS = [
    Scenario.of("e2e-dev", {"postgresql": {"persistence": {"enabled": False}}},
                files=[VALUES_DIR / "dev.yaml", E2E_VALUES / "test-timing.yaml", E2E_VALUES / "test-footprint.yaml"]),
    Scenario.of("e2e-prod", files=[VALUES_DIR / "prod.yaml", E2E_VALUES / "prod-on-local-node.yaml",
                                   E2E_VALUES / "test-timing.yaml", E2E_VALUES / "test-footprint.yaml"]),
]


def _pod_requests(spec) -> tuple[float, float]:
    """Effective pod request: the larger of the biggest init container and the sum of containers."""
    def total(items):
        return (sum(quantity(c["resources"]["requests"]["cpu"]) for c in items),
                sum(quantity(c["resources"]["requests"]["memory"]) for c in items))
    running = total(spec["containers"])
    inits = [total([c]) for c in spec.get("initContainers") or []] or [(0.0, 0.0)]
    return max(running[0], *(i[0] for i in inits)), max(running[1], *(i[1] for i in inits))


class TestDevValues:
    def test_project_image_and_embedded_postgres(self):
        rendered = render(scenarios.DEV)
        image = containers(rendered.get("Deployment", "airflow-scheduler"))["scheduler"]
        assert (image["image"], image["imagePullPolicy"]) == ("airflow-on-k8s/airflow:dev", "IfNotPresent")
        assert rendered.get("StatefulSet", "airflow-postgresql")

    def test_dags_come_from_the_image(self):
        rendered = render(scenarios.DEV)
        assert "git-sync" not in containers(rendered.get("Deployment", "airflow-dag-processor"))
        # The one claim is the shared logs folder; none for DAGs.
        assert [c["metadata"]["name"] for c in rendered.all("PersistentVolumeClaim")] == ["airflow-logs"]
        assert airflow_cfg(rendered)["core"]["dags_folder"] == "/opt/airflow/dags"

    def test_finished_tasks_logs_live_on_one_claim_every_airflow_pod_mounts(self):
        rendered = render(scenarios.DEV)
        assert rendered.get("PersistentVolumeClaim", "airflow-logs")["spec"]["accessModes"] == ["ReadWriteOnce"]
        pods = [d["spec"]["template"] for d in rendered.all("Deployment")] + [worker_pod_template(rendered)]
        for pod in pods:
            logs = next(v for v in pod["spec"]["volumes"] if v["name"] == "logs")
            assert logs == {"name": "logs", "persistentVolumeClaim": {"claimName": "airflow-logs"}}

    def test_everything_fits_in_2_cpu_and_4_gib_with_parallelism_workers_running(self):
        rendered = render(scenarios.DEV)
        long_running = [rendered.get(k, n) for k, n in [
            ("Deployment", "airflow-api-server"), ("Deployment", "airflow-scheduler"),
            ("Deployment", "airflow-dag-processor"), ("Deployment", "airflow-triggerer"),
            ("StatefulSet", "airflow-postgresql")]]
        cpu = sum(_pod_requests(pod_spec(o))[0] * o["spec"]["replicas"] for o in long_running)
        memory = sum(_pod_requests(pod_spec(o))[1] * o["spec"]["replicas"] for o in long_running)
        workers = int(airflow_cfg(rendered)["core"]["parallelism"])
        worker_cpu, worker_memory = _pod_requests(worker_pod_template(rendered)["spec"])
        assert cpu + workers * worker_cpu <= 2.0
        assert memory + workers * worker_memory <= 4 * GIB

    def test_every_pod_has_requests_and_limits(self):
        for pod in pod_specs(render(scenarios.DEV).objects):
            for container in pod.spec["containers"] + (pod.spec.get("initContainers") or []):
                assert set(container["resources"]) == {"requests", "limits"}, f"{pod.origin}/{container['name']}"


class TestProdValues:
    def test_external_database_and_no_generated_secret(self):
        rendered = render(scenarios.PROD)
        assert rendered.maybe("StatefulSet", "airflow-postgresql") is None
        assert rendered.all("Secret") == []
        job = rendered.get("Job", "airflow-run-migrations")
        assert env(containers(job)["run-migrations"])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["valueFrom"][
            "secretKeyRef"] == {"name": "airflow-metadata-db", "key": "connection"}

    def test_git_sync_of_the_dags_folder_over_https(self):
        rendered = render(scenarios.PROD)
        sidecar = env(containers(rendered.get("Deployment", "airflow-dag-processor"))["git-sync"])
        assert sidecar["GITSYNC_REPO"]["value"].startswith("https://")
        assert sidecar["GITSYNC_USERNAME"]["valueFrom"]["secretKeyRef"]["name"] == "airflow-git-credentials"
        assert airflow_cfg(rendered)["core"]["dags_folder"] == "/opt/airflow/dags/repo/dags"
        assert init_containers(rendered.get("Deployment", "airflow-dag-processor"))  # still waits for migrations

    def test_replicated_with_disruption_budgets(self):
        rendered = render(scenarios.PROD)
        for name in ("airflow-scheduler", "airflow-api-server"):
            assert rendered.get("Deployment", name)["spec"]["replicas"] == 2
            assert rendered.get("PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1

    def test_replicas_prefer_different_nodes(self):
        # Every replicated component: two replicas on one node are one node failure from none.
        rendered = render(scenarios.PROD)
        replicated = sorted(d["metadata"]["name"] for d in rendered.all("Deployment") if d["spec"]["replicas"] > 1)
        assert replicated == ["airflow-api-server", "airflow-scheduler", "airflow-triggerer"]
        for name in replicated:
            deployment = rendered.get("Deployment", name)
            (term,) = pod_spec(deployment)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
            selector = term["podAffinityTerm"]["labelSelector"]["matchLabels"]
            assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
            # The selector must match the replicas' own labels, or the rule spreads nothing, and only
            # theirs: one matching every pod of the release would keep the components apart instead.
            assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items(), name
            assert "app.kubernetes.io/component" in selector, name

    def test_tokens_signed_with_the_keys_its_header_creates(self):
        # The Secret and kid the commands at the top of values/prod.yaml make; a rotation fails no task.
        scheduler = render(scenarios.PROD).get("Deployment", "airflow-scheduler")
        assert env(init_containers(scheduler)["jwt-keyset"])["AIRFLOW__API_AUTH__JWT_KID"]["value"] == "2026-12"
        keys = next(v for v in pod_spec(scheduler)["volumes"] if v["name"] == "jwt-keys")
        assert keys["secret"]["secretName"] == "airflow-jwt-keys"
        assert "AIRFLOW__API_AUTH__JWT_SECRET" not in env(containers(scheduler)["scheduler"])

    def test_network_policies_on(self):
        assert render(scenarios.PROD).all("NetworkPolicy")


@pytest.mark.parametrize("scenario", [scenarios.DEV, scenarios.PROD, *E2E_INSTALLS], ids=lambda s: s.name)
def test_values_that_set_resources_keep_the_charts_disk_bounds(scenario):
    # Each file sets cpu and memory only: Helm merges maps key by key, so ephemeral-storage stays the
    # chart's (a null, which would remove it, the schema refuses).
    for pod in pod_specs(render(scenario).objects):
        for container in pod.spec["containers"] + (pod.spec.get("initContainers") or []):
            for part in ("requests", "limits"):
                assert "ephemeral-storage" in container["resources"][part], f"{pod.origin}/{container['name']} {part}"
