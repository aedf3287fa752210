"""`make images`: each image's build time, cold (no layer cache) and warm after a DAG change, and its size.

Cold is `hack/images/build.sh --no-cache` (every layer rebuilt; the debootstrap root filesystem and
the wheelhouse are downloads cached once and not redone). Warm is the next build after a file in
dags/ changed, which is what a DAG author waits for. Each build's times come from the script's own
record; the file added to dags/ is removed and the images rebuilt afterwards.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.lib.paths import DAGS, REPO

from .stats import summarize

BUILD = REPO / "hack" / "images" / "build.sh"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-on-k8s" / "images"
DAG_CHANGE = DAGS / "bench_dag_change.txt"


def build(*args: str) -> dict[str, float]:
    """Run the build; return its recorded seconds per step (image builds and the load into the node)."""
    proc = subprocess.run([str(BUILD), *args], capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"hack/images/build.sh {' '.join(args)} failed: {(proc.stdout + proc.stderr)[-400:]}")
    steps = {}
    for line in (CACHE / "build-times.txt").read_text().splitlines():
        name, _, seconds = line.rpartition(" ")
        steps[name] = float(seconds.rstrip("s"))
    return steps


def measure(runs: int) -> list[dict]:
    rows = []
    cold = build("--no-cache", "all")
    for name, seconds in cold.items():
        rows.append({"measure": f"cold build: {name}", "median": seconds, "n": 1, "note": "docker build --no-cache"})
    warm: dict[str, list[float]] = {}
    try:
        for i in range(runs):
            DAG_CHANGE.write_text(f"bench run {i}: a change to the DAG bundle\n")
            for name, seconds in build().items():
                warm.setdefault(name, []).append(seconds)
    finally:
        DAG_CHANGE.unlink(missing_ok=True)
        build()
    for name, samples in warm.items():
        rows.append({"measure": f"after a DAG change: {name}", **summarize(samples)})
    rows.append({"measure": "after a DAG change: total", **summarize([sum(s) for s in zip(*warm.values())])})
    for line in (CACHE / "sizes.txt").read_text().splitlines():
        image, size = line.split()
        rows.append({"measure": f"size: {image}", "mib": round(int(size) / 2**20, 1)})
    return rows
