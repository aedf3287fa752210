"""`helm install` of values/dev.yaml on a real API server, in a namespace enforcing the restricted
Pod Security Standard: schema, admission and RBAC objects are accepted, the migration Job (a
post-install hook Helm waits for) completes, and every Deployment becomes Available.

On the local control plane the pods are admitted and scheduled for real, but KWOK marks them
Ready and the Job's pod Succeeded without running a container; on kind they really run.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from lib import tools
from lib.cluster import ClusterTarget
from lib.paths import CHART, VALUES_DIR

RELEASE = "airflow"
DEV_VALUES = VALUES_DIR / "dev.yaml"


def helm(target: ClusterTarget, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    cmd = [str(tools.helm(3)), "--kubeconfig", str(target.kubeconfig), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed_release(cluster_target: ClusterTarget) -> Iterator[str]:
    """values/dev.yaml installed into a fresh restricted namespace, Deployments Available; uninstalled afterwards."""
    if not (CHART / "Chart.yaml").is_file() or not DEV_VALUES.is_file():
        pytest.skip(f"the chart ({CHART}) or {DEV_VALUES} is not in the repository yet")
    namespace = f"e2e-airflow-{uuid.uuid4().hex[:8]}"
    # dev.yaml's task namespace (`development`) may hold a `make deploy-dev` release's Roles:
    # this release launches its tasks in a namespace of its own instead.
    task_namespace = f"{namespace}-tasks"
    cluster_target.create_namespace(namespace, "pod-security.kubernetes.io/enforce=restricted")
    cluster_target.create_namespace(task_namespace)

    result = helm(
        cluster_target,
        "upgrade", "--install", RELEASE, str(CHART),
        "--namespace", namespace,
        "--values", str(DEV_VALUES),
        "--set-json", f"rbac.podLaunchNamespaces={json.dumps([namespace, task_namespace])}",
        "--timeout", "10m",
    )  # fmt: skip
    try:
        assert result.returncode == 0, f"helm install failed:\n{result.stderr}"
        # Not `helm --wait`: on Helm 3 it waits for the Deployments before starting the post-install
        # migration hook they wait for (a deadlock where containers run). Helm waits for the hook
        # itself; the Deployments are waited for here, as hack/deploy-dev.sh does.
        cluster_target.kubectl("wait", "deployment", "--all", "--namespace", namespace,
                               "--for", "condition=Available", "--timeout", "10m")
        yield namespace
    finally:
        helm(cluster_target, "uninstall", RELEASE, "--namespace", namespace, "--wait", "--timeout", "5m")
        cluster_target.kubectl("delete", "namespace", namespace, task_namespace, "--wait=false", check=False)


def test_release_is_deployed(cluster_target: ClusterTarget, installed_release: str) -> None:
    status = json.loads(helm(cluster_target, "status", RELEASE, "-n", installed_release, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"


def test_migration_job_hook_succeeded(cluster_target: ClusterTarget, installed_release: str) -> None:
    # The Job deletes itself on success (hook-succeeded); helm keeps the record of its run.
    status = json.loads(helm(cluster_target, "status", RELEASE, "-n", installed_release, "-o", "json").stdout)
    jobs = [h for h in status.get("hooks", []) if h["kind"] == "Job" and "post-install" in h["events"]]
    assert jobs, "the release has no post-install Job hook (database migrations)"
    assert {h["name"]: h["last_run"]["phase"] for h in jobs} == {h["name"]: "Succeeded" for h in jobs}


def test_every_deployment_is_available(cluster_target: ClusterTarget, installed_release: str) -> None:
    deployments = cluster_target.kubectl_json("get", "deployments", "-n", installed_release)["items"]
    assert deployments, "the release created no Deployment"
    unavailable = {
        d["metadata"]["name"]: d["status"].get("conditions", [])
        for d in deployments
        if not any(c["type"] == "Available" and c["status"] == "True" for c in d["status"].get("conditions", []))
    }
    assert not unavailable, unavailable


def test_every_chart_pod_was_admitted_under_the_restricted_standard(
    cluster_target: ClusterTarget, installed_release: str
) -> None:
    labels = cluster_target.kubectl_json("get", "namespace", installed_release)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = cluster_target.kubectl_json("get", "pods", "-n", installed_release)["items"]
    owners = {ref["name"] for p in pods for ref in p["metadata"].get("ownerReferences", [])}
    # A pod refused by admission never exists; each controller's pods existing proves admission.
    for deployment in cluster_target.kubectl_json("get", "deployments", "-n", installed_release)["items"]:
        name = deployment["metadata"]["name"]
        assert any(owner.startswith(f"{name}-") for owner in owners), f"no admitted pod of Deployment {name}"
    events = cluster_target.kubectl("get", "events", "-n", installed_release, "-o", "json").stdout
    assert "violates PodSecurity" not in events
