"""k8s_schema validates strictly: unknown fields, wrong types and unknown kinds all fail."""

from __future__ import annotations

import copy

import pytest

from tests.lib.conformance import k8s_schema

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}},
    },
}


def test_every_supported_version_is_shipped():
    missing = set(k8s_schema.SUPPORTED_VERSIONS) - k8s_schema.shipped_versions()
    assert not missing, f"kubernetes-validate lacks schemas for {sorted(missing)}; upgrade it in pyproject.toml"


@pytest.mark.parametrize("version", k8s_schema.SUPPORTED_VERSIONS)
def test_valid_object_passes(version):
    assert k8s_schema.validate(DEPLOYMENT, version) == []


def test_unknown_field_is_an_error():
    typo = copy.deepcopy(DEPLOYMENT)
    typo["spec"]["template"]["spec"]["securityContex"] = {}
    [error] = k8s_schema.validate(typo, "1.35")
    assert error.startswith("spec.template.spec: Additional properties") and "securityContex" in error


def test_wrong_type_is_an_error():
    wrong = copy.deepcopy(DEPLOYMENT)
    wrong["spec"]["replicas"] = "2"
    [error] = k8s_schema.validate(wrong, "1.30")
    assert error.startswith("spec.replicas: '2' is not of type 'integer'")


def test_rbac_group_kind_resolves():
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}
    assert k8s_schema.validate(role, "1.32") == []


def test_unknown_kind_is_an_error():
    [error] = k8s_schema.validate({"apiVersion": "example.com/v1", "kind": "Widget"}, "1.35")
    assert "no schema for example.com/v1 Widget" in error
