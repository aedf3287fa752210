"""Airflow runs for real: the chart's components on a cluster where containers run, and every bundled
DAG executed by the KubernetesExecutor, driven through the REST API as users' automation drives it.

values/dev.yaml installed into a fresh namespace, the shared dev install (release `airflow-e2e`, so a
`make deploy-dev` release beside it keeps its own Roles in `development`; tests/e2e/conftest.py). The module triggers every run it checks at
once, then waits: the scheduler launches one worker pod per task in the release namespace, each
worker's KubernetesPodOperator launches the task's pod in `development` (or where a run asks), and
watches on both namespaces record every pod. Then each test reads what a user reads: run and task
states, task logs and XComs through the API (live_airflow/rest_api.py, the official client), pods through kubectl.

Skipped, with the reason, where containers do not run (simulated nodes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes.utils import parse_quantity

from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle import dev_objects
from tests.lib.dag_bundle.bundle_pods import dag_pods
from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.release import SHARED_DEV_RELEASE, Release
from tests.lib.live_airflow import liveness_cpu
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.live_airflow.run_pods import TASK_POD_SELECTOR, WORKER_POD_SELECTOR, run_label, wait_no_pods

RELEASE = SHARED_DEV_RELEASE  # the dev install shared with the other DAG-running modules
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE; values/dev.yaml grants it
SEED = "kubernetes-dag"
RUN_TIMEOUT = 900
# Runs beyond each DAG's default run: failures on purpose, and where a pod outlives its task.
FAILING_POD = "params-exit-3"
UNGRANTED = "params-ungranted"
KEPT = "keep-on-failure-fail"


@dataclass
class Run:
    dag_id: str
    run_id: str
    state: str = ""
    tasks: dict[str, Any] | None = None


@dataclass
class Deployment:
    release: Release
    api: AirflowApi
    ungranted_namespace: str
    runs: dict[str, Run]
    pods: PodWatch  # KubernetesPodOperator pods in `development`
    workers: PodWatch  # the executor's worker pods in the release namespace
    ungranted_pods: PodWatch


@pytest.fixture(scope="module")
def airflow(running_containers: ClusterTarget, dev_airflow: Release) -> Iterator[Deployment]:
    target, release = running_containers, dev_airflow
    ungranted = f"e2e-ungranted-{uuid.uuid4().hex[:6]}"
    target.create_namespace(ungranted)
    try:
        with connect(release) as api:
            api.wait_for_dags(set(dag_bag().dags))
            requests = {dag_id: (dag_id, {}) for dag_id in dag_bag().dags}
            requests[FAILING_POD] = ("kubernetes-pod-params", {"exit_code": 3})
            requests[UNGRANTED] = ("kubernetes-pod-params", {"namespace": ungranted})
            requests[KEPT] = ("kubernetes-pod-keep-on-failure", {"fail": True})
            with PodWatch(target, LAUNCH_NAMESPACE, TASK_POD_SELECTOR) as pods, \
                    PodWatch(target, release.namespace, WORKER_POD_SELECTOR) as workers, \
                    PodWatch(target, ungranted, TASK_POD_SELECTOR) as ungranted_pods:  # fmt: skip
                runs = {name: Run(dag_id, api.trigger(dag_id, conf)) for name, (dag_id, conf) in requests.items()}
                for run in runs.values():
                    run.state = api.wait_for_run(run.dag_id, run.run_id, timeout=RUN_TIMEOUT)
                    run.tasks = api.task_instances(run.dag_id, run.run_id)
                # Worker pods are deleted once their task ends: let the last deletions arrive.
                wait_no_pods(target, release.namespace, WORKER_POD_SELECTOR)
            yield Deployment(release, api, ungranted, runs, pods, workers, ungranted_pods)
    finally:
        target.kubectl("delete", "namespace", ungranted, "--wait=false", check=False)
        target.kubectl("delete", "pods", "-n", LAUNCH_NAMESPACE, "-l", "dag_id=kubernetes-pod-keep-on-failure",
                       "--wait=false", check=False)  # fmt: skip


def run_pods(deployment: Deployment, run: Run) -> dict[str, list[dict[str, Any]]]:
    """The events of each KubernetesPodOperator pod of one run, by pod name."""
    by_pod: dict[str, list[dict[str, Any]]] = {}
    for event in deployment.pods.events:
        labels = event["object"]["metadata"].get("labels", {})
        if labels.get("dag_id") == run.dag_id and labels.get("run_id") == run_label(run.run_id):
            by_pod.setdefault(event["object"]["metadata"]["name"], []).append(event)
    return by_pod


def states(run: Run) -> dict[str, str]:
    return {task: str(ti.state.value) for task, ti in (run.tasks or {}).items()}


# --- the deployment ----------------------------------------------------------------------------


def test_every_component_runs_and_passes_its_probes(airflow: Deployment) -> None:
    release = airflow.release
    for deployment in release.kubectl_json("get", "deployments")["items"]:
        status = deployment["status"]
        assert status.get("availableReplicas") == deployment["spec"]["replicas"], deployment["metadata"]["name"]
    for pod in release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]:
        if pod["status"].get("phase") == "Succeeded":
            continue
        for container in pod["status"]["containerStatuses"]:
            assert container["ready"] and container["restartCount"] == 0, (pod["metadata"]["name"], container)
    health = airflow.api.health()
    assert health.metadatabase.status == "healthy"
    assert health.scheduler.status == "healthy" and health.triggerer.status == "healthy"
    assert health.dag_processor.status == "healthy"


@pytest.mark.parametrize("component,job_type", [("triggerer", "TriggererJob"), ("dag-processor", "DagProcessorJob")])
def test_the_liveness_probe_finds_the_jobs_heartbeat_without_the_airflow_cli(
    airflow: Deployment, component: str, job_type: str
) -> None:
    pod, command = liveness_cpu.liveness(airflow.release, component)
    result = liveness_cpu.run_measured(airflow.release, pod, component, command)
    assert result.returncode == 0, result.output
    assert f"{job_type} alive: last heartbeat" in result.output, result.output
    print(f"{component} liveness probe: {result.cpu_seconds:.2f} CPU-seconds")  # `make bench` measures it


def test_the_embedded_postgresql_runs_as_the_chart_uid_with_the_migrated_schema(airflow: Deployment) -> None:
    release = airflow.release
    uid = release.target.kubectl("exec", "-n", release.namespace, f"{RELEASE}-postgresql-0", "--", "id", "-u").stdout
    assert uid.strip() == "10001"
    # The migration hook ran `airflow db migrate` there: the api-server serves the schema's version.
    tables = release.target.kubectl(
        "exec", "-n", release.namespace, f"{RELEASE}-postgresql-0", "--", "psql", "-U", "airflow", "-d", "airflow",
        "-tAc", "select version_num from alembic_version",
    ).stdout.strip()  # fmt: skip
    assert tables and len(tables.splitlines()) == 1, tables


def test_the_dag_processor_parsed_every_bundled_dag_without_import_errors(airflow: Deployment) -> None:
    assert set(airflow.api.dag_ids()) >= set(dag_bag().dags)
    assert airflow.api.import_errors() == []


# --- the seed ------------------------------------------------------------------------------------


def test_the_seed_dag_run_succeeds(airflow: Deployment) -> None:
    run = airflow.runs[SEED]
    assert run.state == "success", states(run)
    assert states(run) == {"start": "success", "kubernetespodoperator": "success"}


def test_the_seed_worker_pod_was_launched_by_the_executor_with_the_dev_size(airflow: Deployment) -> None:
    run = airflow.runs[SEED]
    added = [e["object"] for e in airflow.workers.of("dag_id", SEED) if e["type"] == "ADDED"
             and e["object"]["metadata"]["labels"].get("task_id") == "kubernetespodoperator"
             and e["object"]["metadata"]["labels"].get("run_id") == run_label(run.run_id)]  # fmt: skip
    assert len(added) == 1, [p["metadata"]["name"] for p in added]
    (base,) = [c for c in added[0]["spec"]["containers"] if c["name"] == "base"]
    dev = airflow.release.kubectl_json("get", "deployment", f"{RELEASE}-dag-processor")
    size = next(e["value"] for c in dev["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
                if e["name"] == "KUBERNETES_DAG_WORKER_RESOURCES").split(",")  # fmt: skip
    requests = base["resources"]["requests"]
    assert {k: parse_quantity(requests[k]) for k in ("cpu", "memory")} == {
        "cpu": parse_quantity(size[0]), "memory": parse_quantity(size[1])}  # fmt: skip
    # The override replaces the worker's whole resources map; it keeps the chart's disk request.
    assert "ephemeral-storage" in requests and "ephemeral-storage" in base["resources"]["limits"]


def test_the_seed_job_pod_carried_the_secret_configmap_pull_secret_and_resources_then_was_deleted(
    airflow: Deployment,
) -> None:
    (events,) = run_pods(airflow, airflow.runs[SEED]).values()
    pod = events[0]["object"]
    (built,) = [p.pod for p in dag_pods() if p.dag_id == SEED]
    base = next(c for c in pod["spec"]["containers"] if c["name"] == "base")
    wanted = next(c for c in built["spec"]["containers"] if c["name"] == "base")
    assert pod["metadata"]["namespace"] == LAUNCH_NAMESPACE and pod["metadata"]["name"].startswith("job-")
    assert base["env"] == wanted["env"] and base["envFrom"] == wanted["envFrom"]
    assert pod["spec"]["imagePullSecrets"] == [{"name": "image-credential"}]
    assert {k: {r: parse_quantity(q) for r, q in v.items()} for k, v in base["resources"].items()} == {
        "requests": {"cpu": parse_quantity("1"), "memory": parse_quantity("2Gi")},
        "limits": {"cpu": parse_quantity("2"), "memory": parse_quantity("4Gi")}}  # fmt: skip
    phases = [e["object"]["status"].get("phase") for e in events]
    assert "Succeeded" in phases and events[-1]["type"] == "DELETED", phases


def test_the_seed_pods_output_is_in_the_task_log_read_through_the_api(airflow: Deployment) -> None:
    run = airflow.runs[SEED]
    log = airflow.api.task_log(SEED, run.run_id, "kubernetespodoperator")
    # docker/task-example's output, streamed from the pod: the Secret's value arrived (masked) and
    # the ConfigMap's keys became env vars.
    test_value = dev_objects.load().secret_value(LAUNCH_NAMESPACE, "test-env", "TEST")
    assert f"TEST received: <{len(test_value)} chars" in log, log[-3000:]
    assert "processed partition 2026-01: 31 rows" in log, log[-3000:]
    assert test_value not in log


# --- every pattern -------------------------------------------------------------------------------


PATTERNS = sorted(d for d in dag_bag().dags if d != SEED)


@pytest.mark.parametrize("dag_id", PATTERNS)
def test_each_pattern_dag_run_succeeds_and_leaves_no_pod(airflow: Deployment, dag_id: str) -> None:
    run = airflow.runs[dag_id]
    assert run.state == "success", states(run)
    assert all(s == "success" for s in states(run).values()), states(run)
    pods = run_pods(airflow, run)
    assert pods, f"no pod of {dag_id} was seen in {LAUNCH_NAMESPACE}"
    left = {name for name, events in pods.items() if events[-1]["type"] != "DELETED"}
    assert not left, f"pods left behind: {left}"


def test_mapping_ran_one_pod_per_partition(airflow: Deployment) -> None:
    run = airflow.runs["kubernetes-pod-mapping"]
    assert sorted(states(run)) == [f"process_partition[{i}]" for i in range(3)]
    assert len(run_pods(airflow, run)) == 3


def test_the_xcom_sidecar_pushed_the_pods_result_read_back_through_the_api(airflow: Deployment) -> None:
    run = airflow.runs["kubernetes-pod-xcom"]
    assert airflow.api.xcom("kubernetes-pod-xcom", run.run_id, "count_rows") == {"partition": "2026-01", "rows": 31}
    assert airflow.api.xcom("kubernetes-pod-xcom", run.run_id, "report") == "the pod counted 31 rows in partition 2026-01"


def test_the_deferrable_pod_was_waited_for_by_the_triggerer(airflow: Deployment) -> None:
    run = airflow.runs["kubernetes-pod-deferrable"]
    (task_id,) = states(run)
    log = airflow.api.task_log(run.dag_id, run.run_id, task_id)
    assert "Pausing task as DEFERRED" in log, log[-3000:]
    # The triggerer polled the pod with its own credentials until it finished, with no error.
    assert "Checking pod" in log and "Trigger fired event" in log and "trigger completed" in log, log[-3000:]
    assert "Invalid kube-config" not in log and "Re-deferring" not in log and "Unexpected error" not in log, log[-3000:]


def test_taskflow_pods_ran_python_functions(airflow: Deployment) -> None:
    run = airflow.runs["kubernetes-taskflow"]
    assert len(run_pods(airflow, run)) == len(states(run))


# --- failures are visible ------------------------------------------------------------------------


def test_a_failing_pod_shows_its_exit_code_and_last_lines_in_the_task_log_and_is_deleted(airflow: Deployment) -> None:
    run = airflow.runs[FAILING_POD]
    assert run.state == "failed" and states(run) == {"process": "failed"}
    assert run.tasks["process"].try_number == 1
    log = airflow.api.task_log(run.dag_id, run.run_id, "process")
    assert "[base] exiting with code 3 as asked" in log, log[-3000:]  # the container's last line, streamed
    failure = next(line for line in log.splitlines() if line.startswith("AirflowException: Pod "))
    assert "returned a failure" in log and "'exit_code': 3" in log, failure[:500]
    (events,) = run_pods(airflow, run).values()
    assert events[-1]["type"] == "DELETED", [e["type"] for e in events]


def test_a_task_in_an_ungranted_namespace_fails_on_its_first_try_with_the_403(airflow: Deployment) -> None:
    run = airflow.runs[UNGRANTED]
    assert run.state == "failed" and states(run) == {"process": "failed"}
    assert run.tasks["process"].try_number == 1
    log = airflow.api.task_log(run.dag_id, run.run_id, "process")
    (failure,) = [line for line in log.splitlines() if line.startswith("ForbiddenException: (403)")]
    assert f"{RELEASE}-worker" in log and f'in the namespace \\"{airflow.ungranted_namespace}\\"' in log, log[-3000:]
    assert not airflow.ungranted_pods.events, "a pod appeared in a namespace the chart does not grant"


def test_keep_on_failure_keeps_the_failed_pod_with_its_reason_in_the_task_log(airflow: Deployment) -> None:
    run = airflow.runs[KEPT]
    assert run.state == "failed", states(run)
    (name,) = run_pods(airflow, run)
    pod = airflow.release.target.kubectl_json("get", "pod", name, "-n", LAUNCH_NAMESPACE)
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert pod["status"]["phase"] == "Failed" and terminated["exitCode"] == 1, pod["status"]
    log = airflow.api.task_log(run.dag_id, run.run_id, "maybe_fail")
    assert "exiting with code 1 as asked" in log, log[-3000:]


def test_every_worker_pod_was_deleted_after_its_task(airflow: Deployment) -> None:
    launched = {e["object"]["metadata"]["name"] for e in airflow.workers.events if e["type"] == "ADDED"}
    deleted = {e["object"]["metadata"]["name"] for e in airflow.workers.events if e["type"] == "DELETED"}
    # One worker pod per task that ran on a worker, for every run (EmptyOperator needs none).
    dags_with_workers = {e["object"]["metadata"]["labels"]["dag_id"] for e in airflow.workers.events}
    assert dags_with_workers == {r.dag_id for r in airflow.runs.values()}
    assert launched and launched == deleted, f"left behind: {launched - deleted}"
    assert wait_no_pods(airflow.release.target, airflow.release.namespace, WORKER_POD_SELECTOR, timeout=5) == []



# --- the UI, in a real browser -------------------------------------------------------------------

UI_WAIT_MS = 90_000  # a page's content under the other lane's load: the api-server answers, if slowly


def test_the_ui_in_a_browser_logs_in_lists_the_dags_and_shows_the_seed_run_succeeded(airflow: Deployment) -> None:
    from tests.lib.live_airflow.browser import NoBrowser, goto, page, screenshot
    from tests.lib.live_airflow.rest_api import ADMIN, admin_password, service_url

    run = airflow.runs[SEED]
    try:
        with service_url(airflow.release) as url, page("ui") as browser:
            goto(browser, f"{url}/")
            # Not logged in: the simple auth manager's login form.
            browser.fill("input[name=username]", ADMIN)
            browser.fill("input[name=password]", admin_password(airflow.release))
            screenshot(browser, "ui", "1-login")
            browser.click("button[type=submit]")
            # Signed in once the login page is left: going on before that (a busy node answers the login
            # POST late) would cancel it and land on the login form again.
            browser.wait_for_url(lambda address: "/auth/login" not in address, timeout=UI_WAIT_MS)
            browser.wait_for_load_state("networkidle")

            goto(browser, f"{url}/dags")
            try:
                browser.get_by_text(SEED, exact=True).first.wait_for(timeout=UI_WAIT_MS)
            finally:
                screenshot(browser, "ui", "2-dag-list")  # what was shown, also when the wait failed
            listed = browser.inner_text("body")
            assert all(dag_id in listed for dag_id in dag_bag().dags), listed[:2000]

            goto(browser, f"{url}/dags/{SEED}/runs/{run.run_id}")
            browser.get_by_text(run.run_id).first.wait_for(timeout=UI_WAIT_MS)
            screenshot(browser, "ui", "3-seed-run")
            shown = browser.inner_text("body").lower()
            assert "success" in shown and "failed" not in shown, shown[:2000]
    except NoBrowser as err:
        pytest.skip(f"no browser to drive: {err}")
