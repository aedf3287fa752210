"""Faults on a running Airflow: tasks finish once or fail visibly, no run history is lost, nothing leaks.

values/dev.yaml installed with its PostgreSQL on a volume (release `airflow-faults`). Each test
breaks something on purpose while a DAG run works, then checks what users would: the run's final
state through the REST API, how many task pods and worker pods the run made (a task run twice would
show a second pod), its task log, and that no pod, Secret or ConfigMap is left behind. The runs use
`kubernetes-pod-params`, whose Params shape the pod (how long it works, how much memory it holds,
which image, which namespace). Skipped where containers do not run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import DEV_VALUES, TEST_TIMING_VALUES, Release, installed
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.live_airflow.run_pods import (
    TASK_POD_SELECTOR,
    WORKER_POD_SELECTOR,
    run_label,
    wait_for_pod_phase,
    wait_no_pods,
)
from tests.lib.paths import CHART
from tests.lib.suite.fault_report import record

# Most of this module is task pods working through a fault and schedulers adopting them: it runs in
# a lane of its own beside the other e2e modules (tests/lib/suite/lanes.py).
pytestmark = pytest.mark.mostly_waiting

RELEASE = "airflow-faults"
LAUNCH_NAMESPACE = "development"
DAG = "kubernetes-pod-params"
TASK = "process"


def airflow_setting(section: str, key: str) -> float:
    """`[section] key` as this module's install has it: the test timing over values/dev.yaml over the
    chart's values.yaml, else Airflow's own default."""
    for values in (TEST_TIMING_VALUES, DEV_VALUES, CHART / "values.yaml"):
        value = ((yaml.safe_load(values.read_text()) or {}).get("config") or {}).get(section, {}).get(key)
        if value is not None:
            return float(value)
    from airflow.configuration import conf

    return float(conf.get_default_value(section, key))


# How long the task works once its pod runs, for the faults it must outlive. A new api-server took
# 15 s to be Ready on an idle node and over 2 minutes on a saturated one, and a rollout replaces
# every component: a minute. PostgreSQL is back within seconds (REST API 500s for 2-6 s measured).
WORK_SECONDS = 60
DATABASE_WORK_SECONDS = 30
# A scheduler replacing a dead one adopts its running worker pods at an orphan check
# (orphaned_tasks_check_interval) once it sees the old one dead: one stopped by SIGTERM as soon as it
# has exited (its job ends), a SIGKILLed one once its last heartbeat (every scheduler_heartbeat_sec) is
# older than scheduler_health_check_threshold. The task works that long, plus the replacement's start.
# A scheduler pod or process replaced, to its first loop, on a busy 2-CPU node. Measured: adopted
# 28 s after either fault on an idle node; after the SIGKILL, in time under a load average of 20.
SCHEDULER_START_SECONDS = 60
ADOPTION_SECONDS = round(SCHEDULER_START_SECONDS + airflow_setting("scheduler", "scheduler_health_check_threshold")
                         + airflow_setting("scheduler", "scheduler_heartbeat_sec")
                         + airflow_setting("scheduler", "orphaned_tasks_check_interval"))  # fmt: skip
# The start-up timeout the missing-Secret run asks for (the DAG's `startup_timeout` Param; 120 s by
# default): the reason is in the task log within seconds, the test need not wait out two minutes.
STARTUP_TIMEOUT_SECONDS = 30


@dataclass
class Faults:
    release: Release
    api: AirflowApi

    @property
    def target(self) -> ClusterTarget:
        return self.release.target

    def component_pod(self, component: str) -> dict[str, Any]:
        return self.release.component_pod(component)


@pytest.fixture(scope="module")
def faults(running_containers: ClusterTarget) -> Iterator[Faults]:
    target = running_containers
    apply_dev_objects(target)
    # The fresh namespace granted after `development` has none of the DAGs' Secrets: the missing-Secret run's.
    with installed(target, "e2e-faults", (LAUNCH_NAMESPACE,), (), RELEASE, fresh_launch_namespace=True) as release, \
            connect(release) as api:  # fmt: skip
        api.wait_for_dags({DAG})
        yield Faults(release, api)


@dataclass
class Outcome:
    run_id: str
    state: str
    try_number: int
    task_pods: list[str]  # every task pod the run created
    worker_pods: list[str]  # every worker pod the executor started for it
    owners: list[str]  # the scheduler job ids (airflow-worker label) its worker pods carried, in turn
    owner_phases: list[str]  # the worker pod's phase when each of those owners first showed
    log: str
    seconds: float
    left: list[str]  # pods of the run still there after it ended
    config_changes: list[str]  # Secrets or ConfigMaps that appeared or went during the run
    outages: list[tuple[float, str]]  # REST API polls that failed while the run was awaited

    def happened(self) -> str:
        adopted = f", worker pod adopted (scheduler job {' -> '.join(self.owners)})" if len(self.owners) > 1 else ""
        unavailable = ""
        if self.outages:
            reasons = sorted({why for _, why in self.outages})
            span = self.outages[-1][0] - self.outages[0][0]
            unavailable = f"; REST API refused {len(self.outages)} poll(s) over {span:.0f} s ({', '.join(reasons)})"
        return (f"run {self.state} in {self.seconds:.0f} s, try {self.try_number}, {len(self.task_pods)} task pod(s), "
                f"{len(self.worker_pods)} worker pod(s){adopted}{unavailable}")  # fmt: skip

    def lost(self) -> list[str]:
        """What the fault cost beyond the run's own outcome: leftovers count as losses of cleanliness."""
        return [f"pod left: {p}" for p in self.left] + [f"changed: {c}" for c in self.config_changes]


