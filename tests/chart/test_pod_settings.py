"""Pod-level values a platform team sets reach every pod the chart makes, or only the component's.

The scenario `pod-settings` (tests/lib/render/scenarios.py) sets every global pod value, overrides
some for the scheduler and the workers, and turns on what makes the other kinds of pod (metrics,
git-sync, the `helm test` pod). Each pod, the worker pod template included, is checked as rendered;
the worker pod also as the KubernetesExecutor builds it from the template.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.paths import CHART
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import (
    containers,
    env,
    init_containers,
    mounts,
    volumes,
    worker_pod_as_executor_builds,
    worker_pod_template,
)
from tests.lib.render.helm_template import Rendered, render

SCENARIO = scenarios.POD_SETTINGS
GLOBAL = SCENARIO.values
SCHEDULER = GLOBAL["scheduler"]
WORKERS = GLOBAL["workers"]


def pods(rendered: Rendered) -> dict[str, dict[str, Any]]:
    """Every pod the release makes (workloads, hook pods, the worker pod template), by component label."""
    return {pod.metadata["labels"]["app.kubernetes.io/component"]: {"metadata": pod.metadata, "spec": pod.spec}
            for pod in pod_specs(rendered.objects)}  # fmt: skip


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return render(SCENARIO)


@pytest.fixture(scope="module")
def all_pods(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return pods(rendered)


def test_the_scenario_makes_every_kind_of_pod_the_chart_has(all_pods):
    assert set(all_pods) == {"api-server", "scheduler", "dag-processor", "triggerer", "run-migrations",
                             "worker", "postgresql", "statsd", "cleanup", "test"}  # fmt: skip


def test_every_template_that_makes_a_pod_builds_it_with_the_pod_helper():
    # The table: a template making a pod must take its pod-level fields from _pod.tpl, or a global
    # toleration would miss that pod and it would stay Pending on a tainted cluster.
    # A template's partials (`_*.tpl` in its folder, e.g. the migration Job's spec) count as its text.
    makers = []
    for path in sorted(p for p in (CHART / "templates").rglob("*") if p.is_file()):
        text = path.read_text()
        if re.search(r"^kind: (Deployment|StatefulSet|Job|CronJob|Pod)$", text, re.MULTILINE):
            if path.parent != CHART / "templates":
                text += "".join(partial.read_text() for partial in sorted(path.parent.glob("_*.tpl")))
            makers.append(path)
            assert 'include "airflow.podSpecCommon"' in text, f"{path.name} makes a pod without airflow.podSpecCommon"
            assert 'include "airflow.podLabels"' in text, f"{path.name} labels its pods without airflow.podLabels"
            assert 'include "airflow.podAnnotations"' in text, f"{path.name} skips the pod annotations of values"
    assert len(makers) == 10, [p.name for p in makers]


@pytest.mark.parametrize("component", ["api-server", "dag-processor", "triggerer", "run-migrations", "worker",
                                       "postgresql", "statsd", "cleanup", "test"])  # fmt: skip
def test_global_scheduling_labels_and_annotations_reach_every_other_pod(all_pods, component):
    pod = all_pods[component]
    spec, metadata = pod["spec"], pod["metadata"]
    assert spec["nodeSelector"] == GLOBAL["nodeSelector"]
    assert spec["tolerations"] == GLOBAL["tolerations"]
    assert spec["affinity"] == GLOBAL["affinity"]
    assert spec["topologySpreadConstraints"] == GLOBAL["topologySpreadConstraints"]
    assert spec["priorityClassName"] == GLOBAL["priorityClassName"]
    assert metadata["labels"]["example.com/team"] == "data-platform"
    assert metadata["annotations"]["example.com/scraped-by"] == "agent"
    assert "example.com/tier" not in metadata["labels"], "the scheduler's labels reached another pod"
    assert "example.com/sidecar-inject" not in metadata["annotations"]


def test_a_component_value_replaces_the_global_scheduling_one_and_adds_labels(all_pods):
    pod = all_pods["scheduler"]
    assert pod["spec"]["tolerations"] == SCHEDULER["tolerations"]
    assert pod["spec"]["priorityClassName"] == "airflow-critical"
    assert pod["spec"]["nodeSelector"] == GLOBAL["nodeSelector"], "unset component values fall back to the global ones"
    assert pod["metadata"]["labels"]["example.com/tier"] == "control"
    assert pod["metadata"]["labels"]["example.com/team"] == "data-platform"
    assert pod["metadata"]["annotations"]["example.com/sidecar-inject"] == "true"
    assert any(k.startswith("checksum/") for k in pod["metadata"]["annotations"]), "the chart's checksums stay"


def test_global_labels_mark_every_object_not_only_pods(rendered: Rendered):
    for obj in rendered.objects:
        assert obj["metadata"]["labels"].get("example.com/team") == "data-platform", f"{obj['kind']}/{obj['metadata']['name']}"


def test_worker_annotations_and_labels_survive_the_executor(rendered: Rendered):
    pod = worker_pod_as_executor_builds(rendered)
    assert pod["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
    assert pod["metadata"]["labels"]["example.com/workload"] == "task"
    assert pod["spec"]["tolerations"] == GLOBAL["tolerations"]
    assert pod["spec"]["priorityClassName"] == "airflow-normal"


def test_security_context_keys_set_to_null_are_left_out_and_others_kept(all_pods):
    for component in ("api-server", "scheduler", "dag-processor", "triggerer", "run-migrations", "worker", "cleanup", "test"):
        context = all_pods[component]["spec"]["securityContext"]
        assert context["runAsUser"] == 1000650000, component
        assert "fsGroup" not in context, component
        assert context["runAsGroup"] == 0 and context["runAsNonRoot"] is True, component
    postgresql = all_pods["postgresql"]["spec"]["securityContext"]
    assert "runAsUser" not in postgresql and postgresql["fsGroup"] == 10001, "PostgreSQL has its own security context"
    assert all_pods["statsd"]["spec"]["securityContext"]["runAsUser"] == 65534


def test_a_component_container_context_applies_to_its_containers_only(all_pods):
    scheduler = all_pods["scheduler"]["spec"]
    for container in scheduler["containers"] + scheduler["initContainers"]:
        assert container["securityContext"]["seLinuxOptions"] == {"level": "s0:c123,c456"}, container["name"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, "the global keys stay"
    for container in all_pods["api-server"]["spec"]["containers"]:
        assert "seLinuxOptions" not in container["securityContext"]


def test_component_env_reaches_that_component_only(rendered: Rendered, all_pods):
    scheduler = containers(rendered.get("Deployment", "airflow-scheduler"))["scheduler"]
    assert env(scheduler)["SCHEDULER_ONLY_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "scheduler-token"
    for component, pod in all_pods.items():
        for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
            if component == "scheduler" and container["name"] == "scheduler":
                continue
            assert "SCHEDULER_ONLY_TOKEN" not in env(container), f"{component}/{container['name']}"


def test_extra_volumes_mounts_and_containers_are_templated_and_restricted_by_default(rendered: Rendered):
    scheduler = rendered.get("Deployment", "airflow-scheduler")
    assert volumes(scheduler)["ca-bundle"]["configMap"]["name"] == "airflow-ca-bundle", "values are templated"
    assert mounts(containers(scheduler)["scheduler"])["/etc/ssl/example"]["name"] == "ca-bundle"
    sidecar = containers(scheduler)["log-shipper"]
    assert sidecar["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert sidecar["securityContext"]["allowPrivilegeEscalation"] is False
    init = list(init_containers(scheduler))
    assert init[-1] == "fetch-certs", f"extra init containers run after the chart's: {init}"


def test_a_worker_volume_from_values_is_mounted_in_the_task_container(rendered: Rendered):
    pod = worker_pod_as_executor_builds(rendered)
    assert {"name": "task-secret", "secret": {"secretName": "task-secret"}} in pod["spec"]["volumes"]
    (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    assert {"name": "task-secret", "mountPath": "/etc/task-secret", "readOnly": True} in base["volumeMounts"]


def test_git_sync_runs_as_its_own_user_with_the_component_context(all_pods):
    (git_sync,) = [c for c in all_pods["worker"]["spec"]["initContainers"] if c["name"] == "git-sync-init"]
    assert git_sync["securityContext"]["runAsUser"] == 65533


def test_git_sync_user_left_to_the_platform_when_null():
    rendered = render(scenarios.Scenario.of("gitsync-uid-null", {"dags": {"gitSync": {
        "enabled": True, "repo": "https://git.example.com/dags.git", "uid": None}}}))
    (git_sync,) = [c for c in worker_pod_template(rendered)["spec"]["initContainers"] if c["name"] == "git-sync-init"]
    assert "runAsUser" not in git_sync["securityContext"]


def test_every_container_running_airflow_names_its_user_for_a_uid_without_a_passwd_entry(all_pods):
    # Seen on the real node as uid 1000650000: the Airflow CLI stopped with "The user that Airflow is
    # running as has no username" (getpass reads $USER before the passwd file the uid is not in).
    runs_airflow = {"api-server", "scheduler", "dag-processor", "triggerer", "run-migrations", "wait-for-migrations",
                    "base", "cleanup"}  # fmt: skip
    checked = set()
    for pod in all_pods.values():
        for container in pod["spec"]["containers"] + pod["spec"].get("initContainers", []):
            if container["name"] in runs_airflow:
                assert env(container)["USER"] == {"name": "USER", "value": "airflow"}, container["name"]
                checked.add(container["name"])
    assert checked == runs_airflow
