"""RBAC: exact rules per role, a Role per launch namespace, never a ClusterRole, wildcard or secret read."""

from __future__ import annotations

import pytest

from tests.lib.render import scenarios
from tests.lib.render.helm_template import render

POD_LAUNCHER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "delete", "patch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
]
POD_MANAGER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "delete", "patch"]},
    # The uid of the ConfigMap that owns the worker pods (workers.deleteWithRelease): that one, read only.
    {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["airflow-pod-template"], "verbs": ["get"]},
]
DEFERRED_POD_WATCHER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
]
POD_LOG_READER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]

# Objects in a launch namespace are named <release>-<release namespace>-<purpose>: namespaces are shared.
POD_LAUNCHER = "airflow-airflow-pod-launcher"
DEFERRED_POD_WATCHER = "airflow-airflow-deferred-pod-watcher"


def _in_namespace(rendered, kind, name):
    return {o["metadata"]["namespace"]: o for o in rendered.all(kind) if o["metadata"]["name"] == name}


class TestSchedulerPodManager:
    def test_exact_rules_in_the_release_namespace(self):
        rendered = render(scenarios.DEFAULT)
        role = rendered.get("Role", "airflow-pod-manager")
        assert role["metadata"]["namespace"] == "airflow"
        assert role["rules"] == POD_MANAGER_RULES
        binding = rendered.get("RoleBinding", "airflow-pod-manager")
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "airflow-pod-manager"}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airflow-scheduler", "namespace": "airflow"}]


class TestCleanupPodCleaner:
    def test_lists_and_deletes_pods_in_the_release_namespace_only(self):
        rendered = render(scenarios.DEFAULT)
        (role,) = [r for r in rendered.all("Role") if r["metadata"]["name"] == "airflow-pod-cleaner"]
        assert role["metadata"]["namespace"] == "airflow"
        assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]}]
        assert rendered.get("RoleBinding", "airflow-pod-cleaner")["subjects"] == [
            {"kind": "ServiceAccount", "name": "airflow-cleanup", "namespace": "airflow"}]

    def test_none_without_the_cleanup(self):
        rendered = render(scenarios.Scenario.of("no-cleanup", {"cleanup": {"enabled": False}}))
        assert rendered.maybe("Role", "airflow-pod-cleaner") is None
        assert rendered.maybe("CronJob", "airflow-cleanup") is None
        assert rendered.maybe("ServiceAccount", "airflow-cleanup") is None


class TestApiServerPodLogReader:
    def test_exact_rules_bound_to_the_api_server(self):
        rendered = render(scenarios.DEFAULT)
        assert rendered.get("Role", "airflow-pod-log-reader")["rules"] == POD_LOG_READER_RULES
        assert rendered.get("RoleBinding", "airflow-pod-log-reader")["subjects"] == [
            {"kind": "ServiceAccount", "name": "airflow-api-server", "namespace": "airflow"}]


class TestWorkerPodLauncher:
    def test_no_pod_right_anywhere_by_default(self):
        """Worker pods run DAG code: nothing is granted until namespaces for task pods are listed."""
        rendered = render(scenarios.DEFAULT)
        assert _in_namespace(rendered, "Role", POD_LAUNCHER) == {}
        assert [b for b in rendered.all("RoleBinding")
                if {"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"} in b["subjects"]] == []  # fmt: skip

    @pytest.mark.parametrize("scenario,namespaces", [
        (scenarios.MULTI_NAMESPACE, ["batch", "development"]),
        (scenarios.DEV, ["development"]),
        (scenarios.PROD, ["development"]),
    ], ids=["multi-namespace", "dev", "prod"])
    def test_a_role_and_binding_in_each_launch_namespace_and_none_in_the_release_namespace(self, scenario, namespaces):
        rendered = render(scenario)
        roles = _in_namespace(rendered, "Role", POD_LAUNCHER)
        bindings = _in_namespace(rendered, "RoleBinding", POD_LAUNCHER)
        assert sorted(roles) == sorted(bindings) == namespaces
        for namespace in namespaces:
            assert roles[namespace]["rules"] == POD_LAUNCHER_RULES
            # The binding lives in the launch namespace; the account stays in the release namespace.
            assert bindings[namespace]["subjects"] == [{"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"}]

    def test_the_release_namespace_only_when_its_risk_is_accepted(self):
        """rbac.unsafeLaunchInReleaseNamespace: listing the release namespace is refused without it
        (tests/chart/rejected-values/fail-launch-in-release-namespace.yaml) and rendered with it."""
        roles = _in_namespace(render(scenarios.UNSAFE_RELEASE_NAMESPACE), "Role", POD_LAUNCHER)
        assert sorted(roles) == ["airflow", "development"]