def secrets_and_config_maps(target: ClusterTarget, namespace: str) -> set[str]:
    """Secrets and ConfigMaps of a namespace, but Helm's own release records."""
    items = target.kubectl_json("get", "secrets,configmaps", "-n", namespace)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}" for o in items if not o["metadata"]["name"].startswith("sh.helm.release.")}


def run_with_fault(faults: Faults, conf: dict[str, Any], fault: Callable[[str], None] | None = None,
                   when: str = "Running", timeout: float = 900, broken_pod: bool = False) -> Outcome:  # fmt: skip
    """Trigger the params DAG with `conf`; once its task pod is in phase `when`, call `fault(run_id)`;
    wait for the run to end, and return what it did and what it left behind. `broken_pod`: the task
    pod cannot start on purpose (the wait does not fail on it as stuck)."""
    target, namespace = faults.target, faults.release.namespace
    launch = conf.get("namespace", LAUNCH_NAMESPACE)
    before = {ns: secrets_and_config_maps(target, ns) for ns in {namespace, launch}}
    started = time.monotonic()
    with PodWatch(target, launch, f"{TASK_POD_SELECTOR},dag_id={DAG}") as task_pods, \
            PodWatch(target, namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}") as worker_pods:  # fmt: skip
        run_id = faults.api.trigger(DAG, conf)
        if fault is not None:
            wait_for_pod_phase(target, launch, TASK_POD_SELECTOR, DAG, run_id, when)
            fault(run_id)
        polls_before = len(faults.api.outages)
        state = faults.api.wait_for_run(DAG, run_id, timeout=timeout, expect_stuck_pods=broken_pod)
        outages = faults.api.outages[polls_before:]
        seconds = time.monotonic() - started
        label = f"run_id={run_label(run_id)}"
        left = wait_no_pods(target, launch, f"{TASK_POD_SELECTOR},{label}") + \
            wait_no_pods(target, namespace, f"{WORKER_POD_SELECTOR},{label}")  # fmt: skip
    after = {ns: secrets_and_config_maps(target, ns) for ns in before}
    changes = sorted(set().union(*(before[ns] ^ after[ns] for ns in before)))
    ti = faults.api.task_instances(DAG, run_id)[TASK]

    def names(watch: PodWatch) -> list[str]:
        return sorted({e["object"]["metadata"]["name"] for e in watch.of("run_id", run_label(run_id)) if e["type"] == "ADDED"})

    owners: list[str] = []
    owner_phases: list[str] = []
    for event in worker_pods.of("run_id", run_label(run_id)):
        owner = event["object"]["metadata"]["labels"].get("airflow-worker", "")
        if not owners or owners[-1] != owner:
            owners.append(owner)
            owner_phases.append(event["object"].get("status", {}).get("phase", ""))
    return Outcome(run_id, state, ti.try_number, names(task_pods), names(worker_pods), owners, owner_phases,
                   faults.api.task_log(DAG, run_id, TASK, ti.try_number), seconds, left, changes, outages)  # fmt: skip


def assert_clean(outcome: Outcome) -> None:
    assert not outcome.left, f"pods left behind: {outcome.left}"
    assert not outcome.config_changes, f"Secrets or ConfigMaps appeared or went: {outcome.config_changes}"


def wait_ready(faults: Faults, component: str, timeout: int = 300) -> dict[str, Any]:
    faults.target.kubectl("wait", "-n", faults.release.namespace, "pod", "-l", f"app.kubernetes.io/component={component}",
                          "--for=condition=Ready", f"--timeout={timeout}s")  # fmt: skip
    return faults.component_pod(component)


