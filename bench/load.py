"""Load on the real node: runs tests/e2e/test_load.py (one run of `kubernetes-pod-fanout` mapping a pod
task over 200 items, 40 with --quick, on values/dev.yaml) and reports what it measured into
test-artifacts/load.json: tasks completed per minute, each task's queue-to-running latency (its
`queued_when` to `start_date`, which includes starting its worker pod), the most worker pods
running at once beside the parallelism, and the scheduler's and api-server's peak memory and CPU
from their cgroups.
"""

from __future__ import annotations

import json

from tests.lib.paths import ARTIFACTS

from .suites import last_line, run_pytest

MEASURED = ARTIFACTS / "load.json"


def measure(items: int) -> list[dict]:
    MEASURED.unlink(missing_ok=True)
    summary = last_line(run_pytest(["tests/e2e/test_load.py"], env={"LOAD_ITEMS": str(items)}))
    if not MEASURED.exists():
        return [{"measure": "load", "note": f"nothing measured: {summary}"}]
    m = json.loads(MEASURED.read_text())
    rows = [
        {"measure": f"{m['items']} mapped pod tasks: tasks completed per minute", "value": round(m["tasks_per_minute"], 1),
         "note": f"{m['tasks_succeeded']} succeeded in {m['seconds_first_queued_to_last_ended']:.0f} s (first queued "
                 f"to last ended); tests: {summary}"},
        {"measure": "queue -> running latency (queued_when -> start_date)", "median": m["queue_to_running_median_s"],
         "p95": m["queue_to_running_p95_s"], "max": m["queue_to_running_max_s"], "n": m["tasks_succeeded"]},
        {"measure": "worker pods running at once, most", "value": m["most_worker_pods_at_once"],
         "note": f"[core] parallelism {m['parallelism']}"},
    ]  # fmt: skip
    for component in ("scheduler", "api-server"):
        rows.append({"measure": f"peak during the load: {component}",
                     "peak_memory_mib": m["peak_memory_mib"].get(component, 0.0),
                     "peak_cpu": m["peak_cpu"].get(component, 0.0)})  # fmt: skip
    return rows