class TestTriggererDeferredPodWatcher:
    @pytest.mark.parametrize("scenario,namespaces", [
        (scenarios.DEFAULT, []),
        (scenarios.MULTI_NAMESPACE, ["batch", "development"]),
    ], ids=["default", "multi-namespace"])
    def test_watch_but_never_create_pods_where_they_launch(self, scenario, namespaces):
        rendered = render(scenario)
        roles = _in_namespace(rendered, "Role", DEFERRED_POD_WATCHER)
        bindings = _in_namespace(rendered, "RoleBinding", DEFERRED_POD_WATCHER)
        assert sorted(roles) == sorted(bindings) == namespaces
        for namespace in namespaces:
            assert roles[namespace]["rules"] == DEFERRED_POD_WATCHER_RULES
            assert bindings[namespace]["subjects"] == [
                {"kind": "ServiceAccount", "name": "airflow-triggerer", "namespace": "airflow"}]


class TestSharedLaunchNamespace:
    """`team-b/airflow` beside `airflow/airflow`, both launching into `development`."""

    def test_same_release_name_in_two_namespaces_owns_distinct_objects_there(self):
        team_a, team_b = render(scenarios.MULTI_NAMESPACE), render(scenarios.TEAM_B)
        for kind in ("Role", "RoleBinding"):
            a = {o["metadata"]["name"] for o in team_a.all(kind) if o["metadata"]["namespace"] == "development"}
            b = {o["metadata"]["name"] for o in team_b.all(kind) if o["metadata"]["namespace"] == "development"}
            assert a == {POD_LAUNCHER, DEFERRED_POD_WATCHER}
            assert b == {"airflow-team-b-pod-launcher", "airflow-team-b-deferred-pod-watcher"}

    def test_each_binding_grants_its_own_release_accounts(self):
        rendered = render(scenarios.TEAM_B)
        binding = _in_namespace(rendered, "RoleBinding", "airflow-team-b-pod-launcher")["development"]
        assert binding["roleRef"]["name"] == "airflow-team-b-pod-launcher"
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "team-b"}]


@pytest.mark.parametrize("scenario", scenarios.ALL + scenarios.DETAIL_SCENARIOS, ids=lambda s: s.name)
class TestLeastPrivilegeEverywhere:
    def test_no_cluster_wide_grant(self, scenario):
        rendered = render(scenario)
        assert rendered.all("ClusterRole") == [] and rendered.all("ClusterRoleBinding") == []

    def test_no_wildcard_and_no_secret_access(self, scenario):
        for role in render(scenario).all("Role"):
            for rule in role["rules"]:
                assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], role["metadata"]["name"]
                assert "secrets" not in rule["resources"], role["metadata"]["name"]

    def test_service_accounts_do_not_automount_tokens(self, scenario):
        for account in render(scenario).all("ServiceAccount"):
            assert account["automountServiceAccountToken"] is False, account["metadata"]["name"]


class TestRbacDisabled:
    def test_no_roles_no_service_accounts_but_pods_keep_their_account_names(self):
        rendered = render(scenarios.NO_RBAC)
        assert rendered.all("Role") == rendered.all("RoleBinding") == rendered.all("ServiceAccount") == []
        spec = rendered.get("Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == "airflow-scheduler"
