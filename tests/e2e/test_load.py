"""Load: one run fans out to many pod tasks on the dev deployment and the one node.

`kubernetes-pod-fanout` with `items: 30` (LOAD_ITEMS overrides; `make bench` runs 200),
values/dev.yaml's parallelism (6): five times the parallelism, so the executor holds it back
for the whole run, in the suite's budget (200 items took 11 minutes of a 2-core node).
Every task succeeds; the scheduler and api-server are never OOMKilled or restarted; no pod is left;
and the executor never has more worker pods at once than the parallelism allows (from a watch of
every worker pod's life). What the run measured (tasks per minute, queue-to-running latency, the
components' peak memory from their cgroups) goes to test-artifacts/load.json for `make bench`.
Skipped where containers do not run.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.lib.cluster.peak_usage import CgroupSampler
from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.target import ClusterTarget
from tests.lib.installs.release import Release
from tests.lib.live_airflow.rest_api import connect
from tests.lib.live_airflow.run_pods import TASK_POD_SELECTOR, WORKER_POD_SELECTOR, run_label, wait_no_pods
from tests.lib.paths import ARTIFACTS, VALUES_DIR

DAG = "kubernetes-pod-fanout"
ITEMS = int(os.environ.get("LOAD_ITEMS", "30"))
MEASURED = ARTIFACTS / "load.json"
PARALLELISM = int(yaml.safe_load((VALUES_DIR / "dev.yaml").read_text())["config"]["core"]["parallelism"])


@dataclass
class LoadRun:
    release: Release
    run_id: str
    state: str
    states: dict[str, str]
    seconds: float
    workers: list[dict[str, Any]]  # watch events of the worker pods
    task_pods: list[dict[str, Any]]


@pytest.fixture(scope="module")
def load(running_containers: ClusterTarget, dev_airflow: Release) -> Iterator[LoadRun]:
    target, release = running_containers, dev_airflow  # the dev install the DAG-running modules share
    with connect(release) as api:
        api.wait_for_dags({DAG})
        sampler = CgroupSampler(target, release.namespace)
        with PodWatch(target, release.namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}") as workers, \
                PodWatch(target, "development", f"{TASK_POD_SELECTOR},dag_id={DAG}") as task_pods, \
                sampler.running():  # fmt: skip
            started = time.monotonic()
            run_id = api.trigger(DAG, {"items": ITEMS})
            state = api.wait_for_run(DAG, run_id, timeout=3600)
            seconds = time.monotonic() - started
            assert wait_no_pods(target, release.namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}") == []
        instances = api.task_instances(DAG, run_id)
        states = {task: str(ti.state.value) for task, ti in instances.items()}
        # Only this run's pods: a lane beside this one may run the same DAG into `development`.
        mine = [e for e in task_pods.events if e["object"]["metadata"].get("labels", {}).get("run_id") == run_label(run_id)]
        run = LoadRun(release, run_id, state, states, seconds, workers.events, mine)
        write_measurements(run, [ti for key, ti in instances.items() if key.startswith("process_item[")], sampler)
        yield run


def most_alive(events: list[dict[str, Any]]) -> int:
    """The most pods pending or running at once, from watch events in order (a pod whose task has
    ended no longer holds an executor slot, though it may wait a moment to be deleted)."""
    alive: set[str] = set()
    most = 0
    for event in events:
        name, phase = event["object"]["metadata"]["name"], event["object"].get("status", {}).get("phase")
        ended = event["type"] == "DELETED" or phase in ("Succeeded", "Failed")
        (alive.discard if ended else alive.add)(name)
        most = max(most, len(alive))
    return most


def write_measurements(run: LoadRun, mapped: list[Any], sampler: CgroupSampler) -> None:
    """What `make bench` reports for the load: throughput, latency, concurrency, peak use."""
    done = [ti for ti in mapped if ti.start_date and ti.end_date and ti.queued_when]
    if not done:
        return
    latencies = sorted((ti.start_date - ti.queued_when).total_seconds() for ti in done)
    span = (max(ti.end_date for ti in done) - min(ti.queued_when for ti in done)).total_seconds()
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(json.dumps({
        "items": ITEMS, "state": run.state, "tasks_succeeded": sum(str(ti.state.value) == "success" for ti in mapped),
        "seconds_first_queued_to_last_ended": span, "tasks_per_minute": len(done) / span * 60,
        "queue_to_running_median_s": statistics.median(latencies),
        "queue_to_running_p95_s": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
        "queue_to_running_max_s": latencies[-1],
        "most_worker_pods_at_once": most_alive(run.workers), "parallelism": PARALLELISM,
        "peak_memory_mib": {c: round(b / 2**20, 1) for c, b in sampler.peak_memory.items()},
        "peak_cpu": {c: round(v, 2) for c, v in sampler.peak_cpu.items()},
    }, indent=2) + "\n")  # fmt: skip


def test_every_one_of_the_fanned_out_pod_tasks_succeeds(load: LoadRun) -> None:
    mapped = {t: s for t, s in load.states.items() if t.startswith("process_item[")}
    assert len(mapped) == ITEMS, len(mapped)
    assert load.state == "success" and set(load.states.values()) == {"success"}, {
        t: s for t, s in load.states.items() if s != "success"}  # fmt: skip
    pods = {e["object"]["metadata"]["name"] for e in load.task_pods if e["type"] == "ADDED"}
    assert len(pods) == ITEMS, f"{len(pods)} task pods for {ITEMS} items (a retry or a lost pod?)"


def test_never_more_worker_pods_at_once_than_the_parallelism(load: LoadRun) -> None:
    most = most_alive(load.workers)
    assert 1 < most <= PARALLELISM, f"{most} worker pods at once with parallelism {PARALLELISM}"


def test_the_scheduler_and_api_server_were_never_restarted_or_oom_killed(load: LoadRun) -> None:
    for component in ("scheduler", "api-server"):
        for pod in load.release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]:
            status = pod["status"]["containerStatuses"][0]
            assert status["restartCount"] == 0, (component, status)
            assert status.get("lastState", {}).get("terminated", {}).get("reason") != "OOMKilled", status


def test_no_pod_is_left(load: LoadRun) -> None:
    target = load.release.target
    assert wait_no_pods(target, "development", f"{TASK_POD_SELECTOR},run_id={run_label(load.run_id)}", timeout=30) == []
    assert wait_no_pods(target, load.release.namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}", timeout=30) == []
