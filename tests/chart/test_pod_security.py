"""Every pod the chart creates, in every scenario: restricted security context, bounded resources,
probes on long-running containers, and a service account token only where the Kubernetes API is used."""

from __future__ import annotations

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.render import scenarios
from tests.lib.render.helm_template import render

ALL_SCENARIOS = scenarios.ALL + scenarios.DETAIL_SCENARIOS
# Pods that call the Kubernetes API: the executor, live log reading, deferred pod triggers,
# KubernetesPodOperator.
TOKEN_USERS = {"Deployment/airflow-scheduler", "Deployment/airflow-api-server", "Deployment/airflow-triggerer",
               "ConfigMap/airflow-pod-template[pod_template_file.yaml]", "CronJob/airflow-cleanup"}
# Run-to-completion pods: a liveness probe would only kill a long, quiet task or migration.
RUN_TO_COMPLETION = {"Job/airflow-run-migrations", "Pod/airflow-test-api-server-health",
                     "ConfigMap/airflow-pod-template[pod_template_file.yaml]", "CronJob/airflow-cleanup"}


def _all_containers(spec):
    return spec["containers"] + (spec.get("initContainers") or [])


@pytest.mark.parametrize("scenario", ALL_SCENARIOS, ids=lambda s: s.name)
class TestPodSecurity:
    def test_restricted_security_contexts(self, scenario):
        for pod in pod_specs(render(scenario).objects):
            context = pod.spec["securityContext"]
            # runAsUser may be left to the platform (securityContexts.pod.runAsUser: null); runAsNonRoot stays.
            assert context["runAsNonRoot"] is True and context.get("runAsUser", 1) > 0, pod.origin
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, pod.origin
            for container in _all_containers(pod.spec):
                security = container["securityContext"]
                where = f"{pod.origin}/{container['name']}"
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"] == {"drop": ["ALL"]}, where
                assert security["readOnlyRootFilesystem"] is True, where
                assert security.get("runAsUser", context.get("runAsUser", 1)) > 0, where

    def test_requests_and_limits_everywhere(self, scenario):
        for pod in pod_specs(render(scenario).objects):
            for container in _all_containers(pod.spec):
                resources = container["resources"]
                for part in ("requests", "limits"):
                    assert {"cpu", "memory"} <= set(resources[part]), f"{pod.origin}/{container['name']} {part}"

    def test_long_running_containers_have_a_liveness_probe(self, scenario):
        for pod in pod_specs(render(scenario).objects):
            if pod.origin in RUN_TO_COMPLETION:
                continue
            for container in pod.spec["containers"]:
                assert "livenessProbe" in container, f"{pod.origin}/{container['name']}"

    def test_token_only_where_the_api_is_used(self, scenario):
        rendered = render(scenario)
        for pod in pod_specs(rendered.objects):
            mounted = pod.spec.get("automountServiceAccountToken")
            if pod.origin in TOKEN_USERS and scenario is not scenarios.NO_RBAC:
                assert mounted is True, pod.origin
            elif pod.origin not in TOKEN_USERS:
                assert mounted is False, pod.origin
