"""`helm install` of values/dev.yaml (the shared dev install) on a real API server, in a namespace
enforcing the restricted Pod Security Standard: schema, admission and RBAC objects are accepted, the
migration Job (a post-install hook Helm waits for) completes, and every Deployment becomes Available.

On the local control plane the pods are admitted and scheduled for real, but KWOK marks them
Ready and the Job's pod Succeeded without running a container; on kind they really run.
"""

from __future__ import annotations

import json

import pytest

from tests.lib.installs.release import Release
from tests.lib.paths import CHART, VALUES_DIR


@pytest.fixture(scope="module")
def installed_release(dev_airflow: Release) -> Release:
    """values/dev.yaml installed into a fresh restricted namespace and rolled out: the dev install
    the e2e modules that only read share (tests/e2e/conftest.py), its tasks launched in `development`."""
    if not (CHART / "Chart.yaml").is_file() or not (VALUES_DIR / "dev.yaml").is_file():
        pytest.skip(f"the chart ({CHART}) or values/dev.yaml is not in the repository yet")
    return dev_airflow


def _status(release: Release) -> dict:
    return json.loads(release.helm("status", release.name, "-o", "json").stdout)


def test_release_is_deployed(installed_release: Release) -> None:
    assert _status(installed_release)["info"]["status"] == "deployed"


def test_migration_job_hook_succeeded(installed_release: Release) -> None:
    # The Job deletes itself on success (hook-succeeded); helm keeps the record of its run.
    status = _status(installed_release)
    jobs = [h for h in status.get("hooks", []) if h["kind"] == "Job" and "post-install" in h["events"]]
    assert jobs, "the release has no post-install Job hook (database migrations)"
    assert {h["name"]: h["last_run"]["phase"] for h in jobs} == {h["name"]: "Succeeded" for h in jobs}


def test_every_deployment_is_available(installed_release: Release) -> None:
    deployments = installed_release.kubectl_json("get", "deployments")["items"]
    assert deployments, "the release created no Deployment"
    unavailable = {
        d["metadata"]["name"]: d["status"].get("conditions", [])
        for d in deployments
        if not any(c["type"] == "Available" and c["status"] == "True" for c in d["status"].get("conditions", []))
    }
    assert not unavailable, unavailable


def test_every_chart_pod_was_admitted_under_the_restricted_standard(installed_release: Release) -> None:
    target, namespace = installed_release.target, installed_release.namespace
    labels = target.kubectl_json("get", "namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = installed_release.kubectl_json("get", "pods")["items"]
    owners = {ref["name"] for p in pods for ref in p["metadata"].get("ownerReferences", [])}
    # A pod refused by admission never exists; each controller's pods existing proves admission.
    for deployment in installed_release.kubectl_json("get", "deployments")["items"]:
        name = deployment["metadata"]["name"]
        assert any(owner.startswith(f"{name}-") for owner in owners), f"no admitted pod of Deployment {name}"
    events = target.kubectl("get", "events", "-n", namespace, "-o", "json").stdout
    assert "violates PodSecurity" not in events
