"""Two teams, one task namespace: `team-a/airflow` and `team-b/airflow` both launch pods into one
namespace, judged by the real API server (helm ownership checks and its authorizer).

A release's Roles and RoleBindings in a launch namespace are named after the release *and* its
namespace, so the second install is not refused ("exists and cannot be imported into the current
release"), and uninstalling one release leaves the other's grants alone.

Only the RBAC matters here, so both releases run no pod: every component at 0 replicas, no embedded
PostgreSQL, no migration hook. This needs the API server only, not a node that runs containers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.release import RELEASE, delete_namespaces, helm
from tests.lib.paths import CHART

# Objects only: no pod of either release is started.
NO_PODS = (
    "--no-hooks",
    "--set", "scheduler.replicas=0,apiServer.replicas=0,dagProcessor.replicas=0,triggerer.replicas=0",
    "--set", "postgresql.enabled=false,data.metadataSecretName=unused-metadata-db",
)  # fmt: skip


def worker(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{RELEASE}-worker"


def triggerer(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{RELEASE}-triggerer"


def can(target: ClusterTarget, who: str, verb: str, resource: str, namespace: str) -> bool:
    """The API server's authorizer answer for `who` (impersonated), as `kubectl auth can-i` gives it."""
    answer = target.kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", who, check=False)
    return answer.stdout.strip() == "yes"


def rbac_names(target: ClusterTarget, namespace: str) -> set[str]:
    roles = target.kubectl_json("get", "roles", "-n", namespace)["items"]
    bindings = target.kubectl_json("get", "rolebindings", "-n", namespace)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}" for o in roles + bindings}


@pytest.fixture(scope="module")
def teams(cluster_target: ClusterTarget) -> Iterator[dict[str, str]]:
    suffix = uuid.uuid4().hex[:6]
    names = {"team-a": f"team-a-{suffix}", "team-b": f"team-b-{suffix}", "tasks": f"tasks-{suffix}"}
    for namespace in names.values():
        cluster_target.create_namespace(namespace)
    try:
        yield names
    finally:
        for team in ("team-a", "team-b"):
            helm(cluster_target, "uninstall", RELEASE, "-n", names[team], "--ignore-not-found")
        delete_namespaces(cluster_target, *names.values())


def install(target: ClusterTarget, namespace: str, tasks: str):
    return helm(target, "install", RELEASE, str(CHART), "-n", namespace, *NO_PODS,
                "--set-json", f'rbac.podLaunchNamespaces=["{tasks}"]')  # fmt: skip


class TestTwoTeamsOneTaskNamespace:
    def test_both_same_named_releases_install(self, cluster_target: ClusterTarget, teams: dict[str, str]):
        for team in ("team-a", "team-b"):
            result = install(cluster_target, teams[team], teams["tasks"])
            assert result.returncode == 0, f"helm install {RELEASE} -n {teams[team]} failed:\n{result.stderr}"

    def test_each_release_owns_its_own_objects_in_the_task_namespace(
        self, cluster_target: ClusterTarget, teams: dict[str, str]
    ):
        expected = {
            f"{kind}/{RELEASE}-{teams[team]}-{purpose}"
            for team in ("team-a", "team-b")
            for kind in ("Role", "RoleBinding")
            for purpose in ("pod-launcher", "deferred-pod-watcher")
        }
        assert rbac_names(cluster_target, teams["tasks"]) == expected

    def test_both_teams_may_launch_and_watch_pods_there(self, cluster_target: ClusterTarget, teams: dict[str, str]):
        for team in ("team-a", "team-b"):
            assert can(cluster_target, worker(teams[team]), "create", "pods", teams["tasks"]), team
            assert can(cluster_target, triggerer(teams[team]), "delete", "pods", teams["tasks"]), team
            assert not can(cluster_target, triggerer(teams[team]), "create", "pods", teams["tasks"]), team

    def test_uninstalling_one_team_leaves_the_others_grants(self, cluster_target: ClusterTarget, teams: dict[str, str]):
        removed = helm(cluster_target, "uninstall", RELEASE, "-n", teams["team-a"], "--wait")
        assert removed.returncode == 0, removed.stderr
        assert not can(cluster_target, worker(teams["team-a"]), "create", "pods", teams["tasks"])
        assert can(cluster_target, worker(teams["team-b"]), "create", "pods", teams["tasks"])
        assert can(cluster_target, triggerer(teams["team-b"]), "delete", "pods", teams["tasks"])
        assert rbac_names(cluster_target, teams["tasks"]) == {
            f"{kind}/{RELEASE}-{teams['team-b']}-{purpose}"
            for kind in ("Role", "RoleBinding")
            for purpose in ("pod-launcher", "deferred-pod-watcher")
        }
