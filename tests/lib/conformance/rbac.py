"""Effective RBAC permissions of every subject, computed from rendered Roles, ClusterRoles and bindings.

The result is a plain nested dict so it compares directly with the committed table
tests/scan/expected-rbac.yaml:

    {"airflow/airflow-worker": {"airflow": {"pods": ["create", "get"], "pods/log": ["get"]}}}

Subjects are "<namespace>/<name>" for ServiceAccounts and "User:<name>" / "Group:<name>" for others.
Permissions granted cluster-wide (a ClusterRoleBinding) are listed under the namespace key "*".
Resources keep their API group ("apps/deployments"; the core group has none) and resourceNames
("configmaps[a,b]"); wildcards stay literal "*" so a widened grant never matches a narrow table.
Every rendered ServiceAccount appears, with {} when nothing is bound to it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

CLUSTER_WIDE = "*"


class RbacError(ValueError):
    """The rendered RBAC cannot be evaluated (a dangling roleRef, an aggregated ClusterRole, ...)."""


def _resource_keys(rule: dict[str, Any]) -> list[str]:
    if rule.get("nonResourceURLs"):
        return [f"nonResourceURL:{url}" for url in rule["nonResourceURLs"]]
    names = rule.get("resourceNames") or []
    suffix = f"[{','.join(sorted(names))}]" if names else ""
    keys = []
    for group in rule.get("apiGroups") or [""]:
        for resource in rule.get("resources") or []:
            prefix = f"{group}/" if group else ""
            keys.append(f"{prefix}{resource}{suffix}")
    return keys


def _rules_to_permissions(rules: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    perms: dict[str, set[str]] = defaultdict(set)
    for rule in rules or []:
        for key in _resource_keys(rule):
            perms[key].update(rule.get("verbs") or [])
    return perms


def _subject_id(subject: dict[str, Any], binding_namespace: str) -> str:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        # A RoleBinding may leave a ServiceAccount subject's namespace out: it means its own namespace.
        return f"{subject.get('namespace') or binding_namespace}/{subject['name']}"
    return f"{kind}:{subject['name']}"


def effective_permissions(objects: Iterable[dict[str, Any]], default_namespace: str) -> dict[str, Any]:
    """Map subject -> namespace (or "*") -> resource -> sorted verbs."""
    objects = list(objects)

    def ns(obj: dict[str, Any]) -> str:
        return (obj.get("metadata") or {}).get("namespace") or default_namespace

    roles = {(ns(o), o["metadata"]["name"]): o.get("rules") for o in objects if o.get("kind") == "Role"}
    cluster_roles = {}
    for o in objects:
        if o.get("kind") == "ClusterRole":
            if o.get("aggregationRule"):
                raise RbacError(f"ClusterRole/{o['metadata']['name']} aggregates other roles; "
                                "its rules are only known in a cluster, so this checker refuses it")
            cluster_roles[o["metadata"]["name"]] = o.get("rules")

    table: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
    for o in objects:
        if o.get("kind") == "ServiceAccount":
            table[f"{ns(o)}/{o['metadata']['name']}"]  # present even with no permission

    for binding in objects:
        kind = binding.get("kind")
        if kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        name = binding["metadata"]["name"]
        ref = binding.get("roleRef") or {}
        where = ns(binding) if kind == "RoleBinding" else CLUSTER_WIDE
        if ref.get("kind") == "Role":
            if kind == "ClusterRoleBinding":
                raise RbacError(f"ClusterRoleBinding/{name} refers to a Role; only ClusterRoles can be bound cluster-wide")
            if (where, ref.get("name")) not in roles:
                raise RbacError(f"RoleBinding/{name} in {where} refers to Role/{ref.get('name')}, "
                                f"which is not rendered in namespace {where}")
            rules = roles[(where, ref["name"])]
        elif ref.get("kind") == "ClusterRole":
            if ref.get("name") not in cluster_roles:
                raise RbacError(f"{kind}/{name} refers to ClusterRole/{ref.get('name')}, which is not rendered "
                                "(built-in ClusterRoles such as 'edit' are not allowed either: their rules are broad)")
            rules = cluster_roles[ref["name"]]
        else:
            raise RbacError(f"{kind}/{name} has roleRef kind {ref.get('kind')!r}; expected Role or ClusterRole")
        granted = _rules_to_permissions(rules)
        for subject in binding.get("subjects") or []:
            into = table[_subject_id(subject, ns(binding))][where]
            for resource, verbs in granted.items():
                into[resource] |= verbs

    return {subject: {where: {res: sorted(verbs) for res, verbs in sorted(perms.items())}
                      for where, perms in sorted(by_ns.items())}
            for subject, by_ns in sorted(table.items())}


def differences(actual: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Human-readable lines for every subject/namespace/resource whose verbs differ (empty when equal)."""
    lines = []
    for subject in sorted(set(actual) | set(expected)):
        if subject not in expected:
            lines.append(f"{subject}: not in the table but rendered with {actual[subject] or 'no permissions'}")
            continue
        if subject not in actual:
            lines.append(f"{subject}: in the table but not rendered")
            continue
        a_ns, e_ns = actual[subject] or {}, expected[subject] or {}
        for where in sorted(set(a_ns) | set(e_ns)):
            a_res, e_res = a_ns.get(where) or {}, e_ns.get(where) or {}
            for resource in sorted(set(a_res) | set(e_res)):
                got, want = sorted(a_res.get(resource, [])), sorted(e_res.get(resource, []))
                if got != want:
                    extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
                    parts = ([f"extra {extra}"] if extra else []) + ([f"missing {missing}"] if missing else [])
                    lines.append(f"{subject} in {where}: {resource}: {', '.join(parts)}")
    return lines
