"""values/prod.yaml on the real node: runs the prod e2e modules (tests/e2e/test_prod_*.py) and reports
what they measured: seconds from `git push` to the new DAG listed and to a run on the new code,
with git-sync (test-artifacts/gitsync.json) and with the GitDagBundle (gitbundle.json), each component's peak memory and CPU from its cgroups during a
50-task run beside the requests and limits prod.yaml declares (prod-footprint.json), the seconds
from a task's end to its log in the S3 bucket (remote-logs.json), and the NetworkPolicy flows tried
(network-policies.json).
"""

from __future__ import annotations

import json

from lib.paths import ARTIFACTS

from .suites import last_line, run_pytest

HA_ITEMS = 50  # the fan-out the footprint is measured on (the suite runs 24)

MODULES = ("tests/e2e/test_prod_git_https.py", "tests/e2e/test_prod_git_bundle.py",
           "tests/e2e/test_prod_high_availability.py", "tests/e2e/test_prod_network_policies.py",
           "tests/e2e/test_prod_remote_logs.py")  # fmt: skip
FILES = ("gitsync.json", "gitbundle.json", "prod-footprint.json", "network-policies.json", "remote-logs.json")


def _read(name: str):
    path = ARTIFACTS / name
    return json.loads(path.read_text()) if path.exists() else None


def measure() -> list[dict]:
    for name in FILES:
        (ARTIFACTS / name).unlink(missing_ok=True)
    summary = last_line(run_pytest(MODULES, env={"HA_ITEMS": str(HA_ITEMS)}))
    rows: list[dict] = [{"measure": "prod e2e modules", "value": summary}]
    for source, name in (("git-sync", "gitsync.json"), ("GitDagBundle", "gitbundle.json")):
        for key, seconds in (_read(name) or {}).items():
            rows.append({"measure": f"{source}: {key.removesuffix('_s').replace('_', ' ')}", "value": seconds,
                         "note": "seconds"})  # fmt: skip
    for key, seconds in (_read("remote-logs.json") or {}).items():
        rows.append({"measure": f"remote logs: {key.removesuffix('_s').replace('_', ' ')}", "value": seconds,
                     "note": "seconds from the task's end (its end_date) to its log object listed in the bucket"})  # fmt: skip
    for row in _read("prod-footprint.json") or []:
        rows.append({"measure": f"peak {row['container']} (x{row['replicas']})",
                     "peak_memory_mib": row["peak_memory_mib"], "peak_cpu": row["peak_cpu"],
                     "note": f"requests {row['requests']}, limits {row['limits']}"})  # fmt: skip
    for flow in _read("network-policies.json") or []:
        rows.append({"measure": f"flow {flow['from']} -> {flow['to']}", "value": flow["observed"],
                     "note": f"expected {flow['expected']}"})  # fmt: skip
    return rows
