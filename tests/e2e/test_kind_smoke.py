"""kind, the path most users with Docker take, run here end to end: `CLUSTER_MODE=kind make deploy-dev`.

The cluster comes up as hack/cluster/up.sh brings it up for a user: from kind's own node image where
it can be pulled, else from the one hack/cluster/kind/node-image.sh builds here (no registry on this
project's machines), on the user's Docker daemon or the private one. Then hack/deploy-dev.sh, run a
second time as a user would, finds that cluster, builds and loads the images (`kind load`), installs
values/dev.yaml and waits; the seed DAG runs through the REST API with its pod's output in the task
log; the embedded PostgreSQL's claim is bound. Last, the cluster is deleted and nothing it made is
left: no container, volume, network, link or mount.

It needs the node to itself (a second control plane and an Airflow install on 2 cores), so it runs
when no other e2e test does. It skips, saying why, where Docker cannot run, where the suite's own
cluster is kind (the e2e workflow: the whole suite is the kind run there), and where a kind cluster of
that name already exists (it would delete it). Figures go to test-artifacts/kind.json (make bench).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.lib.cluster import kind
from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.release import Release
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.paths import REPO

pytestmark = pytest.mark.node_exclusive
FIGURES_FILE = "kind.json"
SEED = "kubernetes-dag"
NAMESPACE = "airflow"  # what hack/deploy-dev.sh installs, and where
LAUNCH_NAMESPACE = "development"  # where the seed's pod runs (values/dev.yaml)


@dataclass
class KindDeploy:
    up: subprocess.CompletedProcess[str]
    deploy: subprocess.CompletedProcess[str]
    target: ClusterTarget
    before: dict[str, set[str]]
    node_container: str


def run(cmd: list[str], env: dict[str, str], timeout: int) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return done, round(time.monotonic() - began, 1)


@pytest.fixture(scope="module")
def deployed(cluster_target: ClusterTarget, figures: dict) -> Iterator[KindDeploy]:
    if kind.is_kind(cluster_target):
        pytest.skip("the suite's own cluster is kind (KUBECONFIG): every e2e module is the kind run there")
    was_running = kind.private_daemon_running()
    try:
        kind.docker_env()
    except kind.DockerUnavailable as why:
        pytest.skip(f"Docker cannot run here, so kind cannot: {why}")
    if kind.cluster_exists():
        if not was_running:
            subprocess.run([str(kind.DOCKERD), "stop"], capture_output=True, timeout=300)
        pytest.skip(f"a kind cluster '{kind.CLUSTER_NAME}' exists already; this module would delete it: "
                    "delete it yourself (make cluster-down) to run it")  # fmt: skip
    env = {**os.environ, "CLUSTER_MODE": "kind"}
    env.pop("KUBECONFIG", None)
    try:
        before = kind.host_snapshot()
        up, figures["cluster_up_s"] = run([str(REPO / "hack" / "cluster" / "up.sh")], env, timeout=1500)
        assert up.returncode == 0, f"hack/cluster/up.sh failed:\n{(up.stdout + up.stderr)[-4000:]}"
        if "node-image: built" in up.stdout + up.stderr:
            times = kind.NODE_IMAGE_TIMES.read_text().split()
            figures["node_image_build_s"] = float(times[times.index("total") + 1].rstrip("s"))
        deploy, figures["deploy_dev_s"] = run([str(REPO / "hack" / "deploy-dev.sh")], env, timeout=1500)
        assert deploy.returncode == 0, f"hack/deploy-dev.sh failed:\n{(deploy.stdout + deploy.stderr)[-4000:]}"
        (node,) = kind.docker_lines("ps", "-q", "--no-trunc", "--filter", f"label={kind.CLUSTER_LABEL}")
        yield KindDeploy(up, deploy, kind.target(), before, node)
    finally:
        kind.kind("delete", "cluster", "--name", kind.CLUSTER_NAME)
        subprocess.run([str(kind.KIND_DIR / "down.sh")], capture_output=True, timeout=300)
        if not was_running:
            subprocess.run([str(kind.DOCKERD), "stop"], capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def api(deployed: KindDeploy) -> Iterator[AirflowApi]:
    release = Release(target=deployed.target, namespace=NAMESPACE, launch_namespaces=(LAUNCH_NAMESPACE,))
    with connect(release) as client:
        yield client


def test_the_cluster_line_names_kind_and_the_node_image_it_used(deployed: KindDeploy) -> None:
    (line,) = [line for line in deployed.up.stdout.splitlines() if line.startswith("cluster: ")]
    assert line.startswith("cluster: kind (CLUSTER_MODE=kind was set; "), line
    image = re.search(r"node image (\S+)", line)
    assert image is not None, line
    (node,) = deployed.target.kubectl_json("get", "nodes")["items"]
    info = node["status"]["nodeInfo"]
    if "built here" in line:
        # The image built here runs the Kubernetes this repo builds from source.
        assert image.group(1) == "airflow-on-k8s/kind-node:v1.35.8", line
        assert info["kubeletVersion"] == "v1.35.8", info
    else:
        assert image.group(1).startswith("kindest/node:v1.35."), line
    assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]


def test_deploy_dev_installed_the_release_on_kind_with_the_images_it_loaded(deployed: KindDeploy) -> None:
    assert (
        f"deploy-dev: release 'airflow' is installed in namespace '{NAMESPACE}' (kind cluster)"
        in deployed.deploy.stdout
    )
    # The second run found the cluster up.sh made, as a user's second command would.
    assert f"kind cluster '{kind.CLUSTER_NAME}' already exists; reusing it" in deployed.deploy.stdout
    deployments = deployed.target.kubectl_json("get", "deployments", "-n", NAMESPACE)["items"]
    available = {d["metadata"]["name"]: d["status"].get("availableReplicas", 0) for d in deployments}
    assert set(available) == {f"airflow-{c}" for c in ("api-server", "scheduler", "dag-processor", "triggerer")}, (
        available
    )
    assert all(n >= 1 for n in available.values()), available


def test_the_embedded_postgresqls_claim_is_bound_to_a_volume_of_the_node(deployed: KindDeploy) -> None:
    claim = deployed.target.kubectl_json("get", "pvc", "data-airflow-postgresql-0", "-n", NAMESPACE)
    assert claim["status"]["phase"] == "Bound", claim["status"]
    volume = deployed.target.kubectl_json("get", "pv", claim["spec"]["volumeName"])
    assert volume["spec"]["storageClassName"] == claim["spec"]["storageClassName"], volume["spec"]


def test_the_seed_dag_runs_to_success_with_its_pods_output_in_the_task_log(api: AirflowApi, figures: dict) -> None:
    api.wait_for_dags({SEED})
    api.unpause(SEED)
    began = time.monotonic()
    run_id = api.trigger(SEED)
    assert api.wait_for_run(SEED, run_id, timeout=600) == "success"
    figures["seed_run_s"] = round(time.monotonic() - began, 1)
    log = api.finished_task_log(SEED, run_id, "kubernetespodoperator", expect="processed partition")
    assert "processed partition 2026-01: 31 rows" in log, log[-3000:]
    assert "TEST received: <" in log, log[-3000:]


def test_deleting_the_cluster_leaves_no_container_volume_network_link_or_mount(
    deployed: KindDeploy, figures: dict
) -> None:
    began = time.monotonic()
    down = subprocess.run([str(kind.KIND_DIR / "down.sh")], capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    figures["delete_s"] = round(time.monotonic() - began, 1)
    assert not kind.cluster_exists()
    after = kind.host_snapshot()
    for kind_of, found in after.items():
        assert found - deployed.before[kind_of] == set(), (
            f"left behind ({kind_of}): {sorted(found - deployed.before[kind_of])}"
        )
    assert not [m for m in after["mounts"] if deployed.node_container in m]