# --- the scheduler -------------------------------------------------------------------------------


def run_adopted_once(faults: Faults, fault: str, done: str, inflict: Callable[[str], None]) -> None:
    """A long task loses its scheduler; the next scheduler adopts its worker pod and it runs once."""
    outcome = run_with_fault(faults, {"sleep": ADOPTION_SECONDS}, inflict)
    record(fault, f"{done} while the task pod ran ({ADOPTION_SECONDS} s of work)", outcome.happened(), outcome.lost())
    assert_clean(outcome)
    assert outcome.state == "success" and outcome.try_number == 1, outcome
    assert len(outcome.task_pods) == 1 and len(outcome.worker_pods) == 1, outcome
    assert len(outcome.owners) == 2, f"the worker pod was not adopted by the next scheduler: {outcome.owners}"
    # Adopted while its task still ran (a pod that had already succeeded is only relabelled to be deleted).
    assert outcome.owner_phases[1] == "Running", f"adopted in phase {outcome.owner_phases[1]}: raise SCHEDULER_START_SECONDS"


def test_scheduler_pod_deleted_mid_task_the_new_one_adopts_the_worker_and_the_task_runs_once(faults: Faults) -> None:
    old = faults.component_pod("scheduler")["metadata"]["name"]

    def delete_scheduler(_: str) -> None:
        faults.release.target.kubectl("delete", "pod", "-n", faults.release.namespace, old, "--wait=false")

    run_adopted_once(faults, "1. scheduler pod deleted", "scheduler pod deleted", delete_scheduler)
    assert wait_ready(faults, "scheduler")["metadata"]["name"] != old


def test_scheduler_process_killed_mid_task_restarts_and_the_task_runs_once(faults: Faults) -> None:
    pod = faults.component_pod("scheduler")
    restarts = pod["status"]["containerStatuses"][0]["restartCount"]
    # PID 1 is dumb-init; its one child is the scheduler (the entrypoint execs it).
    kill = "import os; os.kill(int(open('/proc/1/task/1/children').read().split()[0]), 9)"

    def sigkill_scheduler(_: str) -> None:
        faults.target.kubectl("exec", "-n", faults.release.namespace, pod["metadata"]["name"], "-c", "scheduler", "--",
                              "python", "-c", kill)  # fmt: skip

    run_adopted_once(faults, "1. scheduler process killed (SIGKILL)", "scheduler process SIGKILLed", sigkill_scheduler)
    after = wait_ready(faults, "scheduler")
    assert after["metadata"]["name"] == pod["metadata"]["name"]
    status = after["status"]["containerStatuses"][0]
    # Restarted once, and the last end was the SIGKILL (137); the whole status says otherwise what happened.
    assert status["restartCount"] == restarts + 1, status
    assert (status.get("lastState") or {}).get("terminated", {}).get("exitCode") == 137, status


# --- the database and the api-server -------------------------------------------------------------


def test_postgresql_restarted_mid_run_comes_back_on_its_volume_with_every_earlier_run(faults: Faults) -> None:
    from airflow_client.client.api.dag_run_api import DagRunApi

    def history() -> dict[str, dict[str, str]]:
        """Every finished run of the DAG with its task instances' states."""
        runs = DagRunApi(faults.api.api).get_dag_runs(DAG, limit=100).dag_runs
        return {r.dag_run_id: {t: str(ti.state.value) for t, ti in faults.api.task_instances(DAG, r.dag_run_id).items()}
                for r in runs if str(r.state.value) in ("success", "failed")}  # fmt: skip

    quick = faults.api.trigger(DAG, {})  # history of our own, whichever tests ran before
    assert faults.api.wait_for_run(DAG, quick) == "success"
    earlier = history()
    old = faults.component_pod("postgresql")["metadata"]["uid"]

    def delete_database(_: str) -> None:
        faults.target.kubectl("delete", "pod", "-n", faults.release.namespace, f"{RELEASE}-postgresql-0", "--wait=false")

    outcome = run_with_fault(faults, {"sleep": DATABASE_WORK_SECONDS}, delete_database)
    restarted = wait_ready(faults, "postgresql")["metadata"]["uid"] != old
    kept = history()
    lost = [f"run lost or changed: {r}" for r in sorted(earlier) if kept.get(r) != earlier[r]]
    tasks = sum(len(tis) for tis in earlier.values())
    record("2. PostgreSQL restarted", f"PostgreSQL pod deleted while the task pod ran ({DATABASE_WORK_SECONDS} s of work); "
           f"{len(earlier)} earlier run(s)",
           outcome.happened() + f"; {len(earlier) - len(lost)}/{len(earlier)} earlier run(s) ({tasks} task instance(s)) "
           "still listed, unchanged", outcome.lost() + lost)  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "success" and outcome.try_number == 1 and len(outcome.task_pods) == 1, outcome
    assert restarted, "the PostgreSQL pod was not replaced"
    assert not lost, lost


