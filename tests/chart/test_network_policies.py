"""NetworkPolicies: none unless enabled; then every pod the chart creates is selected by one."""

from __future__ import annotations

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.render import scenarios
from tests.lib.render.helm_template import render


def _selects(policy, labels) -> bool:
    selector = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] == "In", "extend _selects for this operator"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


class TestNetworkPolicies:
    def test_none_by_default(self):
        assert render(scenarios.DEFAULT).all("NetworkPolicy") == []

    @pytest.mark.parametrize("scenario", [scenarios.NETWORK_POLICIES, scenarios.PROD], ids=lambda s: s.name)
    def test_every_pod_is_selected(self, scenario):
        rendered = render(scenario)
        policies = rendered.all("NetworkPolicy")
        for pod in pod_specs(rendered.objects):
            labels = pod.metadata.get("labels") or {}
            assert any(_selects(p, labels) for p in policies), f"no NetworkPolicy selects {pod.origin}"

    def test_api_server_admits_release_pods_and_the_listed_peers(self):
        rendered = render(scenarios.API_SERVER_PEERS)
        (rule,) = rendered.get("NetworkPolicy", "airflow-api-server")["spec"]["ingress"]
        assert rule["from"] == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "airflow", "app.kubernetes.io/name": "airflow"}}},
            *scenarios.API_SERVER_PEERS.values["networkPolicies"]["apiServerIngressFrom"],
        ]

    def test_the_triggerer_admits_only_the_api_server_and_only_on_its_log_port(self):
        rendered = render(scenarios.NETWORK_POLICIES)
        (rule,) = rendered.get("NetworkPolicy", "airflow-triggerer")["spec"]["ingress"]
        assert rule["ports"] == [{"port": "trigger-logs", "protocol": "TCP"}]
        assert rule["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "airflow",
                                                                 "app.kubernetes.io/instance": "airflow",
                                                                 "app.kubernetes.io/component": "api-server"}}}]  # fmt: skip
        (triggerer,) = rendered.get("Deployment", "airflow-triggerer")["spec"]["template"]["spec"]["containers"][:1]
        assert {"name": "trigger-logs", "containerPort": 8794} in triggerer["ports"]

    @pytest.mark.parametrize("name", ["airflow-dag-processor", "airflow-scheduler"])
    def test_the_other_job_components_admit_nothing(self, name):
        assert render(scenarios.NETWORK_POLICIES).get("NetworkPolicy", name)["spec"]["ingress"] == []
