"""The local control plane: cold build (as recorded by the build), warm start, and chart install time.

The bench uses a cluster of its own (LOCAL_CLUSTER_NAME=airflow-on-k8s-bench), so it never stops the
one tests or `make deploy-dev` use.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from lib.cluster import ClusterTarget
from lib.paths import REPO
from lib.release import Release

from .stats import summarize

BENCH_CLUSTER = "airflow-on-k8s-bench"
HACK = REPO / "hack"


def run(cmd: list[str], env: dict[str, str], timeout: int = 900) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")


def recorded_build_times() -> list[dict]:
    """The cold build is minutes of compiling: reported as the build script recorded it, not redone."""
    bin_dir = subprocess.run([str(HACK / "build-control-plane.sh"), "--print-bin-dir"], capture_output=True,
                             text=True, check=True).stdout.strip()
    times = Path(bin_dir).parent / "build-times.txt"
    if not times.exists():
        return [{"measure": "cold build", "note": f"no {times}: build with hack/build-control-plane.sh first"}]
    rows = []
    for line in times.read_text().splitlines():
        piece, _, seconds = line.rpartition(" ")
        if seconds.endswith("s") and seconds[:-1].isdigit():
            rows.append({"measure": f"cold build: {piece}", "median": float(seconds[:-1]), "n": 1,
                         "note": "recorded by the build (once per version; not re-run)"})
    return rows


def measure(runs: int) -> list[dict]:
    rows = recorded_build_times()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "bench.kubeconfig"
        env = {**os.environ, "LOCAL_CLUSTER_NAME": BENCH_CLUSTER, "LOCAL_KUBECONFIG": str(kubeconfig),
               "KUBECONFIG": str(kubeconfig), "PATH": f"{REPO / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        starts, installs = [], []
        try:
            run([str(HACK / "cluster-up.sh")], env)  # warm-up: binaries built, caches filled
            for _ in range(runs):
                run([str(HACK / "cluster-down.sh")], env)
                begin = time.perf_counter()
                run([str(HACK / "cluster-up.sh")], env)
                starts.append(time.perf_counter() - begin)
            run([str(HACK / "create-dev-objects.sh")], env)  # values/dev.yaml launches pods in `development`
            target = ClusterTarget(kubeconfig, simulated=True)
            target.create_namespace("airflow")
            for _ in range(runs):
                installs.append(install_until_available(target))
        finally:
            subprocess.run([str(HACK / "cluster-down.sh")], capture_output=True, env=env)
    rows.append({"measure": "cluster-up, warm (binaries cached)", **summarize(starts)})
    rows.append({"measure": "helm install values/dev.yaml until rolled out (Deployments Available)", **summarize(installs),
                 "note": "KWOK: pods scheduled and marked Ready, containers do not run"})
    return rows


def install_until_available(target: ClusterTarget) -> float:
    """values/dev.yaml installed as the e2e tests install it (lib.release), timed until rolled out."""
    # values/dev.yaml grants pod launching in `airflow` and `development`: install where it expects.
    release = Release(target, "airflow", ("airflow", "development"))
    begin = time.perf_counter()
    result = release.install()
    elapsed = time.perf_counter() - begin
    if result.returncode != 0:
        raise RuntimeError(f"helm install of values/dev.yaml failed: {result.stderr.strip()[-400:]}")
    # Kept on uninstall by design (fernet key, PostgreSQL password, data): the next install reuses them.
    release.uninstall()
    return elapsed
