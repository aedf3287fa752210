"""Every rendered object, every worker pod template and every DAG pod is valid, strictly, for Kubernetes
1.30 through 1.35 (unknown fields are errors: the API server would drop them silently)."""

from __future__ import annotations

import pytest

from tests.lib.conformance import k8s_schema
from tests.lib.conformance.scan_targets import (
    DAG_PODS_ROW,
    SCENARIOS,
    chart_objects,
    dag_pod_objects,
    with_embedded_pods,
)

SCAN_CHECK = "schema"


def _errors(labelled_objects, version: str) -> list[str]:
    return [f"{label}: {error}" for label, obj in labelled_objects for error in k8s_schema.validate(obj, version)]


@pytest.mark.parametrize("version", k8s_schema.SUPPORTED_VERSIONS, ids=lambda v: f"k8s-{v}")
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_chart_objects_match_kubernetes_schema(scenario, version):
    objects = with_embedded_pods(chart_objects(scenario))
    assert objects, f"{scenario.name} rendered no objects"
    errors = _errors(objects, version)
    assert not errors, f"{scenario.name} on Kubernetes {version}:\n" + "\n".join(errors)


@pytest.mark.parametrize("version", k8s_schema.SUPPORTED_VERSIONS, ids=lambda v: f"k8s-{v}")
@pytest.mark.parametrize("row", [DAG_PODS_ROW])
def test_dag_pods_match_kubernetes_schema(row, version):
    pods = dag_pod_objects()
    assert pods, "the DAG bundle launches no pod"
    errors = _errors(pods, version)
    assert not errors, f"DAG pods on Kubernetes {version}:\n" + "\n".join(errors)
