"""The api-server: UI, REST API and the execution API that worker pods call."""

from __future__ import annotations

import hashlib

from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    airflow_cfg,
    containers,
    init_containers,
    mounts,
    pod_annotations,
    pod_spec,
    secret_data,
    volumes,
)
from tests.lib.render.helm_template import render

HEALTH = "/api/v2/monitor/health"


class TestApiServer:
    def test_runs_the_api_server_on_port_8080_behind_its_service(self):
        rendered = render(scenarios.DEFAULT)
        deployment = rendered.get("Deployment", "airflow-api-server")
        container = containers(deployment)["api-server"]
        assert container["args"] == ["airflow", "api-server"]
        assert container["ports"] == [{"name": "http", "containerPort": 8080}]
        service = rendered.get("Service", "airflow-api-server")
        assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]
        assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert service["spec"]["selector"]["app.kubernetes.io/component"] == "api-server"

    def test_every_probe_asks_the_health_endpoint(self):
        container = containers(render(scenarios.DEFAULT).get("Deployment", "airflow-api-server"))["api-server"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe

    def test_replicas_follow_values_and_a_pdb_appears_only_above_one(self):
        single, replicated = render(scenarios.DEFAULT), render(scenarios.REPLICATED)
        assert single.get("Deployment", "airflow-api-server")["spec"]["replicas"] == 1
        assert single.maybe("PodDisruptionBudget", "airflow-api-server") is None
        assert replicated.get("Deployment", "airflow-api-server")["spec"]["replicas"] == 2
        pdb = replicated.get("PodDisruptionBudget", "airflow-api-server")
        assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": replicated.get(
            "Deployment", "airflow-api-server")["spec"]["selector"]["matchLabels"]}}

    def test_simple_auth_passwords_are_copied_from_the_secret_to_a_writable_file(self):
        rendered = render(scenarios.DEFAULT)
        deployment = rendered.get("Deployment", "airflow-api-server")
        passwords_file = airflow_cfg(rendered)["core"]["simple_auth_manager_passwords_file"]
        copy = init_containers(deployment)["copy-simple-auth-passwords"]
        assert copy["command"][-1] == passwords_file
        # Airflow opens it "a+": the copy must be writable by its owner whatever the Secret's mode.
        assert copy["command"][:3] == ["install", "-m", "0600"]
        # The file lands on an emptyDir the api-server mounts writable (Airflow locks it read-write).
        folder = passwords_file.rsplit("/", 1)[0]
        main_mount = mounts(containers(deployment)["api-server"])[folder]
        assert not main_mount.get("readOnly")
        assert volumes(deployment)[main_mount["name"]] == {"name": main_mount["name"], "emptyDir": {"sizeLimit": "1Mi"}}
        assert volumes(deployment)["simple-auth-secret"]["secret"]["secretName"] == "airflow-simple-auth-passwords"

    def test_simple_auth_users_and_generated_password_match(self):
        rendered = render(scenarios.DEFAULT)
        assert airflow_cfg(rendered)["core"]["simple_auth_manager_users"] == "admin:admin"
        passwords = secret_data(rendered, "airflow-simple-auth-passwords")["passwords.json"]
        assert passwords.startswith('{"admin":"') and len(passwords) > len('{"admin":""}') + 15

    def test_custom_auth_manager_drops_the_simple_auth_parts(self):
        rendered = render(scenarios.CUSTOM_AUTH)
        deployment = rendered.get("Deployment", "airflow-api-server")
        assert "copy-simple-auth-passwords" not in init_containers(deployment)
        assert rendered.maybe("Secret", "airflow-simple-auth-passwords") is None
        core = airflow_cfg(rendered)["core"]
        assert core["auth_manager"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
        assert "simple_auth_manager_users" not in core

    def test_mounts_its_token_only_to_read_worker_logs(self):
        assert pod_spec(render(scenarios.DEFAULT).get("Deployment", "airflow-api-server"))["automountServiceAccountToken"] is True
        assert pod_spec(render(scenarios.NO_RBAC).get("Deployment", "airflow-api-server"))["automountServiceAccountToken"] is False

    def test_rolls_when_the_passwords_file_changes(self):
        rendered = render(scenarios.DEFAULT)
        passwords = secret_data(rendered, "airflow-simple-auth-passwords")["passwords.json"]
        annotations = pod_annotations(rendered.get("Deployment", "airflow-api-server"))
        assert annotations["checksum/simple-auth-passwords"] == hashlib.sha256(passwords.encode()).hexdigest()

    def test_ingress_serves_every_host_at_its_path_after_the_extra_paths(self):
        rendered = render(scenarios.INGRESS_HOSTS_AND_ROUTE)
        spec = rendered.get("Ingress", "airflow-api-server")["spec"]
        assert [r["host"] for r in spec["rules"]] == ["airflow.example.com", "airflow.internal.example", "airflow.lan"]
        assert spec["tls"] == [{"hosts": ["airflow.example.com"], "secretName": "airflow-tls"},
                               {"hosts": ["airflow.internal.example"], "secretName": "internal-tls"}]  # fmt: skip
        for rule in spec["rules"]:
            redirect, api_server = rule["http"]["paths"]
            assert redirect["path"] == "/redirect" and redirect["backend"]["service"]["name"] == "ssl-redirect"
            assert (api_server["path"], api_server["pathType"]) == ("/airflow", "Prefix")
            assert api_server["backend"]["service"] == {"name": "airflow-api-server", "port": {"name": "http"}}
        assert airflow_cfg(rendered)["api"]["base_url"] == "https://airflow.example.com/airflow"

    def test_http_route_attaches_to_the_gateway_and_routes_to_the_service_port(self):
        rendered = render(scenarios.INGRESS_HOSTS_AND_ROUTE)
        route = rendered.get("HTTPRoute", "airflow-api-server")
        assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
        assert route["metadata"]["labels"]["gateway"] == "shared"
        assert route["spec"]["parentRefs"] == [{"name": "shared-gateway", "namespace": "gateway-system", "sectionName": "https"}]
        assert route["spec"]["hostnames"] == ["airflow.example.com"]
        (rule,) = route["spec"]["rules"]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
        service = rendered.get("Service", "airflow-api-server")
        (port,) = service["spec"]["ports"]
        assert rule["backendRefs"] == [{"name": "airflow-api-server", "port": port["port"]}]
        assert render(scenarios.DEFAULT).all("HTTPRoute") == []

    def test_network_policy_admits_only_the_http_port(self):
        policy = render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", "airflow-api-server")
        assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api-server"
        assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]

    def test_ingress_routes_the_host_to_the_service_and_sets_base_url(self):
        rendered = render(scenarios.INGRESS)
        spec = rendered.get("Ingress", "airflow-api-server")["spec"]
        assert spec["ingressClassName"] == "nginx"
        assert spec["tls"] == [{"hosts": ["airflow.example.com"], "secretName": "airflow-tls"}]
        (rule,) = spec["rules"]
        assert rule["host"] == "airflow.example.com"
        assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "airflow-api-server", "port": {"name": "http"}}
        assert airflow_cfg(rendered)["api"]["base_url"] == "https://airflow.example.com"
        assert render(scenarios.DEFAULT).all("Ingress") == []
        assert "base_url" not in airflow_cfg(render(scenarios.DEFAULT))["api"]
