"""Every ServiceAccount's effective permissions equal the committed table, tests/scan/expected-rbac.yaml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from tests.lib.conformance.rbac import CLUSTER_WIDE, differences, effective_permissions
from tests.lib.conformance.scan_targets import SCENARIOS, chart_objects
from tests.lib.render.helm_template import NAMESPACE

SCAN_CHECK = "rbac"
TABLE = Path(__file__).with_name("expected-rbac.yaml")


def expected_for(name: str) -> dict:
    table = yaml.safe_load(TABLE.read_text())["scenarios"]
    if name not in table:
        pytest.fail(f"scenario {name!r} has no entry in {TABLE.name}; add the permissions it should grant")
    return table[name]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_effective_permissions_match_the_table(scenario):
    actual = effective_permissions(chart_objects(scenario), default_namespace=NAMESPACE)
    lines = differences(actual, expected_for(scenario.name))
    assert not lines, f"{scenario.name} differs from {TABLE.name}:\n" + "\n".join(lines)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_nothing_is_granted_cluster_wide(scenario):
    objects = chart_objects(scenario)
    cluster_kinds = sorted({o["kind"] for o in objects if o.get("kind") in ("ClusterRole", "ClusterRoleBinding")})
    assert not cluster_kinds, f"{scenario.name} renders {cluster_kinds}; grant a Role in each namespace instead"
    actual = effective_permissions(objects, default_namespace=NAMESPACE)
    assert not [s for s, by_ns in actual.items() if CLUSTER_WIDE in by_ns]


def test_table_lists_exactly_the_known_scenarios():
    table = yaml.safe_load(TABLE.read_text())["scenarios"]
    assert sorted(table) == sorted(s.name for s in SCENARIOS), "expected-rbac.yaml and tests/lib/render/scenarios.py disagree"


def test_a_widened_rendered_role_is_caught():
    # The gate on real output: give the worker's rendered Role one more resource and expect the diff to name it.
    # dev: the default grants workers nothing, so there is no worker Role to widen.
    dev = next(s for s in SCENARIOS if s.name == "dev")
    objects = copy.deepcopy(chart_objects(dev))
    role = next(o for o in objects if o.get("kind") == "Role"
                and any("pods/exec" in r.get("resources", []) for r in o.get("rules", [])))
    role["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    lines = differences(effective_permissions(objects, default_namespace=NAMESPACE), expected_for(dev.name))
    assert any("secrets: extra ['get']" in line for line in lines), lines
