"""Remote task logs (values/prod.yaml's logs.remote) in a real S3 server (versitygw, its own namespace,
the bucket created beforehand as a user creates theirs): finished tasks' logs outlive every pod that
wrote them, the deferrable task's trigger part included, and a store that is down changes no task's
result while the log read says where the log was meant to be.

Read back as a user would: objects listed with an S3 client, logs through the REST API (what the UI
shows). Figures (seconds from a task's end to its log object in the bucket) go to
test-artifacts/remote-logs.json, which `make bench` reports.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import pytest

from tests.lib.installs.prod_install import LOG_BUCKET, LOG_PREFIX, ProdInstall
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.suite.fault_report import record

PROD_INSTALL = ("https", "gitSync")
FIGURES_FILE = "remote-logs.json"
SEED_DAG, SEED_TASK = "kubernetes-dag", "kubernetespodoperator"
DEFERRABLE_DAG, DEFERRABLE_TASK = "kubernetes-pod-deferrable", "long_running_pod"
SHORT_DAG, SHORT_TASK = "kubernetes-pod-params", "process"
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def log_prefix(dag_id: str, run_id: str, task_id: str) -> str:
    """Where Airflow 3.3's default log_filename_template puts a task's attempts, under the bucket."""
    return f"{LOG_PREFIX}/dag_id={dag_id}/run_id={run_id}/task_id={task_id}/"


TASK_LOG = r"attempt=1\.log"
TRIGGER_LOG = r"attempt=1\.log\.trigger\.\d+\.log"  # the triggerer's part, by its job id


def wait_for_object(prod: ProdInstall, prefix: str, name: str, timeout: float = 120) -> tuple[str, float]:
    """The first key under `prefix` whose file name matches the regex `name`, and the time.time() it
    was first listed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [k for k in prod.store.objects(LOG_BUCKET, prefix) if re.fullmatch(name, k.rsplit("/", 1)[-1])]
        if found:
            return found[0], time.time()
        time.sleep(0.25)
    raise AssertionError(f"no object ending in {name} under s3://{LOG_BUCKET}/{prefix} within {timeout} s: "
                         f"{sorted(prod.store.objects(LOG_BUCKET, LOG_PREFIX))[-10:]}")  # fmt: skip


def delete_every_airflow_pod(prod: ProdInstall) -> None:
    """Every pod of Airflow's components, then each back and Ready (new pods, empty local logs). The
    install is shared: what holds no task log (the statsd-exporter, whose counters other modules
    read) is left running."""
    release = prod.release
    airflow_pods = ("get", "pods", "-l", f"app.kubernetes.io/component in ({','.join(AIRFLOW_COMPONENTS)})")
    before = {p["metadata"]["name"] for p in release.kubectl_json(*airflow_pods)["items"]}
    exporter = {p["metadata"]["name"] for p in release.kubectl_json("get", "pods", "-l", "app.kubernetes.io/component=statsd")["items"]}
    release.target.kubectl("delete", "pods", "-n", release.namespace, "-l",
                           f"app.kubernetes.io/instance=airflow,app.kubernetes.io/component in ({','.join(AIRFLOW_COMPONENTS)})",
                           "--wait=true", "--timeout=180s")  # fmt: skip
    release.wait_rolled_out(timeout=300)
    after = {p["metadata"]["labels"].get("app.kubernetes.io/component"): p["metadata"]["name"]
             for p in release.kubectl_json(*airflow_pods)["items"]}  # fmt: skip
    assert set(AIRFLOW_COMPONENTS) <= set(after) and not before & set(after.values()), (before, after)
    assert exporter <= {p["metadata"]["name"] for p in release.kubectl_json("get", "pods")["items"]}, exporter


