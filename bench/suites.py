"""Wall time of the offline test suite (everything but tests/e2e) and of the e2e suite."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from lib.paths import REPO

from .stats import summarize

SUITES = {
    "offline": ["tests", "--ignore=tests/e2e"],
    "e2e": ["tests/e2e"],
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
