"""values/prod.yaml on the real node: runs the prod e2e modules (tests/e2e/test_prod_*.py) and reports
what they measured: seconds from `git push` to the new DAG listed and to a run on the new code,
with git-sync (test-artifacts/gitsync.json) and with the GitDagBundle (gitbundle.json), each component's peak memory and CPU from its cgroups during a
50-task run beside the requests and limits prod.yaml declares (prod-footprint.json), the seconds
from a task's end to its log in the S3 bucket (remote-logs.json), the NetworkPolicy flows tried
(network-policies.json), and from the metrics in a real Prometheus (metrics.json): the seconds from a
task's end to its count in Prometheus and the statsd-exporter's peak CPU and memory, and a fan-out
run's tasks over time drawn from Prometheus (metrics-load.json, bench/load-metrics.png).
"""

from __future__ import annotations

import json

from tests.lib.paths import ARTIFACTS

from . import metrics_plot
from .suites import last_line, run_pytest

HA_ITEMS = 50  # the fan-out the footprint is measured on (the suite runs 24)

MODULES = ("tests/e2e/test_prod_git_https.py", "tests/e2e/test_prod_git_bundle.py",
           "tests/e2e/test_prod_high_availability.py", "tests/e2e/test_prod_network_policies.py",
           "tests/e2e/test_prod_remote_logs.py", "tests/e2e/test_prod_metrics.py")  # fmt: skip
FILES = ("gitsync.json", "gitbundle.json", "prod-footprint.json", "network-policies.json", "remote-logs.json",
         "metrics.json", "metrics-load.json")  # fmt: skip
METRICS_LOAD_ITEMS = 50  # the fan-out drawn from Prometheus (the suite runs 8)


def _read(name: str):
    path = ARTIFACTS / name
    return json.loads(path.read_text()) if path.exists() else None


def measure() -> list[dict]:
    for name in FILES:
        (ARTIFACTS / name).unlink(missing_ok=True)
    proc = run_pytest([*MODULES, "-rf"], env={"HA_ITEMS": str(HA_ITEMS), "METRICS_LOAD_ITEMS": str(METRICS_LOAD_ITEMS)})
    rows: list[dict] = [{"measure": "prod e2e modules", "value": last_line(proc)}]
    # A figure beside a failed test may be off: say which failed (pytest -rf's short summary).
    rows += [{"measure": "failed", "value": line.removeprefix("FAILED ")[:160]}
             for line in proc.stdout.splitlines() if line.startswith("FAILED ")]  # fmt: skip
    for source, name in (("git-sync", "gitsync.json"), ("GitDagBundle", "gitbundle.json")):
        for key, seconds in (_read(name) or {}).items():
            rows.append({"measure": f"{source}: {key.removesuffix('_s').replace('_', ' ')}", "value": seconds,
                         "note": "seconds"})  # fmt: skip
    for key, seconds in (_read("remote-logs.json") or {}).items():
        rows.append({"measure": f"remote logs: {key.removesuffix('_s').replace('_', ' ')}", "value": seconds,
                     "note": "seconds from the task's end (its end_date) to its log object listed in the bucket"})  # fmt: skip
    metrics = _read("metrics.json") or {}
    if "metric_delay_s" in metrics:
        rows.append({"measure": "metrics: task end to its count in Prometheus", "value": metrics["metric_delay_s"],
                     "note": "seconds from the task's end_date to ti_finish counted (StatsD, then a 5 s scrape)"})  # fmt: skip
    if "import_error_alert_firing_after_push_s" in metrics:
        rows.append({"measure": "metrics: broken DAG pushed to its alert firing", "value": metrics["import_error_alert_firing_after_push_s"],
                     "note": "seconds; git-sync, parse, scrape, and the alert's `for` (10 s in the test)"})  # fmt: skip
    if "exporter_peak_memory_mib" in metrics:
        rows.append({"measure": "peak statsd-exporter (x1)", "peak_memory_mib": metrics["exporter_peak_memory_mib"],
                     "peak_cpu": metrics["exporter_peak_cpu_cores"],
                     "note": "its own process metrics in Prometheus; requests 20m / 32Mi, limits 200m / 128Mi"})  # fmt: skip
    plot = metrics_plot.draw()
    if plot is not None:
        rows.append({"measure": "metrics: a fan-out run drawn from Prometheus", "value": plot.name,
                     "note": f"{METRICS_LOAD_ITEMS} mapped pod tasks queued, running and finished over time"})  # fmt: skip
    for row in _read("prod-footprint.json") or []:
        rows.append({"measure": f"peak {row['container']} (x{row['replicas']})",
                     "peak_memory_mib": row["peak_memory_mib"], "peak_cpu": row["peak_cpu"],
                     "note": f"requests {row['requests']}, limits {row['limits']}"})  # fmt: skip
    for flow in _read("network-policies.json") or []:
        rows.append({"measure": f"flow {flow['from']} -> {flow['to']}", "value": flow["observed"],
                     "note": f"expected {flow['expected']}"})  # fmt: skip
    return rows
