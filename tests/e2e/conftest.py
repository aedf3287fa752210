"""Cluster fixtures for the e2e tests: which cluster, and pytest-helm-charts pointed at it.

The cluster is the one `--kubeconfig` (pytest-helm-charts option) or KUBECONFIG names, else the one
hack/cluster/up.sh brings up (and builds, once): on Linux as root the local control plane with a
real kubelet node, where containers run; where the host cannot run containers, the same control
plane with KWOK simulating the nodes, and tests about what a container *does* skip there, saying so.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lib.cluster import dev_release
from tests.lib.cluster.local_node import PROD_IMAGES, build_and_load_images, is_local_node
from tests.lib.cluster.target import ClusterTarget, ControlPlaneUnavailable, is_simulated, resolve_target
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.prod_install import ProdInstall, connected_api, prod_installed, recorded_figures
from tests.lib.installs.release import NO_DATABASE_VOLUME, SHARED_DEV_RELEASE, Release, installed
from tests.lib.installs.shared_installs import SharedInstalls
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.paths import TOOLS_BIN
from tests.lib.suite import lanes
from tests.lib.suite.module_times import RUN as SUITE_TIMES


def shared_profile(item: pytest.Item) -> str:
    """The shared install a test's module uses ("dev", a prod profile), or ""
    (see tests/lib/installs/shared_installs.py)."""
    if "dev_airflow" in item.fixturenames:
        return "dev"
    profile = getattr(item.module, "PROD_INSTALL", None)
    if profile is not None and "prod" in item.fixturenames:
        return "prod-" + "-".join(profile)
    return ""


def lane_group(item: pytest.Item) -> str:
    """The xdist group: with one e2e lane (tests/lib/suite/lanes.py E2E_LANES) every e2e module but
    the exclusive and the mostly waiting ones is in one, the waiting ones in another; with two lanes,
    the modules sharing an install form one, every other module its own."""
    if lanes.E2E_LANES == 1 and lanes.rank(item) == lanes.RANK_E2E:
        return lanes.e2e_group(item)
    return shared_profile(item) or item.nodeid.split("::", 1)[0]


def pytest_itemcollected(item: pytest.Item) -> None:
    lanes.mark_group(item, lane_group(item))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    lanes.order(items, lane_group, lambda item: shared_profile(item) or item.nodeid.split("::", 1)[0])
    lanes.tag_group_in_nodeid(items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if lanes.rank(item) >= lanes.RANK_EXCLUSIVE:
        lanes.wait_for_turn(item)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a profile's last test, remove its shared install: the next module may need the room."""
    if nextitem is None or shared_profile(nextitem) != shared_profile(item):
        SHARED_INSTALLS.close()


@pytest.fixture(scope="session")
def cluster_target(pytestconfig: pytest.Config) -> ClusterTarget:
    """The cluster, with the repo's images on its nodes.

    On the local real node the images are built and loaded here (`make images`; seconds when they
    are current). Elsewhere (kind, a user's cluster) they must be loaded beforehand, as the e2e
    workflow does; on simulated nodes no image is ever used.
    """
    # pytest-helm-charts' Cluster.kubectl runs `kubectl` from PATH: make that the pinned one.
    os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    explicit = pytestconfig.getoption("kubeconfig", default=None)
    if explicit:
        path = Path(explicit).expanduser()
        return ClusterTarget(kubeconfig=path, simulated=is_simulated(path))
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    try:
        # A cold build of the cluster's binaries or of the images takes minutes: let progress show.
        with capture.global_and_fixture_disabled(), lanes.setup_lock():
            began = time.monotonic()
            target = resolve_target()
            if is_local_node(target):
                built = build_and_load_images()
                assert built.returncode == 0, f"make images failed:\n{(built.stdout + built.stderr)[-3000:]}"
                print(built.stdout.strip().splitlines()[-1], flush=True)  # images: done (... timings)
            if reason := dev_release.why_pause(target):
                paused = dev_release.pause(target, reason)
                if paused:
                    print(f"e2e: paused the make deploy-dev release ({dev_release.NAME} in namespace {dev_release.NAMESPACE}: "
                          f"{', '.join(paused)}) while the e2e tests run, as {reason}; it is brought back when they end "
                          "(E2E_DEV_RELEASE=keep leaves it running)", flush=True)  # fmt: skip
            SUITE_TIMES.note_setup(pytestconfig, time.monotonic() - began)
            return target
    except ControlPlaneUnavailable as err:
        pytest.skip(f"no cluster: KUBECONFIG is unset and the local cluster could not be built: {err}")


