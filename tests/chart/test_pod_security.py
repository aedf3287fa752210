"""Every pod the chart creates, in every scenario: restricted security context, bounded resources
and local disk, probes on long-running containers, and a service account token only where the
Kubernetes API is used."""

from __future__ import annotations

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import quantity
from tests.lib.render.helm_template import render

ALL_SCENARIOS = scenarios.ALL + scenarios.DETAIL_SCENARIOS
# Pods that call the Kubernetes API: the executor, live log reading, deferred pod triggers,
# KubernetesPodOperator.
TOKEN_USERS = {"Deployment/airflow-scheduler", "Deployment/airflow-api-server", "Deployment/airflow-triggerer",
               "ConfigMap/airflow-pod-template[pod_template_file.yaml]", "CronJob/airflow-cleanup"}
# Token users only where rbac.podLaunchNamespaces grants somewhere to launch (decision 15).
LAUNCH_TOKEN_USERS = {"Deployment/airflow-triggerer", "ConfigMap/airflow-pod-template[pod_template_file.yaml]"}
# Run-to-completion pods: a liveness probe would only kill a long, quiet task or migration.
RUN_TO_COMPLETION = {"Job/airflow-run-migrations", "Pod/airflow-test-api-server-health",
                     "ConfigMap/airflow-pod-template[pod_template_file.yaml]", "CronJob/airflow-cleanup"}


def _all_containers(spec):
    return spec["containers"] + (spec.get("initContainers") or [])


def _disk_empty_dirs(spec) -> dict[str, float]:
    """Volume name -> sizeLimit in bytes of the pod's emptyDirs on the node's disk. A memory-backed
    one counts against the containers' memory, not their ephemeral storage."""
    return {v["name"]: quantity(v["emptyDir"]["sizeLimit"]) for v in spec.get("volumes") or []
            if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"}


def _ephemeral_limit(container) -> float:
    return quantity(container["resources"]["limits"]["ephemeral-storage"])


def _pod_ephemeral_limit(spec) -> float:
    """The pod's limit as the kubelet evicts by it: the sum of its containers', or an init container's if larger."""
    return max([sum(_ephemeral_limit(c) for c in spec["containers"]),
                *(_ephemeral_limit(c) for c in spec.get("initContainers") or [])])


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
                    assert {"cpu", "memory", "ephemeral-storage"} <= set(resources[part]), f"{pod.origin}/{container['name']} {part}"

    def test_every_empty_dir_has_a_size_limit(self, scenario):
        # Without one, a pod fills the node's disk until the kubelet evicts whatever it ranks first.
        for pod in pod_specs(render(scenario).objects):
            for volume in pod.spec.get("volumes") or []:
                if "emptyDir" in volume:
                    assert quantity(volume["emptyDir"].get("sizeLimit", 0)) > 0, f"{pod.origin} volume {volume['name']}"

    def test_each_containers_disk_limit_covers_the_empty_dirs_it_writes(self, scenario):
        # What a container writes to an emptyDir counts against its pod's ephemeral storage: a limit
        # below the volumes it may fill would evict the pod before the volumes are full.
        for pod in pod_specs(render(scenario).objects):
            sizes = _disk_empty_dirs(pod.spec)
            for container in _all_containers(pod.spec):
                written = [m["name"] for m in container.get("volumeMounts") or []
                           if m["name"] in sizes and not m.get("readOnly")]
                assert sum(sizes[name] for name in written) <= _ephemeral_limit(container), (
                    f"{pod.origin}/{container['name']} writes to {written}")

    def test_each_pods_disk_limit_covers_all_its_empty_dirs(self, scenario):
        # The kubelet evicts a pod whose emptyDirs and containers together use more than its limit,
        # whoever writes them: in a worker pod, git-sync-init fills the checkout and is long gone.
        for pod in pod_specs(render(scenario).objects):
            sizes = _disk_empty_dirs(pod.spec)
            assert sum(sizes.values()) <= _pod_ephemeral_limit(pod.spec), f"{pod.origin}: {sizes}"

    def test_long_running_containers_have_a_liveness_probe(self, scenario):
        for pod in pod_specs(render(scenario).objects):
            # Under GitOps the migration Job's name ends in its spec's hash.
            if pod.origin in RUN_TO_COMPLETION or pod.origin.startswith("Job/airflow-run-migrations-"):
                continue
            for container in pod.spec["containers"]:
                assert "livenessProbe" in container, f"{pod.origin}/{container['name']}"

    def test_token_only_where_the_api_is_used(self, scenario):
        rendered = render(scenario)
        users = set(TOKEN_USERS)
        if not any(role["metadata"]["name"].endswith("-pod-launcher") for role in rendered.all("Role")):
            users -= LAUNCH_TOKEN_USERS  # nowhere to launch task pods: DAG code and the triggerer hold no token
        for pod in pod_specs(rendered.objects):
            mounted = pod.spec.get("automountServiceAccountToken")
            if pod.origin in users and scenario is not scenarios.NO_RBAC:
                assert mounted is True, pod.origin
            elif pod.origin not in TOKEN_USERS or (pod.origin in LAUNCH_TOKEN_USERS and pod.origin not in users
                                                   and scenario is not scenarios.NO_RBAC):  # fmt: skip
                assert mounted is False, pod.origin
