"""No Secret material outside Secrets: not in ConfigMaps, env `value:` literals or annotations
(tests/lib/conformance/secret_leaks.py says how each leak is recognised)."""

from __future__ import annotations

import pytest

from tests.lib.conformance.pod_specs_in_manifests import pod_specs
from tests.lib.conformance.scan_targets import DAG_PODS_ROW, SCENARIOS, chart_objects, dag_pod_specs
from tests.lib.conformance.secret_leaks import all_leaks, env_literal_leaks

SCAN_CHECK = "secrets"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_no_secret_outside_secrets(scenario):
    objects = chart_objects(scenario)
    leaks = all_leaks(objects, pod_specs(objects))
    assert not leaks, f"{scenario.name}:\n" + "\n".join(map(str, leaks))


@pytest.mark.parametrize("row", [DAG_PODS_ROW])
def test_dag_pods_carry_no_secret_literal(row):
    # DAG pods render no Secret of their own, so only the sensitive-name rule applies to them.
    leaks = [leak for pod in dag_pod_specs() for leak in env_literal_leaks(pod)]
    assert not leaks, "\n".join(map(str, leaks))
