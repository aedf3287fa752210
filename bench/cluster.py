"""The local cluster: cold build (as recorded by the build), warm start, pod start, chart install.

The local cluster is one per host (its real node owns host ports and netfilter chains), so this
takes the cluster `make cluster-up` runs down and up again: run it when nothing of yours runs there.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

from tests.lib.cluster.local_node import TASK_IMAGE, build_and_load_images, is_local_node
from tests.lib.cluster.one_off_pods import pod_manifest
from tests.lib.cluster.target import BUILD_SCRIPT, CLUSTER_UP_SCRIPT, ClusterTarget, start_local_cluster
from tests.lib.installs.release import Release
from tests.lib.paths import REPO

from .stats import summarize

HACK = REPO / "hack"


def run(cmd: list[str], timeout: int = 900, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")


def recorded_build_times() -> list[dict]:
    """The cold build is minutes of compiling: reported as the build script recorded it, not redone."""
    bin_dir = subprocess.run([str(BUILD_SCRIPT), "--print-bin-dir"], capture_output=True, text=True,
                             check=True).stdout.strip()  # fmt: skip
    times = Path(bin_dir).parent / "build-times.txt"
    if not times.exists():
        return [{"measure": "cold build", "note": f"no {times}: build with hack/cluster/build.sh first"}]
    lines = times.read_text().splitlines()
    caches = next((line.split()[1] for line in lines if line.startswith("caches ")), "unknown")
    rows = []
    for line in lines:
        piece, _, seconds = line.rpartition(" ")
        if seconds.endswith("s") and seconds[:-1].isdigit():
            rows.append({"measure": f"build: {piece}", "median": float(seconds[:-1]), "n": 1,
                         "note": f"recorded by the last build of this version; Go caches were {caches}"})
    return rows


def pod_start_seconds(target: ClusterTarget, runs: int) -> list[float]:
    """Task-image pods, created -> Running, watched through the API (image already on the node)."""
    from kubernetes import client, config, watch

    api = client.CoreV1Api(config.new_client_from_config(str(target.kubeconfig)))
    namespace = f"bench-pods-{uuid.uuid4().hex[:6]}"
    target.create_namespace(namespace)
    samples = []
    try:
        for i in range(runs):
            name = f"start-{i}"
            manifest = pod_manifest(name, TASK_IMAGE, args=["--sleep", "30"])
            began = time.perf_counter()
            api.create_namespaced_pod(namespace, manifest)
            for event in watch.Watch().stream(api.list_namespaced_pod, namespace, field_selector=f"metadata.name={name}",
                                              timeout_seconds=120):  # fmt: skip
                if event["object"].status.phase == "Running":
                    samples.append(time.perf_counter() - began)
                    break
            api.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
    finally:
        target.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return samples


def measure(runs: int) -> list[dict]:
    rows = recorded_build_times()
    target = ClusterTarget(start_local_cluster(), simulated=False)
    real = is_local_node(target)
    starts = []
    for _ in range(runs):
        run([str(HACK / "cluster" / "down.sh")])
        began = time.perf_counter()
        run([str(CLUSTER_UP_SCRIPT)])
        starts.append(time.perf_counter() - began)
    kind = "control plane + real node, Ready with cluster DNS" if real else "control plane, simulated nodes"
    rows.append({"measure": f"cluster-up, warm ({kind})", **summarize(starts)})
    if real:
        built = build_and_load_images()
        if built.returncode != 0:
            raise RuntimeError(f"make images failed: {built.stderr[-400:]}")
        rows.append({"measure": "pod start, task image (created -> Running)", **summarize(pod_start_seconds(target, runs))})
    # values/dev.yaml launches pods in `development`, where the DAGs' objects live.
    run([str(HACK / "create-dev-objects.sh")], env={**os.environ, "KUBECONFIG": str(target.kubeconfig)})
    target.create_namespace("airflow")
    installs = [install_until_available(target) for _ in range(runs)]
    note = "real containers: migrations ran, components passed their probes" if real else "KWOK: pods marked Ready"
    rows.append({"measure": "helm install values/dev.yaml until rolled out (Deployments Available)",
                 **summarize(installs), "note": note})  # fmt: skip
    return rows


def install_until_available(target: ClusterTarget) -> float:
    """values/dev.yaml installed as the e2e tests install it (tests/lib/installs/release.py), timed until rolled out."""
    # values/dev.yaml grants pod launching in `airflow` and `development`: install where it expects.
    release = Release(target, "airflow", ("development",))
    begin = time.perf_counter()
    result = release.install()
    elapsed = time.perf_counter() - begin
    if result.returncode != 0:
        raise RuntimeError(f"helm install of values/dev.yaml failed: {result.stderr.strip()[-400:]}")
    # Kept on uninstall by design (fernet key, PostgreSQL password, data): the next install reuses them.
    release.uninstall()
    return elapsed

