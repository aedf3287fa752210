"""Optional: a real API server admits every pod of the bundle (server-side dry run, nothing is created).

Runs only when KUBECONFIG names a reachable cluster where `make dev-objects` has created the
`development` namespace (which enforces the restricted Pod Security Standard). The API server's own
validation and PodSecurity admission then judge each pod exactly as at launch time.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from lib import tools


def kubectl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tools.kubectl()), *args], input=stdin, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def cluster(pods):
    if not os.environ.get("KUBECONFIG"):
        pytest.skip("KUBECONFIG is not set: point it at a dev cluster (after make dev-objects) to run this check")
    try:
        tools.kubectl()
    except tools.MissingToolError as err:
        pytest.skip(str(err))
    if kubectl("get", "--raw=/readyz", "--request-timeout=5s").returncode != 0:
        pytest.skip(f"no API server reachable with KUBECONFIG={os.environ['KUBECONFIG']}")
    for ns in sorted({p.pod["metadata"]["namespace"] for p in pods}):
        if kubectl("get", "namespace", ns).returncode != 0:
            pytest.skip(f"namespace {ns} does not exist: run make dev-objects first")


def test_api_server_admits_every_pod(cluster, pods):
    refused = []
    for p in pods:
        proc = kubectl("create", "--dry-run=server", "-o", "name", "-f", "-", stdin=json.dumps(p.pod))
        if proc.returncode != 0:
            refused.append(f"{p.label}: {proc.stderr.strip()}")
    assert not refused, "\n".join(refused)
