"""bench measures with the suite's helpers (rendering, the cluster, installs, Airflow) but never with
its machinery (tests/lib/suite): what it reads back of a run, it finds through tests/lib/paths.py."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

from tests.lib.paths import REPO

IMPORT_ALL = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("tests."))))
"""


def test_bench_imports_nothing_of_the_suites_machinery():
    modules = [f"bench.{m.name}" for m in pkgutil.iter_modules([str(REPO / "bench")])]
    assert "bench.suites" in modules and "bench.airflow" in modules
    # As `python -m bench` runs: from the repository root, which puts it on sys.path.
    done = subprocess.run([sys.executable, "-c", IMPORT_ALL, *modules], cwd=REPO, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    assert "tests.lib.paths" in imported
    assert not [m for m in imported if m == "tests.lib.suite" or m.startswith("tests.lib.suite.")]
