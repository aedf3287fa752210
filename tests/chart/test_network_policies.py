"""NetworkPolicies: none unless enabled; then every pod the chart creates is selected by one."""

from __future__ import annotations

import pytest
import yaml

from tests.lib.conformance.label_selectors import selects
from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.paths import VALUES_DIR
from tests.lib.render import scenarios
from tests.lib.render.helm_template import render


def _selects(policy, labels) -> bool:
    return selects(policy["spec"]["podSelector"], labels)


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


class TestEgressOfTheCredentialHolders:
    """networkPolicies.egress (values/prod.yaml): the pods that hold the release's keys reach the release's
    own pods, DNS, the Kubernetes API and the listed rules; worker pods, which run DAG code, are not limited."""

    HOLDERS = {"scheduler", "api-server", "dag-processor", "triggerer", "run-migrations", "cleanup"}

    def test_off_unless_asked_for(self):
        assert render(scenarios.NETWORK_POLICIES).maybe("NetworkPolicy", "airflow-egress") is None

    def test_prod_selects_every_credential_holder_and_no_worker_or_database(self):
        rendered = render(scenarios.PROD)
        policy = rendered.get("NetworkPolicy", "airflow-egress")
        assert policy["spec"]["policyTypes"] == ["Egress"]
        components = {(p.metadata.get("labels") or {}).get("app.kubernetes.io/component"): p.metadata.get("labels") or {}
                      for p in pod_specs(rendered.objects)}  # fmt: skip
        selected = {c for c, labels in components.items() if _selects(policy, labels)}
        assert selected == self.HOLDERS & set(components)
        assert {"scheduler", "api-server", "dag-processor", "triggerer", "run-migrations"} <= selected
        labels = {"app.kubernetes.io/name": "airflow", "app.kubernetes.io/instance": "airflow"}
        assert not _selects(policy, {**labels, "app.kubernetes.io/component": "worker"})

    def test_prod_allows_the_release_dns_the_api_and_its_listed_rules_only(self):
        egress = render(scenarios.PROD).get("NetworkPolicy", "airflow-egress")["spec"]["egress"]
        release, dns, api, *listed = egress
        assert release == {"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "airflow",
                                                                   "app.kubernetes.io/instance": "airflow"}}}]}  # fmt: skip
        assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
        assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
        # The DNS pods' own port, as a policy sees it behind the Service (prod.yaml says which to set).
        unprivileged = scenarios.Scenario.of("egress-dns-port", {"networkPolicies": {"enabled": True, "egress": {
            "enabled": True, "dns": {"ports": [1053]}}}})  # fmt: skip
        _, dns_1053, *_ = render(unprivileged).get("NetworkPolicy", "airflow-egress")["spec"]["egress"]
        assert dns_1053["ports"] == [{"port": 1053, "protocol": "UDP"}, {"port": 1053, "protocol": "TCP"}]
        assert dns_1053["to"] == dns["to"]
        assert api == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}
        prod = yaml.safe_load((VALUES_DIR / "prod.yaml").read_text())
        assert listed == prod["networkPolicies"]["egress"]["extraRules"]
        assert all(rule.get("ports") for rule in egress[1:]), "a rule without ports would open every port"

    def test_named_api_peers_narrow_the_api_rule(self):
        peers = [{"ipBlock": {"cidr": "10.0.0.1/32"}}]
        scenario = scenarios.Scenario.of("egress-api-peers", {"networkPolicies": {"enabled": True, "egress": {
            "enabled": True, "kubernetesApi": {"peers": peers, "ports": [6443]}}}})  # fmt: skip
        _, _, api = render(scenario).get("NetworkPolicy", "airflow-egress")["spec"]["egress"]
        assert api == {"ports": [{"port": 6443, "protocol": "TCP"}], "to": peers}
