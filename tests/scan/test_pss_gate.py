"""Every pod the chart runs (workloads, hook pods, the worker pod template) and every pod a DAG
launches satisfies the *restricted* Pod Security Standard (tests/lib/conformance/pss.py names the control broken)."""

from __future__ import annotations

import copy

import pytest

from tests.lib.conformance import pss
from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.conformance.scan_targets import DAG_PODS_ROW, SCENARIOS, chart_objects, dag_pod_specs

SCAN_CHECK = "pss"


def _violations(pods) -> list[str]:
    return [f"{pod.origin}: {v}" for pod in pods for v in pss.check_pod(pod.spec, pod.metadata)]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_chart_pods_meet_restricted_standard(scenario):
    pods = pod_specs(chart_objects(scenario))
    assert pods, f"{scenario.name} rendered no pod at all"
    violations = _violations(pods)
    assert not violations, f"{scenario.name}:\n" + "\n".join(violations)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_worker_pod_template_is_among_the_checked_pods(scenario):
    # The KubernetesExecutor's pod template is the pod most tasks run in; make sure it was found.
    origins = [p.origin for p in pod_specs(chart_objects(scenario))]
    assert any(o.startswith("ConfigMap/") for o in origins), f"no pod template ConfigMap among {origins}"


@pytest.mark.parametrize("row", [DAG_PODS_ROW])
def test_dag_pods_meet_restricted_standard(row):
    pods = dag_pod_specs()
    assert pods, "the DAG bundle launches no pod"
    violations = _violations(pods)
    assert not violations, "\n".join(violations)


def test_a_weakened_rendered_pod_is_caught():
    # The gate on real output: re-enable privilege escalation in the first rendered workload.
    pod = copy.deepcopy(pod_specs(chart_objects(SCENARIOS[0]))[0])
    pod.spec["containers"][0].setdefault("securityContext", {})["allowPrivilegeEscalation"] = True
    assert pss.PRIVILEGE_ESCALATION in {v.control for v in pss.check_pod(pod.spec, pod.metadata)}
