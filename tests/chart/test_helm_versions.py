"""Helm 3 and Helm 4 render the same objects for every values scenario.

Users install with either major, so a template that renders differently under one of them (a changed
function, ordering or default) is a bug. Objects are compared parsed, keyed by kind/namespace/name.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

import pytest
import yaml

from tests.lib.render import scenarios
from tests.lib.render.helm_template import Rendered, Scenario, render

Key = tuple[str, str, str, str]


def _key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata", {})
    return (obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


def _normalised(obj: dict[str, Any]) -> dict[str, Any]:
    """Blank out only what is random per render, not per Helm major.

    `helm template` has no cluster to `lookup`, so the chart generates fresh random secrets (fernet key,
    JWT/API secret keys, passwords) on every render: Secret values differ between any two renders, and
    so do the `checksum/*` pod annotations computed from them. So a Secret is compared by its keys and
    the length of each value (random strings of a fixed size keep their length), each checksum
    annotation by its presence, and everything else as rendered.
    """
    obj = copy.deepcopy(obj)
    if obj.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if isinstance(obj.get(field), dict):
                obj[field] = {k: f"<{len(v or '')} chars>" for k, v in obj[field].items()}
    _blank_checksums(obj)
    return obj


def _blank_checksums(node: Any) -> None:
    if isinstance(node, dict):
        annotations = node.get("annotations")
        if isinstance(annotations, dict):
            for name in annotations:
                if name.startswith("checksum/"):
                    annotations[name] = "<random per render>"
        for value in node.values():
            _blank_checksums(value)
    elif isinstance(node, list):
        for value in node:
            _blank_checksums(value)


def _by_key(rendered: Rendered) -> dict[Key, dict[str, Any]]:
    keyed = {}
    for obj in rendered.objects:
        key = _key(obj)
        assert key not in keyed, f"{rendered.scenario.name}: {key} rendered twice"
        keyed[key] = _normalised(obj)
    return keyed


@pytest.mark.parametrize("scenario", scenarios.ALL, ids=lambda s: s.name)
def test_helm3_and_helm4_render_the_same_objects(scenario: Scenario):
    helm3, helm4 = _by_key(render(scenario, 3)), _by_key(render(scenario, 4))

    assert helm3, f"{scenario.name}: helm 3 rendered no objects"
    only3, only4 = sorted(helm3.keys() - helm4.keys()), sorted(helm4.keys() - helm3.keys())
    assert not only3 and not only4, f"{scenario.name}: only helm 3 renders {only3}; only helm 4 renders {only4}"
    differing = [key for key in helm3 if helm3[key] != helm4[key]]
    if differing:
        first = differing[0]
        diff = "".join(difflib.unified_diff(yaml.safe_dump(helm3[first]).splitlines(True),
                                            yaml.safe_dump(helm4[first]).splitlines(True), "helm 3", "helm 4"))
        pytest.fail(f"{scenario.name}: helm 3 and helm 4 render {len(differing)} object(s) differently: "
                    f"{differing}\nfirst difference, {first}:\n{diff}")
