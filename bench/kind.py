"""kind on this host (hack/cluster/kind): the node image built here from cold Docker layers, then the
kind smoke module's figures (test-artifacts/kind.json): `kind create cluster` from that image, `make
deploy-dev` on it, the seed DAG through the REST API, and the deletion."""

from __future__ import annotations

import json
import subprocess
import time

from tests.lib.paths import ARTIFACTS, REPO

from .suites import last_line, run_pytest

MODULE = "tests/e2e/test_kind_smoke.py"
NOTES = {
    "cluster_up_s": "hack/cluster/up.sh with CLUSTER_MODE=kind: the node image (built above) found, kind create cluster --wait",
    "deploy_dev_s": "hack/deploy-dev.sh on that cluster: images (cached), kind load, helm install, rollout",
    "seed_run_s": "the seed DAG, triggered through the REST API, to success",
    "delete_s": "hack/cluster/kind/down.sh: the cluster and its network",
}


def measure() -> list[dict]:
    rows: list[dict] = []
    began = time.perf_counter()
    built = subprocess.run([str(REPO / "hack" / "cluster" / "kind" / "node-image.sh"), "--no-cache"],
                           capture_output=True, text=True, timeout=3600)  # fmt: skip
    seconds = round(time.perf_counter() - began, 1)
    rows.append({"measure": "kind node image, cold Docker layers", "value": seconds if built.returncode == 0 else "failed",
                 "note": (built.stdout.strip().splitlines() or ["no output"])[-1][:200]})  # fmt: skip
    (ARTIFACTS / "kind.json").unlink(missing_ok=True)
    proc = run_pytest([MODULE, "-rfs"])
    rows.append({"measure": "kind smoke module", "value": last_line(proc)})
    rows += [{"measure": "failed", "value": line.removeprefix("FAILED ")[:160]}
             for line in proc.stdout.splitlines() if line.startswith(("FAILED ", "SKIPPED "))]  # fmt: skip
    path = ARTIFACTS / "kind.json"
    for key, value in (json.loads(path.read_text()) if path.exists() else {}).items():
        rows.append({"measure": f"kind: {key.removesuffix('_s').replace('_', ' ')}", "value": value,
                     "note": f"seconds; {NOTES.get(key, '')}"})  # fmt: skip
    return rows
