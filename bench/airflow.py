"""Airflow on the real node: install to Available, the seed DAG's trigger to success, a trivial pod
task's overhead through the KubernetesExecutor, and each component's real peak memory and CPU (read
from its container's cgroup) beside the requests and limits values/dev.yaml gives it.

Needs the local cluster with a real node (cgroups are read on this host); elsewhere it says so.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any

from tests.lib.cluster.local_node import build_and_load_images, is_local_node
from tests.lib.cluster.peak_usage import CgroupSampler
from tests.lib.cluster.target import ClusterTarget, start_local_cluster
from tests.lib.installs.release import NO_DATABASE_VOLUME, installed
from tests.lib.live_airflow import liveness_cpu
from tests.lib.live_airflow.rest_api import connect
from tests.lib.paths import REPO
from tests.lib.render.chart_objects import quantity

from .stats import summarize

RELEASE = "airflow-bench"
SEED = "kubernetes-dag"
TRIVIAL = "kubernetes-pod-params"  # one pod task, the task image's quick default run


class Timeline:
    """Pod events of one namespace with the moment each arrived, from a watch in a thread."""

    def __init__(self, target: ClusterTarget, namespace: str, selector: str) -> None:
        from kubernetes import client, config

        self.api = client.CoreV1Api(config.new_client_from_config(str(target.kubeconfig)))
        self.namespace, self.selector = namespace, selector
        self.events: list[tuple[float, str, str, str, str]] = []  # (time, type, pod, phase, run_id label)
        self._stop = threading.Event()

    def _run(self) -> None:
        from kubernetes import watch

        w = watch.Watch()
        while not self._stop.is_set():
            for event in w.stream(self.api.list_namespaced_pod, self.namespace, label_selector=self.selector,
                                  timeout_seconds=5):  # fmt: skip
                pod = event["object"]
                run_id = (pod.metadata.labels or {}).get("run_id", "")
                self.events.append((time.monotonic(), event["type"], pod.metadata.name, pod.status.phase or "", run_id))
                if self._stop.is_set():
                    break

    def __enter__(self) -> Timeline:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        time.sleep(1)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(2)
        self._stop.set()
        self.thread.join(timeout=15)

    def first(self, run_id: str, event_type: str, phase: str | None = None) -> float | None:
        """When the first event of this type (and phase) arrived for a pod of DAG run `run_id`."""
        from airflow.providers.cncf.kubernetes.pod_generator import make_safe_label_value

        label = make_safe_label_value(run_id)
        return next((t for t, typ, _, ph, run in self.events
                     if run == label and typ == event_type and (phase is None or ph == phase)), None)


def measure(runs: int) -> list[dict]:
    target = ClusterTarget(start_local_cluster(), simulated=False)
    if not is_local_node(target):
        return [{"measure": "airflow", "note": "needs the local cluster's real node (cgroups read on this host)"}]
    built = build_and_load_images()
    if built.returncode != 0:
        raise RuntimeError(f"make images failed: {built.stderr[-400:]}")
    subprocess.run([str(REPO / "hack" / "create-dev-objects.sh")], check=True, capture_output=True,
                   env={**os.environ, "KUBECONFIG": str(target.kubeconfig)})  # fmt: skip
    rows: list[dict] = []
    began = time.perf_counter()
    with installed(target, "bench-airflow", ("development",), NO_DATABASE_VOLUME, RELEASE) as release:
        rows.append({"measure": "helm install values/dev.yaml -> every Deployment Available (real node)",
                     **summarize([time.perf_counter() - began])})  # fmt: skip
        sampler = CgroupSampler(target, release.namespace)
        with connect(release) as api, sampler.running():
            deadline = time.monotonic() + 300
            while SEED not in api.dag_ids() and time.monotonic() < deadline:
                time.sleep(2)
            # A quick task pod may go from Pending to Succeeded without a Running in between.
            seeds, overheads = [], {"worker pod created -> Running": [], "worker Running -> task pod created": [],
                                    "task pod created -> Succeeded": [], "task pod Succeeded -> deleted": [],
                                    "task pod deleted -> worker pod deleted": []}  # fmt: skip
            for _ in range(runs):
                start = time.perf_counter()
                run_id = api.trigger(SEED)
                assert api.wait_for_run(SEED, run_id) == "success"
                seeds.append(time.perf_counter() - start)
            for _ in range(runs):
                with Timeline(target, release.namespace, "kubernetes_executor=True") as workers, \
                        Timeline(target, "development", f"dag_id={TRIVIAL}") as pods:  # fmt: skip
                    run_id = api.trigger(TRIVIAL)
                    assert api.wait_for_run(TRIVIAL, run_id) == "success"
                    time.sleep(3)
                marks = [workers.first(run_id, "ADDED"), workers.first(run_id, "MODIFIED", "Running"),
                         pods.first(run_id, "ADDED"), pods.first(run_id, "MODIFIED", "Succeeded"),
                         pods.first(run_id, "DELETED"), workers.first(run_id, "DELETED")]  # fmt: skip
                if None not in marks:
                    for samples, (a, b) in zip(overheads.values(), zip(marks, marks[1:])):
                        samples.append(b - a)
                    overheads.setdefault("total: worker pod created -> deleted", []).append(marks[-1] - marks[0])
        rows.append({"measure": "seed DAG: trigger -> success (REST API)", **summarize(seeds)})
        for name, samples in overheads.items():
            if samples:
                rows.append({"measure": f"trivial pod task: {name}", **summarize(samples)})
        rows.extend(footprint_rows(release, sampler))
        rows.extend(probe_rows(release, runs))
    return rows


def probe_rows(release: Any, runs: int) -> list[dict]:
    """CPU-seconds of each liveness probe the chart runs as a command (every 30 s, forever), beside
    what the Airflow CLI check it replaces costs in the same container."""
    rows = []
    for component, job_type in (("triggerer", "TriggererJob"), ("dag-processor", "DagProcessorJob")):
        pod, command = liveness_cpu.liveness(release, component)
        costs = [liveness_cpu.run_measured(release, pod, component, command).cpu_seconds for _ in range(max(runs, 3))]
        cli = liveness_cpu.run_measured(release, pod, component, ["airflow", "jobs", "check", "--job-type", job_type, "--local"])
        rows.append({"measure": f"liveness probe CPU-seconds: {component} (airflow jobs check: {cli.cpu_seconds:.2f})",
                     **summarize(costs)})  # fmt: skip
    return rows


def footprint_rows(release: Any, sampler: CgroupSampler) -> list[dict]:
    """Peak use per component beside what values/dev.yaml requests and allows it."""
    rows = []
    for kind in ("deployment", "statefulset"):
        for workload in release.kubectl_json("get", kind)["items"]:
            component = workload["metadata"]["labels"].get("app.kubernetes.io/component")
            (main,) = workload["spec"]["template"]["spec"]["containers"][:1]
            resources = main.get("resources", {})
            rows.append({
                "measure": f"peak use: {component}",
                "peak_memory_mib": round(sampler.peak_memory.get(component, 0) / 2**20, 1),
                "request_memory_mib": round(quantity(resources.get("requests", {}).get("memory", 0)) / 2**20),
                "limit_memory_mib": round(quantity(resources.get("limits", {}).get("memory", 0)) / 2**20),
                "peak_cpu": round(sampler.peak_cpu.get(component, 0.0), 2),
                "request_cpu": quantity(resources.get("requests", {}).get("cpu", 0)),
                "limit_cpu": quantity(resources.get("limits", {}).get("cpu", 0)),
            })  # fmt: skip
    return rows
