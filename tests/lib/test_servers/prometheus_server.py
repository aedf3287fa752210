"""A real Prometheus in the cluster (docker/prometheus: Debian's 2.42) in a namespace of its own, as a
team's monitoring stack runs, and its HTTP API queried from this host the way Grafana or a person
with curl queries it.

It finds the release's exporter the usual annotation-driven way (kubernetes_sd, role endpoints, the
Service's prometheus.io annotations; SCRAPE_CONFIG below, which the chart README shows) with a Role
that lets it list only the release namespace's endpoints, and evaluates the rules it is given (the
chart's PrometheusRule spec, as the Prometheus Operator hands it over).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import yaml

from tests.lib.cluster.reachability import wait_while_refused
from tests.lib.cluster.target import ClusterTarget
from tests.lib.test_servers import server_manifest
from tests.lib.test_servers.metrics_tools import PROMETHEUS_IMAGE
from tests.lib.test_servers.server_manifest import Port, ServerSpec, Volume

NAME = "prometheus"
PORT = 9090
INTERVAL_S = 5  # scrape and rule evaluation: a test waits seconds, not Prometheus' default minute


def scrape_config(namespace: str) -> dict[str, Any]:
    """Scrape every Service of `namespace` annotated prometheus.io/scrape: "true", at its annotated
    port and path, labelling the series with the `namespace` and `service` the chart's alerts select on."""
    return {
        "job_name": "kubernetes-service-endpoints",
        "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": [namespace]}}],
        "relabel_configs": [
            {"source_labels": ["__meta_kubernetes_service_annotation_prometheus_io_scrape"], "action": "keep", "regex": "true"},
            # One target per pod: an endpoint lists each port of the Service (the exporter's UDP one too).
            {"source_labels": ["__meta_kubernetes_endpoint_port_protocol"], "action": "keep", "regex": "TCP"},
            {"source_labels": ["__meta_kubernetes_service_annotation_prometheus_io_path"], "action": "replace",
             "target_label": "__metrics_path__", "regex": "(.+)"},
            {"source_labels": ["__address__", "__meta_kubernetes_service_annotation_prometheus_io_port"],
             "action": "replace", "regex": r"([^:]+)(?::\d+)?;(\d+)", "replacement": "$1:$2", "target_label": "__address__"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ],
    }  # fmt: skip


SERVER = ServerSpec(
    name=NAME,
    image=PROMETHEUS_IMAGE,
    uid=65534,
    ports=(Port("http", PORT),),
    args=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus",
          f"--web.listen-address=:{PORT}", "--storage.tsdb.retention.time=1d"),  # fmt: skip
    readiness={"httpGet": {"path": "/-/ready", "port": PORT}},
    requests=("50m", "128Mi"),
    limits=("1", "512Mi"),
    volumes=(Volume("config", "/etc/prometheus", {"configMap": {"name": NAME}}), Volume("data", "/prometheus")),
    service_account=True,  # its discovery lists the scraped namespace's endpoints (ROLE below)
)

# Prometheus' kubernetes_sd with role endpoints watches these in the namespaces it is given.
ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "rules": [{"apiGroups": [""], "resources": ["services", "endpoints", "pods"], "verbs": ["get", "list", "watch"]}]}  # fmt: skip


class PrometheusError(RuntimeError):
    pass


@dataclass
class Prometheus:
    target: ClusterTarget
    namespace: str  # where Prometheus runs
    scraped: str  # the namespace it discovers and scrapes
    rules: dict[str, Any]  # a rules file: {"groups": [...]}
    url: str = ""

    def deploy(self) -> Prometheus:
        """Config, RBAC in the scraped namespace, Deployment and Service; returns once its API answers."""
        config = {"global": {"scrape_interval": f"{INTERVAL_S}s", "evaluation_interval": f"{INTERVAL_S}s"},
                  "rule_files": ["/etc/prometheus/rules.yaml"], "scrape_configs": [scrape_config(self.scraped)]}  # fmt: skip
        files = {"prometheus.yml": yaml.safe_dump(config), "rules.yaml": yaml.safe_dump(self.rules)}
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME}, "data": files}
        self.target.kubectl("apply", "-n", self.namespace, "-f", "-", stdin=json.dumps(config_map))
        grant = f"{NAME}-{self.namespace}"
        role = {**ROLE, "metadata": {"name": grant, "namespace": self.scraped}}
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": grant, "namespace": self.scraped},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": grant},
                   "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": self.namespace}]}  # fmt: skip
        for obj in (role, binding):
            self.target.kubectl("apply", "-f", "-", stdin=json.dumps(obj))
        server_manifest.deploy(self.target, self.namespace, SERVER, timeout_s=180)
        ip = self.target.kubectl_json("get", "service", NAME, "-n", self.namespace)["spec"]["clusterIP"]
        wait_while_refused(ip, PORT, seconds=30)
        self.url = f"http://{ip}:{PORT}"
        return self

    def remove_grant(self) -> None:
        """The Role and RoleBinding it got in the scraped namespace (its own namespace goes whole)."""
        grant = f"{NAME}-{self.namespace}"
        self.target.kubectl("delete", "-n", self.scraped, f"rolebinding/{grant}", f"role/{grant}",
                            "--ignore-not-found", check=False)  # fmt: skip

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>: its `data`, or PrometheusError with Prometheus' own error text."""
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"{}")
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector (each {"metric": labels, "value": [time, "value"]})."""
        return self.api("query", query=promql)["result"]

    def value(self, promql: str) -> float | None:
        """The single number a query returns, or None when it returns nothing."""
        result = self.query(promql)
        if not result:
            return None
        assert len(result) == 1, f"{promql} returned {len(result)} series: {result}"
        return float(result[0]["value"][1])

    def wait_for(self, promql: str, check, timeout: float = 180, poll: float = 1) -> float:
        """Poll `promql` until check(value) holds (value None when it returns nothing); returns the
        time.time() it first held."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.value(promql)
            if check(seen):
                return time.time()
            time.sleep(poll)
        raise AssertionError(f"{promql} never met the condition within {timeout} s; last value {seen}")

    def range(self, promql: str, start: float, end: float, step: float) -> list[tuple[float, float]]:
        """A range query's one series as (time.time(), value) points; empty when it returns none."""
        result = self.api("query_range", query=promql, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step}s")["result"]
        assert len(result) <= 1, f"{promql} returned {len(result)} series"
        return [(float(t), float(v)) for t, v in result[0]["values"]] if result else []

    def targets(self) -> list[dict[str, Any]]:
        return self.api("targets")["activeTargets"]

    def alerts(self) -> list[dict[str, Any]]:
        return self.api("alerts")["alerts"]

    def rule_groups(self) -> list[dict[str, Any]]:
        return self.api("rules")["groups"]

    def metric_names(self) -> set[str]:
        return set(self.api("label/__name__/values"))
