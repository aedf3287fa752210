"""The embedded PostgreSQL for development."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, env, pod_spec, quantity, secret_data
from tests.lib.render.helm_template import render


class TestPostgresql:
    def test_official_image_as_a_high_uid(self):
        statefulset = render(scenarios.DEFAULT).get("StatefulSet", "airflow-postgresql")
        spec = pod_spec(statefulset)
        assert spec["securityContext"]["runAsUser"] == 10001 and spec["securityContext"]["fsGroup"] == 10001
        container = containers(statefulset)["postgresql"]
        assert container["image"] == "postgres:17.6"
        assert env(container)["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
        assert env(container)["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "airflow-postgresql", "key": "password"}
        assert container["readinessProbe"]["exec"]["command"][0] == "pg_isready"

    def test_keeps_data_in_a_claim(self):
        statefulset = render(scenarios.DEFAULT).get("StatefulSet", "airflow-postgresql")
        (claim,) = statefulset["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
        assert render(scenarios.DEV).get("StatefulSet", "airflow-postgresql")["spec"]["volumeClaimTemplates"][0][
            "spec"]["resources"]["requests"]["storage"] == "2Gi"

    def test_without_a_claim_keeps_the_data_in_a_bounded_empty_dir(self):
        statefulset = render(scenarios.POSTGRESQL_NO_VOLUME).get("StatefulSet", "airflow-postgresql")
        assert "volumeClaimTemplates" not in statefulset["spec"]
        volumes = {v["name"]: v for v in pod_spec(statefulset)["volumes"]}
        assert volumes["data"]["emptyDir"] == {"sizeLimit": "4Gi"}
        # The data, /tmp and the socket folder all fit under the container's disk limit.
        limit = quantity(containers(statefulset)["postgresql"]["resources"]["limits"]["ephemeral-storage"])
        assert sum(quantity(volumes[n]["emptyDir"]["sizeLimit"]) for n in ("data", "tmp", "run")) <= limit

    def test_metadata_url_uses_the_same_generated_password_and_the_service(self):
        rendered = render(scenarios.DEFAULT)
        password = secret_data(rendered, "airflow-postgresql")["password"]
        url = urlsplit(secret_data(rendered, "airflow-metadata")["connection"])
        assert (url.scheme, url.username, url.password) == ("postgresql", "airflow", password)
        assert (url.hostname, url.port, url.path) == ("airflow-postgresql.airflow", 5432, "/airflow")
        assert len(password) >= 32
        service = rendered.get("Service", "airflow-postgresql")
        assert service["spec"]["ports"][0]["port"] == 5432

    def test_absent_with_an_external_database(self):
        rendered = render(scenarios.EXTERNAL_DB)
        assert rendered.maybe("StatefulSet", "airflow-postgresql") is None
        assert rendered.maybe("Secret", "airflow-postgresql") is None
        assert rendered.maybe("Secret", "airflow-metadata") is None

    def test_network_policy_admits_only_server_components(self):
        policy = render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", "airflow-postgresql")
        (rule,) = policy["spec"]["ingress"]
        expressions = {e["key"]: e["values"] for e in rule["from"][0]["podSelector"]["matchExpressions"]}
        assert expressions["app.kubernetes.io/instance"] == ["airflow"]
        assert sorted(expressions["app.kubernetes.io/component"]) == [
            "api-server", "dag-processor", "run-migrations", "scheduler", "triggerer"]
