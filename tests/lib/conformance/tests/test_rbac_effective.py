"""rbac.effective_permissions on small hand-written RBAC, and the diff that reports widened grants."""

from __future__ import annotations

import pytest
import yaml

from tests.lib.conformance.rbac import RbacError, differences, effective_permissions

RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: worker}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: launcher, namespace: batch}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [create, get]}
  - {apiGroups: [""], resources: [pods/log], verbs: [get]}
  - {apiGroups: [apps], resources: [deployments], resourceNames: [b, a], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: launcher, namespace: batch}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: launcher}
subjects: [{kind: ServiceAccount, name: worker, namespace: airflow}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
  - {apiGroups: [""], resources: [pods], verbs: [list, get]}
  - {nonResourceURLs: [/healthz], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: ServiceAccount, name: worker}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-reads}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: Group, name: "system:authenticated"}]
"""


def objects(text: str = RBAC) -> list[dict]:
    return [o for o in yaml.safe_load_all(text) if o]


def test_permissions_per_subject_and_namespace():
    perms = effective_permissions(objects(), default_namespace="airflow")
    assert perms == {
        "Group:system:authenticated": {"*": {"nonResourceURL:/healthz": ["get"], "pods": ["get", "list"]}},
        "airflow/web": {},
        "airflow/worker": {
            "airflow": {"nonResourceURL:/healthz": ["get"], "pods": ["get", "list"]},
            "batch": {"apps/deployments[a,b]": ["get"], "pods": ["create", "get"], "pods/log": ["get"]},
        },
    }


def test_widened_verb_is_reported():
    actual = effective_permissions(objects(RBAC.replace("verbs: [create, get]", "verbs: [create, get, delete]")),
                                   default_namespace="airflow")
    expected = effective_permissions(objects(), default_namespace="airflow")
    assert differences(actual, expected) == ["airflow/worker in batch: pods: extra ['delete']"]


def test_wildcard_never_matches_a_narrow_table():
    actual = effective_permissions(objects(RBAC.replace("resources: [pods/log]", "resources: ['*']")),
                                   default_namespace="airflow")
    lines = differences(actual, effective_permissions(objects(), default_namespace="airflow"))
    assert "airflow/worker in batch: *: extra ['get']" in lines
    assert "airflow/worker in batch: pods/log: missing ['get']" in lines


def test_unexpected_subject_and_namespace_are_reported():
    expected = {"airflow/web": {}, "airflow/worker": {}}
    lines = differences(effective_permissions(objects(), default_namespace="airflow"), expected)
    assert lines[0].startswith("Group:system:authenticated: not in the table")
    assert "airflow/worker in batch: pods: extra ['create', 'get']" in lines


def test_dangling_role_ref_is_an_error():
    broken = RBAC.replace("kind: Role, name: launcher", "kind: Role, name: nowhere")
    with pytest.raises(RbacError, match="Role/nowhere"):
        effective_permissions(objects(broken), default_namespace="airflow")


def test_aggregated_cluster_role_is_refused():
    aggregated = RBAC + """---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: agg}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {x: y}}]}
"""
    with pytest.raises(RbacError, match="aggregates"):
        effective_permissions(objects(aggregated), default_namespace="airflow")
