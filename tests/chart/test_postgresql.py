"""The embedded PostgreSQL for development."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.lib import tools
from tests.lib.paths import CHART
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, env, pod_spec, quantity, secret_data
from tests.lib.render.helm_template import render


def _service_name_for(live: dict, chart_copy: Path, helm_major: int) -> str:
    """The StatefulSet's serviceName when lookup finds `live` ({}: no StatefulSet yet). `helm template`
    has no cluster to look up, so a copy of the chart with one more template hands the helper the object."""
    probe = chart_copy / "templates" / "zz-service-name-probe.yaml"
    probe.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\ndata:\n  serviceName: "
                     f'{{{{ include "airflow.postgresqlServiceName" (list . (fromJson {json.dumps(json.dumps(live))})) | quote }}}}\n')
    proc = subprocess.run([str(tools.helm(helm_major)), "template", "airflow", str(chart_copy), "--namespace", "airflow",
                           "--show-only", "templates/zz-service-name-probe.yaml"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)["data"]["serviceName"]


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

    def test_governed_by_a_headless_service_beside_the_one_clients_use(self):
        rendered = render(scenarios.DEFAULT)
        statefulset = rendered.get("StatefulSet", "airflow-postgresql")
        headless = rendered.get("Service", statefulset["spec"]["serviceName"])
        assert headless["metadata"]["name"] == "airflow-postgresql-headless"
        assert headless["spec"]["clusterIP"] == "None"
        assert headless["spec"]["publishNotReadyAddresses"] is True
        assert headless["spec"]["selector"] == statefulset["spec"]["selector"]["matchLabels"]
        assert headless["spec"]["selector"].items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()
        assert [(p["port"], p["targetPort"]) for p in headless["spec"]["ports"]] == [(5432, "postgresql")]
        # Clients keep a stable virtual IP that only ready pods answer behind.
        clients = rendered.get("Service", "airflow-postgresql")
        assert "clusterIP" not in clients["spec"] and "publishNotReadyAddresses" not in clients["spec"]
        assert clients["spec"]["selector"] == headless["spec"]["selector"]

    @pytest.mark.parametrize("helm_major", tools.HELM_MAJORS, ids=lambda m: f"helm{m}")
    def test_an_upgraded_release_keeps_the_service_name_its_statefulset_has(self, helm_major, tmp_path):
        # serviceName cannot change on a live StatefulSet: a release installed before the headless
        # Service existed names the ClusterIP one, and an upgrade that renamed it would fail.
        chart_copy = tmp_path / "airflow"
        shutil.copytree(CHART, chart_copy)
        assert _service_name_for({}, chart_copy, helm_major) == "airflow-postgresql-headless"
        live = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "airflow-postgresql"},
                "spec": {"replicas": 1, "serviceName": "airflow-postgresql"}}
        assert _service_name_for(live, chart_copy, helm_major) == "airflow-postgresql"
        statefulset = (CHART / "templates" / "postgresql" / "statefulset.yaml").read_text()
        assert ('include "airflow.postgresqlServiceName" (list . (lookup "apps/v1" "StatefulSet" .Release.Namespace $name))'
                in statefulset)

    def test_absent_with_an_external_database(self):
        rendered = render(scenarios.EXTERNAL_DB)
        assert rendered.maybe("StatefulSet", "airflow-postgresql") is None
        assert rendered.maybe("Service", "airflow-postgresql-headless") is None
        assert rendered.maybe("Secret", "airflow-postgresql") is None
        assert rendered.maybe("Secret", "airflow-metadata") is None

    def test_network_policy_admits_only_server_components(self):
        policy = render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", "airflow-postgresql")
        (rule,) = policy["spec"]["ingress"]
        expressions = {e["key"]: e["values"] for e in rule["from"][0]["podSelector"]["matchExpressions"]}
        assert expressions["app.kubernetes.io/instance"] == ["airflow"]
        assert sorted(expressions["app.kubernetes.io/component"]) == [
            "api-server", "dag-processor", "run-migrations", "scheduler", "triggerer"]