@pytest.fixture(scope="session")
def running_containers(cluster_target: ClusterTarget) -> ClusterTarget:
    """The cluster, when its containers really run (and the repo's images are on its nodes)."""
    if cluster_target.simulated:
        pytest.skip("containers do not run on this cluster (KWOK simulates the nodes: the host is not Linux as root)")
    return cluster_target


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


# --- values/prod.yaml modules (test_prod_*.py) ---------------------------------------------------


@pytest.fixture(scope="session")
def prod_images(running_containers: ClusterTarget) -> ClusterTarget:
    """The cluster, with the git server's, git-sync's and the S3 server's images on the local node, built
    on first use.

    git-sync is built from its source (hack/images/git-sync.sh), which a machine without GitHub gets
    from GIT_SYNC_SOURCE. Where that is missing the prod modules cannot run: in CI (CI=true) that
    fails them, anywhere else they skip saying why.
    """
    if not is_local_node(running_containers):
        return running_containers  # kind or a user's cluster: images loaded beforehand (or upstream's git-sync)
    with lanes.setup_lock():
        built = build_and_load_images(*PROD_IMAGES)
    if built.returncode != 0:
        why = f"make images {' '.join(PROD_IMAGES)} failed:\n{(built.stdout + built.stderr)[-3000:]}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return running_containers


SHARED_INSTALLS = SharedInstalls()


@pytest.fixture(scope="session")
def shared_installs() -> Iterator[SharedInstalls]:
    """The one shared install alive (dev, or a prod profile); removed after its profile's last test
    (pytest_runtest_teardown above) or at the end of the session."""
    yield SHARED_INSTALLS
    SHARED_INSTALLS.close()


@pytest.fixture(scope="module")
def dev_airflow(cluster_target: ClusterTarget, shared_installs: SharedInstalls) -> Release:
    """values/dev.yaml installed once for every module that only runs DAGs on it and reads what
    they did (release SHARED_DEV_RELEASE, workers launching into `development` as dev.yaml grants)."""
    apply_dev_objects(cluster_target)
    return shared_installs.get("dev", lambda: installed(cluster_target, "e2e-dev", ("development",),
                                                        NO_DATABASE_VOLUME, SHARED_DEV_RELEASE))  # fmt: skip


@pytest.fixture(scope="module")
def prod(request: pytest.FixtureRequest, prod_images: ClusterTarget, shared_installs: SharedInstalls) -> ProdInstall:
    """values/prod.yaml installed as the module's PROD_INSTALL = (git transport, DAG source) says (see
    tests/lib/installs/prod_install.py), shared with the other modules asking for the same pair."""
    transport, source = request.module.PROD_INSTALL
    prefix = "e2e-prod-" + ("bundle" if source == "gitBundle" else transport)
    return shared_installs.get(("prod", transport, source),
                               lambda: prod_installed(prod_images, prefix, transport, source))  # fmt: skip


@pytest.fixture(scope="module")
def api(prod: ProdInstall) -> Iterator[AirflowApi]:
    """The REST API of the module's prod install, once every bundle DAG is listed."""
    with connected_api(prod) as client:
        yield client


@pytest.fixture(scope="module")
def figures(request: pytest.FixtureRequest) -> Iterator[dict]:
    """What the module measured, merged into test-artifacts/<its FIGURES_FILE> at the end."""
    with recorded_figures(request.module.FIGURES_FILE) as found:
        yield found
