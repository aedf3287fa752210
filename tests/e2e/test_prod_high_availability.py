"""values/prod.yaml's two schedulers and two api-servers on the real node: both schedulers queue
tasks, a 24-task run (HA_ITEMS; `make bench` runs 50) loses nothing when one scheduler and one
api-server pod are deleted mid-run, once ten tasks have started, and the PodDisruptionBudgets
refuse a drain's second eviction while the first pod's replacement is not Ready (the eviction API
answers 429, as `kubectl drain` sees it).
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.lib.cluster.peak_usage import CgroupSampler
from tests.lib.cluster.pod_events import PodWatch
from tests.lib.installs.prod_install import ProdInstall, newest_pod
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.live_airflow.run_pods import TASK_POD_SELECTOR, run_label
from tests.lib.paths import ARTIFACTS
from tests.lib.render import scenarios
from tests.lib.render.helm_template import render

# What the `prod` fixture (tests/e2e/conftest.py) installs: git transport, DAG source. Modules asking
# for the same pair share one install.
PROD_INSTALL = ("https", "gitSync")

FANOUT_DAG = "kubernetes-pod-fanout"
ITEMS = int(os.environ.get("HA_ITEMS", "24"))  # more than twice the ten started before the losses
LAUNCH_NAMESPACE = "development"


def running_pods(prod: ProdInstall, component: str) -> list[str]:
    pods = prod.release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]
    return [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]


def evict(prod: ProdInstall, pod: str) -> tuple[bool, str]:
    """POST the pod's eviction, as `kubectl drain` does; (accepted, the API server's answer)."""
    body = json.dumps({"apiVersion": "policy/v1", "kind": "Eviction",
                       "metadata": {"name": pod, "namespace": prod.release.namespace}})  # fmt: skip
    path = f"/api/v1/namespaces/{prod.release.namespace}/pods/{pod}/eviction"
    answer = prod.release.target.kubectl("create", "--raw", path, "-f", "-", stdin=body, check=False)
    return answer.returncode == 0, (answer.stdout + answer.stderr).strip()


def write_footprint(sampler: CgroupSampler) -> None:
    """test-artifacts/prod-footprint.json: each component's peak beside what values/prod.yaml declares
    (rendered alone, without the local node's smaller requests)."""
    rows = []
    for deployment in render(scenarios.PROD).all("Deployment"):
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        spec = deployment["spec"]
        for container in spec["template"]["spec"]["containers"]:
            key = component if container["name"] == component else f"{component}:{container['name']}"
            rows.append({"container": key, "replicas": spec["replicas"],
                         "peak_memory_mib": round(sampler.peak_memory.get(key, 0) / 2**20, 1),
                         "peak_cpu": round(sampler.peak_cpu.get(key, 0.0), 2),
                         "requests": container["resources"].get("requests", {}),
                         "limits": container["resources"].get("limits", {})})  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "prod-footprint.json").write_text(json.dumps(sorted(rows, key=lambda r: r["container"]), indent=2) + "\n")


def started(api: AirflowApi, run_id: str) -> list[str]:
    return [k for k, ti in api.task_instances(FANOUT_DAG, run_id).items()
            if k.startswith("process_item[") and ti.state is not None and str(ti.state.value) in ("running", "success")]  # fmt: skip


class TestTwoSchedulersTwoApiServers:
    def test_every_task_runs_once_through_both_schedulers_and_survives_losing_one_of_each(
        self, prod: ProdInstall, api: AirflowApi
    ):
        schedulers = prod.database.query("select id from job where job_type = 'SchedulerJob' and state = 'running'")
        assert len(schedulers) == 2, f"two running scheduler jobs expected, found {schedulers}"
        sampler = CgroupSampler(prod.release.target, prod.release.namespace)
        with PodWatch(prod.release.target, LAUNCH_NAMESPACE, TASK_POD_SELECTOR) as watch, sampler.running():
            run_id = api.trigger(FANOUT_DAG, {"items": ITEMS})
            label = run_label(run_id)
            # Mid-run: once ten mapped tasks have started, lose one scheduler and one api-server.
            deadline = time.monotonic() + 300
            while len(started(api, run_id)) < 10:
                assert time.monotonic() < deadline, "ten mapped tasks not started within 300 s"
                time.sleep(3)
            for component in ("scheduler", "api-server"):
                prod.release.target.kubectl("delete", "pod", "-n", prod.release.namespace,
                                            running_pods(prod, component)[0], "--wait=false")  # fmt: skip
            assert api.wait_for_run(FANOUT_DAG, run_id, timeout=1200) == "success"
        write_footprint(sampler)
        created = {e["object"]["metadata"]["name"] for e in watch.events
                   if e["type"] == "ADDED" and e["object"]["metadata"]["labels"].get("run_id") == label}  # fmt: skip
        instances = api.task_instances(FANOUT_DAG, run_id)
        mapped = {k: ti for k, ti in instances.items() if k.startswith("process_item[")}
        assert len(mapped) == ITEMS
        assert {(str(ti.state.value), ti.try_number) for ti in mapped.values()} == {("success", 1)}
        assert len(created) == ITEMS, f"{len(created)} task pods for {ITEMS} tasks: a task ran twice or not at all"
        queued_by = set(prod.database.query(f"select distinct queued_by_job_id from task_instance where dag_id = '{FANOUT_DAG}'"
                                  f" and run_id = '{run_id}' and map_index >= 0"))  # fmt: skip
        assert set(schedulers) <= queued_by, f"scheduler jobs {schedulers}, tasks queued by {sorted(queued_by)}"


class TestDisruptionBudgets:
    @pytest.mark.parametrize("component", ["scheduler", "api-server", "triggerer"])
    def test_a_drain_evicts_one_replica_and_is_refused_the_second(self, prod: ProdInstall, component: str):
        prod.release.target.kubectl("rollout", "status", "-n", prod.release.namespace,
                                    f"deployment/airflow-{component}", "--timeout=300s")  # fmt: skip
        first, second = running_pods(prod, component)[:2]
        accepted, answer = evict(prod, first)
        assert accepted, f"the first eviction of a {component} was refused: {answer}"
        accepted, answer = evict(prod, second)
        assert not accepted and "disruption budget" in answer, answer
        # Once the replacement is Ready the budget allows one eviction again.
        prod.release.target.kubectl("rollout", "status", "-n", prod.release.namespace,
                                    f"deployment/airflow-{component}", "--timeout=300s")  # fmt: skip
        assert newest_pod(prod.release, component)["metadata"]["name"] not in (first, second)
