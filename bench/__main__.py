"""Run the benchmarks, write bench/results.json and print a short table with the targets.

Usage: python -m bench [--quick] [--only render,dags,footprint,suites,cluster,images,airflow,load,faults,prod,kind]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from . import dag_parse, footprint, helm_render, suites
from .report import print_report, targets

RESULTS = Path(__file__).resolve().parent / "results.json"
PARTS = ("render", "dags", "footprint", "suites", "cluster", "images", "airflow", "load", "faults", "prod", "kind")


def main() -> int:
    parser = argparse.ArgumentParser(description="Measure what the repo costs.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (for a smoke run)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {PARTS}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if unknown := only - set(PARTS):
        print(f"bench: unknown part(s) {sorted(unknown)}; choose from {PARTS}", file=sys.stderr)
        return 2
    runs = 5 if args.quick else 21
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "platform": platform.platform()},
                     "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if RESULTS.exists():  # keep parts not re-measured in this run
        results = {**json.loads(RESULTS.read_text()), **results}
    if "render" in only:
        results["helm_template"] = helm_render.measure(runs)
    if "dags" in only:
        results["dag_parse"] = dag_parse.measure(runs)
    if "footprint" in only:
        results["footprint"] = footprint.measure()
    if "suites" in only:
        results["suites"] = suites.measure(1 if args.quick else 3)
        results["suite_runs"] = suites.recorded_runs()
    if "cluster" in only:
        from . import cluster  # noqa: PLC0415

        results["cluster"] = cluster.measure(1 if args.quick else 3)
    if "images" in only:
        from . import images  # noqa: PLC0415

        results["images"] = images.measure(1 if args.quick else 3)
    if "airflow" in only:
        from . import airflow  # noqa: PLC0415

        results["airflow"] = airflow.measure(1 if args.quick else 3)
    if "load" in only:
        from . import load  # noqa: PLC0415

        results["load"] = load.measure(40 if args.quick else 200)
    if "faults" in only:
        from . import faults  # noqa: PLC0415

        results["faults"] = faults.measure()
    if "prod" in only:
        from . import prod  # noqa: PLC0415

        results["prod"] = prod.measure()
    if "kind" in only:
        from . import kind  # noqa: PLC0415

        results["kind"] = kind.measure()
    results["targets"] = targets(results)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)
    print(f"\nwritten: {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, subprocess.CalledProcessError) as err:  # a measured command failed: say which
        detail = err.stderr.strip()[-400:] if isinstance(err, subprocess.CalledProcessError) else ""
        print(f"bench: {err} {detail}".rstrip(), file=sys.stderr)
        sys.exit(1)