@pytest.fixture(scope="module")
def finished(prod: ProdInstall, api: AirflowApi, figures: dict[str, Any]) -> Iterator[dict[str, str]]:
    """A seed run and a deferrable run, both finished, their logs uploaded; then every Airflow pod
    deleted. Yields the run ids by DAG."""
    runs = {SEED_DAG: api.trigger(SEED_DAG), DEFERRABLE_DAG: api.trigger(DEFERRABLE_DAG)}
    _, seen = wait_for_object(prod, log_prefix(SEED_DAG, runs[SEED_DAG], SEED_TASK), TASK_LOG, 600)
    ended = api.task_instances(SEED_DAG, runs[SEED_DAG])[SEED_TASK].end_date
    # The supervisor uploads once the task process has exited: from the task's end to the object.
    if ended is not None:
        figures["upload_delay_s"] = round(seen - ended.astimezone(UTC).timestamp(), 2)
    states = {dag_id: api.wait_for_run(dag_id, run_id, timeout=600) for dag_id, run_id in runs.items()}
    assert states == {SEED_DAG: "success", DEFERRABLE_DAG: "success"}, states
    wait_for_object(prod, log_prefix(DEFERRABLE_DAG, runs[DEFERRABLE_DAG], DEFERRABLE_TASK), TASK_LOG, 120)
    # The trigger's part goes up when the trigger ends, from the triggerer.
    wait_for_object(prod, log_prefix(DEFERRABLE_DAG, runs[DEFERRABLE_DAG], DEFERRABLE_TASK), TRIGGER_LOG, 120)
    delete_every_airflow_pod(prod)
    yield runs


class TestLogsOutliveEveryPod:
    def test_each_tasks_log_is_an_object_in_the_bucket(self, prod: ProdInstall, finished: dict[str, str]):
        seed = prod.store.objects(LOG_BUCKET, log_prefix(SEED_DAG, finished[SEED_DAG], SEED_TASK))
        (seed_key,) = [k for k in seed if k.endswith("/attempt=1.log")]
        text = prod.store.read(LOG_BUCKET, seed_key)
        assert "processed partition 2026-01: 31 rows" in text, text[-2000:]
        deferred = prod.store.objects(LOG_BUCKET, log_prefix(DEFERRABLE_DAG, finished[DEFERRABLE_DAG], DEFERRABLE_TASK))
        assert any(k.endswith("/attempt=1.log") for k in deferred), deferred
        assert any(re.fullmatch(TRIGGER_LOG, k.rsplit("/", 1)[-1]) for k in deferred), sorted(deferred)

    def test_the_seed_tasks_log_reads_through_the_rest_api_after_every_airflow_pod_was_deleted(
        self, prod: ProdInstall, finished: dict[str, str]
    ):
        with connect(prod.release) as fresh:  # the api-server that answers is a new pod
            log = fresh.task_log(SEED_DAG, finished[SEED_DAG], SEED_TASK)
        assert f"s3://{LOG_BUCKET}/{log_prefix(SEED_DAG, finished[SEED_DAG], SEED_TASK)}attempt=1.log" in log, log[-3000:]
        assert "processed partition 2026-01: 31 rows" in log, log[-3000:]

    def test_the_deferrable_tasks_log_reads_with_its_trigger_part(self, prod: ProdInstall, finished: dict[str, str]):
        with connect(prod.release) as fresh:
            log = fresh.task_log(DEFERRABLE_DAG, finished[DEFERRABLE_DAG], DEFERRABLE_TASK)
        assert "Pausing task as DEFERRED" in log, log[-3000:]  # the first worker pod's part
        assert "Checking pod" in log and "Trigger fired event" in log, log[-3000:]  # the triggerer's part
        assert "trigger completed" in log, log[-3000:]


class TestStoreUnreachable:
    def test_a_task_succeeds_and_its_log_read_says_where_the_log_was_meant_to_be(
        self, prod: ProdInstall, api: AirflowApi, finished: dict[str, str]
    ):
        with prod.store.unreachable():
            run_id = api.trigger(SHORT_DAG, {"sleep": 1})
            state = api.wait_for_run(SHORT_DAG, run_id, timeout=600)
            ti = api.task_instances(SHORT_DAG, run_id)[SHORT_TASK]
            log = api.task_log(SHORT_DAG, run_id, SHORT_TASK, ti.try_number)
        where = f"s3://{LOG_BUCKET}/{log_prefix(SHORT_DAG, run_id, SHORT_TASK)}"
        record("12. log store unreachable", "the S3 store's Service cut off (connections refused) while a task runs and its log is read",
               f"run {state}, try {ti.try_number}; log read: "
               + next((line for line in log.splitlines() if f"s3://{LOG_BUCKET}" in line), log[-200:]),
               ["that task's log (never uploaded)"])  # fmt: skip
        assert state == "success" and ti.try_number == 1, log[-3000:]
        assert where in log, f"the log read does not name {where}:\n{log[-3000:]}"
        # Back up, the store takes the next task's log again.
        run_id = api.trigger(SHORT_DAG, {"sleep": 1})
        assert api.wait_for_run(SHORT_DAG, run_id, timeout=600) == "success"
        wait_for_object(prod, log_prefix(SHORT_DAG, run_id, SHORT_TASK), TASK_LOG, 120)