def test_api_server_restarted_while_a_task_talks_to_the_execution_api_the_task_finishes(faults: Faults) -> None:
    old = faults.component_pod("api-server")["metadata"]["name"]

    def delete_api_server(_: str) -> None:
        faults.target.kubectl("delete", "pod", "-n", faults.release.namespace, old, "--wait=false")

    outcome = run_with_fault(faults, {"sleep": WORK_SECONDS}, delete_api_server)
    record("3. api-server restarted",
           f"api-server pod deleted while the task pod ran ({WORK_SECONDS} s of work)", outcome.happened(), outcome.lost())  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "success" and outcome.try_number == 1 and len(outcome.task_pods) == 1, outcome
    assert wait_ready(faults, "api-server")["metadata"]["name"] != old


def test_helm_upgrade_with_a_config_change_mid_task_rolls_the_pods_keeps_the_secrets_and_the_task_finishes(
    faults: Faults,
) -> None:
    secrets = {name: faults.release.kubectl_json("get", "secret", f"{RELEASE}-{name}")["data"]
               for name in ("fernet-key", "jwt-secret", "api-secret-key", "postgresql", "simple-auth-passwords")}  # fmt: skip
    before = {c: faults.component_pod(c)["metadata"]["name"] for c in ("scheduler", "api-server", "dag-processor", "triggerer")}

    def upgrade(_: str) -> None:
        result = faults.release.upgrade("--set", "config.api.instance_name=Airflow (faults)")
        assert result.returncode == 0, result.stderr

    outcome = run_with_fault(faults, {"sleep": WORK_SECONDS}, upgrade)
    changed = [f"secret changed: {name}" for name, data in secrets.items()
               if faults.release.kubectl_json("get", "secret", f"{RELEASE}-{name}")["data"] != data]  # fmt: skip
    record("4. helm upgrade with a config change", "helm upgrade --set config.api.instance_name=... while the task pod ran",
           outcome.happened(), outcome.lost() + changed)  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "success" and outcome.try_number == 1 and len(outcome.task_pods) == 1, outcome
    after = {c: faults.component_pod(c)["metadata"]["name"] for c in before}
    assert all(after[c] != before[c] for c in before), f"not rolled: {[c for c in before if after[c] == before[c]]}"
    assert not changed, changed


# --- the task's own pod ----------------------------------------------------------------------------
# Three runs whose pod breaks on its own, independent of each other and of the components: triggered
# together (each outcome is filtered by its run id) rather than one after another, which saves the
# suite two runs' worth of waiting. The first test to ask starts all three.

POD_FAULTS = {
    "oom": {"allocate_mib": 512},
    "no-image": {"image": "airflow-on-k8s/no-such-image:1.0"},
    # Launched into a namespace the release may use but that has no Secret test-env (pod_faults).
    "no-secret": {"startup_timeout": STARTUP_TIMEOUT_SECONDS},
}


@dataclass
class Hang:
    seconds: float  # from SIGSTOP to the container running again
    probe_failures: list[str]  # the kubelet's "Liveness probe failed" messages
    restarts_elsewhere: dict[str, int]  # restarts of the other components meanwhile


def restart_counts(faults: Faults) -> dict[str, int]:
    pods = faults.release.kubectl_json("get", "pods", "-l", "app.kubernetes.io/instance=" + RELEASE)["items"]
    return {f"{p['metadata']['labels'].get('app.kubernetes.io/component')}/{c['name']}": c["restartCount"]
            for p in pods for c in p["status"].get("containerStatuses", [])}  # fmt: skip


def hang_triggerer(faults: Faults) -> Hang:
    """SIGSTOP the triggerer's process (it stays, heartbeating no more) and wait for its liveness probe
    to get it restarted."""
    pod = faults.component_pod("triggerer")
    name = pod["metadata"]["name"]
    (before,) = [c["restartCount"] for c in pod["status"]["containerStatuses"] if c["name"] == "triggerer"]
    others = {k: v for k, v in restart_counts(faults).items() if not k.startswith("triggerer/")}
    stop = "import os; os.kill(int(open('/proc/1/task/1/children').read().split()[0]), 19)"  # SIGSTOP
    faults.target.kubectl("exec", "-n", faults.release.namespace, name, "-c", "triggerer", "--", "python", "-c", stop)
    began = time.monotonic()
    while time.monotonic() - began < 300:
        statuses = faults.release.kubectl_json("get", "pod", name)["status"]["containerStatuses"]
        (now,) = [c for c in statuses if c["name"] == "triggerer"]
        if now["restartCount"] > before and "running" in now["state"]:
            break
        time.sleep(2)
    seconds = time.monotonic() - began
    events = faults.release.kubectl_json("get", "events", "--field-selector", f"involvedObject.name={name}")["items"]
    failures = [e["message"] for e in events if e.get("reason") == "Unhealthy" and "Liveness" in e.get("message", "")]
    after = restart_counts(faults)
    return Hang(seconds, failures, {k: after.get(k, 0) - v for k, v in others.items() if after.get(k, 0) != v})


