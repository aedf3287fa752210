"""Cluster fixtures for the e2e tests: which cluster, and pytest-helm-charts pointed at it.

The cluster is the one `--kubeconfig` (pytest-helm-charts option) or KUBECONFIG names, else the local control plane, started (and
built, once) by hack/cluster-up.sh. On the local control plane containers do not run: KWOK
simulates pod lifecycles, so tests about what a container *does* need kind (see `cluster_target`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib.cluster import ClusterTarget, ControlPlaneUnavailable, is_simulated, resolve_target
from lib.paths import TOOLS_BIN


@pytest.fixture(scope="session")
def cluster_target(pytestconfig: pytest.Config) -> ClusterTarget:
    # pytest-helm-charts' Cluster.kubectl runs `kubectl` from PATH: make that the pinned one.
    os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    explicit = pytestconfig.getoption("kubeconfig", default=None)
    if explicit:
        path = Path(explicit).expanduser()
        return ClusterTarget(kubeconfig=path, simulated=is_simulated(path))
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    try:
        # A cold build of the control plane takes many minutes: let its progress show.
        with capture.global_and_fixture_disabled():
            return resolve_target()
    except ControlPlaneUnavailable as err:
        pytest.skip(f"no cluster: KUBECONFIG is unset and the local control plane could not be built: {err}")


@pytest.fixture(scope="module")
def kube_config(cluster_target: ClusterTarget) -> str:
    """Overrides pytest-helm-charts' fixture so its `kube_cluster` talks to `cluster_target`."""
    return str(cluster_target.kubeconfig)


@pytest.fixture(scope="module")
def restricted_namespace(cluster_target: ClusterTarget) -> Iterator[str]:
    """A fresh namespace enforcing the restricted Pod Security Standard, deleted afterwards."""
    name = f"e2e-restricted-{uuid.uuid4().hex[:8]}"
    cluster_target.create_namespace(name, "pod-security.kubernetes.io/enforce=restricted")
    yield name
    cluster_target.kubectl("delete", "namespace", name, "--wait=false", check=False)
