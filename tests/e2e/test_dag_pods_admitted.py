"""A real API server admits every pod of the bundle (server-side dry run: nothing is created).

The dev objects (dags/dev_objects.yaml, applied by hack/create-dev-objects.sh as `make dev-objects`
does) create the `development` namespace, which enforces the restricted Pod Security Standard; the
API server's own validation and PodSecurity admission then judge each pod exactly as at launch time.
"""

from __future__ import annotations

import json

import pytest

from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.bundle_pods import dag_pods
from tests.lib.dag_bundle.dev_objects import apply_dev_objects


@pytest.fixture(scope="module")
def dev_objects(cluster_target: ClusterTarget) -> None:
    apply_dev_objects(cluster_target)


def test_dev_namespace_enforces_restricted(cluster_target, dev_objects):
    labels = cluster_target.kubectl_json("get", "namespace", "development")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_api_server_admits_every_pod(cluster_target, dev_objects):
    pods = dag_pods()
    assert pods, "the bundle launches no pod: dag_pods() found nothing"
    refused = []
    for p in pods:
        proc = cluster_target.kubectl("create", "--dry-run=server", "-o", "name", "-f", "-",
                                      stdin=json.dumps(p.pod), check=False)
        if proc.returncode != 0:
            refused.append(f"{p.label}: {proc.stderr.strip()}")
    assert not refused, "\n".join(refused)


@pytest.mark.parametrize("name", ["test_env", "image_credential"])
def test_api_server_refuses_the_seeds_original_secret_names(cluster_target, dev_objects, name):
    """Why the seed's Secrets were renamed: no Secret may be named with an underscore, so a pod that
    references one could never start."""
    proc = cluster_target.kubectl("create", "secret", "generic", name, "--from-literal=TEST=placeholder",
                                  "--namespace", "development", "--dry-run=server", check=False)
    assert proc.returncode != 0
    assert f'"{name}" is invalid' in proc.stderr and "RFC 1123" in proc.stderr