@pytest.fixture(scope="module")
def pod_faults(faults: Faults) -> dict[str, Any]:
    """The three broken-pod runs, and a hung triggerer beside them (KubernetesPodOperator waits for
    these pods in the worker, not in the triggerer): the node busy, as a probe must tolerate."""
    empty = faults.release.launch_namespaces[-1]  # granted, without the DAGs' Secrets (the faults fixture)
    confs = {**POD_FAULTS, "no-secret": {**POD_FAULTS["no-secret"], "namespace": empty}}
    with ThreadPoolExecutor(len(confs) + 1) as pool:
        futures = {name: pool.submit(run_with_fault, faults, conf, broken_pod=name != "oom") for name, conf in confs.items()}
        futures["hung-triggerer"] = pool.submit(hang_triggerer, faults)
        return {name: future.result() for name, future in futures.items()}


def test_a_task_over_its_memory_limit_is_oom_killed_said_so_in_its_log_and_not_retried(pod_faults: dict[str, Any]) -> None:
    outcome = pod_faults["oom"]
    record("7. task over its memory limit",
           "task allocates 512 MiB under a 256 Mi limit (retries: 0)", outcome.happened(), outcome.lost())  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "failed" and outcome.try_number == 1, outcome  # the DAG's retries: 0
    assert len(outcome.task_pods) == 1, outcome
    assert "'reason': 'OOMKilled'" in outcome.log and "'exit_code': 137" in outcome.log, outcome.log[-3000:]


def test_a_task_pod_whose_image_does_not_exist_fails_at_once_with_the_pull_error(pod_faults: dict[str, Any]) -> None:
    outcome = pod_faults["no-image"]
    record("8. task image does not exist",
           "task pod image airflow-on-k8s/no-such-image:1.0", outcome.happened(), outcome.lost())  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "failed" and outcome.try_number == 1, outcome
    assert "Image cannot be pulled, unable to start: ErrImagePull" in outcome.log, outcome.log[-3000:]
    assert outcome.seconds < 120, f"took {outcome.seconds:.0f} s: a missing image must not wait out the start-up timeout"


def test_a_task_pod_whose_secret_is_missing_fails_within_its_start_up_timeout_with_the_reason(pod_faults: dict[str, Any]) -> None:
    timeout = STARTUP_TIMEOUT_SECONDS
    outcome = pod_faults["no-secret"]
    record("8. task Secret missing", f"task pod in a namespace without its Secret test-env ({timeout} s start-up timeout)",
           outcome.happened(), outcome.lost())  # fmt: skip
    assert_clean(outcome)
    assert outcome.state == "failed" and outcome.try_number == 1, outcome
    assert 'secret "test-env" not found' in outcome.log, outcome.log[-3000:]
    assert f"More than {timeout}s" in outcome.log, outcome.log[-3000:]  # the timeout the run asked for failed it
    assert outcome.seconds < timeout + 90, f"took {outcome.seconds:.0f} s for a {timeout} s start-up timeout"


def test_a_hung_triggerer_is_restarted_by_its_liveness_probe_within_two_minutes(pod_faults: dict[str, Any], faults: Faults) -> None:
    hang: Hang = pod_faults["hung-triggerer"]
    record("9. triggerer hung (SIGSTOP)", "triggerer process stopped while three task runs kept the node busy",
           f"restarted by its liveness probe {hang.seconds:.0f} s later after {len(hang.probe_failures)} failed probe(s); "
           f"other components restarted: {hang.restarts_elsewhere or 'none'}", [])  # fmt: skip
    assert hang.probe_failures and "TriggererJob" in hang.probe_failures[-1], hang.probe_failures
    assert hang.seconds < 150, f"restarted {hang.seconds:.0f} s after it hung: the probe must kill within 2 minutes"
    # The busy but healthy ones were left alone.
    assert hang.restarts_elsewhere == {}, hang.restarts_elsewhere
    wait_ready(faults, "triggerer")

