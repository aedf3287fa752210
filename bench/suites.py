"""Wall time of the offline test suite (everything but tests/e2e), measured here; and where the time of
the last whole `make test` went, warm and cold, per e2e module, as that run recorded it
(tests/lib/suite/module_times.py): the whole suite is too long to repeat in a benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from tests.lib.paths import RECORDED_SUITE_TIMES as RECORDED
from tests.lib.paths import REPO

from .stats import summarize

SUITES = {
    "offline": ["tests", "--ignore=tests/e2e"],
}


def run_pytest(args: list[str] | tuple[str, ...], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in a child process from the repo root, output captured; never raises on failures."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env={**os.environ, **(env or {})})


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    """pytest's summary ("4 passed in ..."), or what it printed last."""
    return (proc.stdout.strip().splitlines() or ["no output"])[-1]


def run_suite(args: list[str]) -> float:
    start = time.perf_counter()
    proc = run_pytest(args)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.strip().splitlines()[-5:])
        raise RuntimeError(f"pytest {' '.join(args)} failed while benchmarking:\n{tail}")
    return elapsed


def measure(runs: int) -> list[dict]:
    rows = []
    for name, args in SUITES.items():
        if not (REPO / args[0]).exists():
            rows.append({"suite": name, "skipped": f"{args[0]} does not exist"})
            continue
        run_suite(args)  # warm: imports compiled, caches filled
        rows.append({"suite": name, **summarize([run_suite(args) for _ in range(runs)])})
    return rows


def recorded_runs() -> list[dict]:
    """Per e2e module (tests, seconds) and the totals of the last whole warm and cold runs, if any."""
    rows = []
    for kind in ("warm", "cold"):
        path = RECORDED / f"{kind}.json"
        if not path.exists():
            rows.append({"run": kind, "module": "(none recorded)", "note": f"run make test to record one ({path})"})
            continue
        run = json.loads(path.read_text())
        modules = run["modules"]
        e2e = {m: v for m, v in modules.items() if m.startswith("tests/e2e/")}
        for module, v in sorted(e2e.items(), key=lambda kv: -kv[1]["seconds"]):
            rows.append({"run": kind, "module": module.removeprefix("tests/e2e/"), "tests": v["tests"],
                         "seconds": v["seconds"]})  # fmt: skip
        offline = [v for m, v in modules.items() if m not in e2e]
        rows += [
            {"run": kind, "module": "TOTAL e2e", "tests": sum(v["tests"] for v in e2e.values()),
             "seconds": round(sum(v["seconds"] for v in e2e.values()), 1)},
            {"run": kind, "module": "TOTAL offline", "tests": sum(v["tests"] for v in offline),
             "seconds": round(sum(v["seconds"] for v in offline), 1)},
            {"run": kind, "module": "cluster-up + make images", "seconds": run["cluster_setup_s"],
             "note": "in the background while the offline tests run"},
            {"run": kind, "module": "TOTAL pytest wall", "tests": sum(v["tests"] for v in modules.values()),
             "seconds": run["wall_s"], "note": f"finished {run['finished']}, exit status {run['exit_status']}"},
        ]  # fmt: skip
    return rows
