"""One install the way a platform team brings the chart into its cluster, read back on the live pods.

values/dev.yaml plus what such a team sets (tests/e2e/values/platform-fit.yaml):
- the user every Airflow pod runs as, picked by the platform: OpenShift's restricted SCC gives each pod
  a uid from its namespace's range with gid 0 and lets no pod choose. The chart leaves the choice to
  the platform with `securityContexts.pod.runAsUser: null`; a plain cluster has no SCC to assign one,
  so this test stands in for it and sets a uid from such a range itself (no passwd entry for it in
  the image). Airflow must start, run the seed DAG and serve its log back;
- a cluster policy (`airflowLocalSettings`: a pod_mutation_hook labelling worker pods), an annotation
  and a label on worker pods, a Secret mounted into worker pods through `workers.extraVolumes`;
- a scheduler sidecar and init container, and a secret env var for the scheduler alone;
- the cleanup CronJob, run once: Airflow's `cleanup-pods` with its own ServiceAccount deletes a failed
  pod labelled as the executor labels worker pods, and leaves a pod without those labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from tests.lib.cluster.one_off_pods import pod_manifest
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import NO_DATABASE_VOLUME, Release, installed
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.live_airflow.run_pods import WORKER_POD_SELECTOR, wait_for_pod_phase
from tests.lib.paths import REPO

VALUES = REPO / "tests" / "e2e" / "values" / "platform-fit.yaml"
ASSIGNED_UID = 1000650000  # what platform-fit.yaml sets: the first uid of a typical OpenShift range
RELEASE = "airflow-platform"
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE
SEED = "kubernetes-dag"
PARAMS = "kubernetes-pod-params"  # its `sleep` Param keeps the worker pod running while it is read
TASK_SECRET = ("platform-task-secret", "token", "task-secret-value")
SCHEDULER_SECRET = ("platform-scheduler-only", "token", "scheduler-secret-value")


@dataclass
class Platform:
    release: Release
    api: AirflowApi

    @property
    def target(self) -> ClusterTarget:
        return self.release.target

    def exec(self, pod: str, container: str, *command: str) -> str:
        return self.target.kubectl("exec", "-n", self.release.namespace, pod, "-c", container, "--", *command).stdout


def create_secrets(target: ClusterTarget, namespace: str) -> None:
    for name, key, value in (TASK_SECRET, SCHEDULER_SECRET):
        target.kubectl("create", "secret", "generic", name, "-n", namespace, f"--from-literal={key}={value}")


@pytest.fixture(scope="module")
def platform(running_containers: ClusterTarget) -> Iterator[Platform]:
    apply_dev_objects(running_containers)
    values = ("--values", str(VALUES), *NO_DATABASE_VOLUME)
    with installed(running_containers, "e2e-platform", (LAUNCH_NAMESPACE,), values, RELEASE,
                   before_install=lambda namespace: create_secrets(running_containers, namespace)) as release, \
            connect(release) as api:  # fmt: skip
        yield Platform(release, api)


def test_every_airflow_pod_runs_as_the_platforms_uid_with_gid_0(platform: Platform) -> None:
    for pod in platform.release.kubectl_json("get", "pods")["items"]:
        component = pod["metadata"]["labels"]["app.kubernetes.io/component"]
        context = pod["spec"]["securityContext"]
        if component == "postgresql":
            assert context["runAsUser"] == 10001, "PostgreSQL keeps its own user"
            continue
        assert context["runAsUser"] == ASSIGNED_UID and context["runAsGroup"] == 0, component
        assert "fsGroup" not in context, component
        assert all(s.get("ready") for s in pod["status"]["containerStatuses"]), f"{component} is not Ready"
    assert platform.exec(platform.release.component_pod("scheduler")["metadata"]["name"], "scheduler", "id", "-u").strip() == str(ASSIGNED_UID)


def test_the_seed_dag_runs_and_its_log_is_read_back(platform: Platform) -> None:
    api = platform.api
    api.wait_for_dags({SEED, PARAMS})
    run_id = api.trigger(SEED)
    state = api.wait_for_run(SEED, run_id, timeout=600)
    log = api.task_log(SEED, run_id, "kubernetespodoperator")
    assert state == "success", log[-3000:]
    # docker/task-example's output, streamed from the task pod into the worker's log and read back.
    assert "processed partition 2026-01: 31 rows" in log, log[-3000:]


def test_the_worker_pod_carries_the_policy_label_the_values_and_the_mounted_secret(platform: Platform) -> None:
    api, target, namespace = platform.api, platform.target, platform.release.namespace
    run_id = api.trigger(PARAMS, {"sleep": 45})
    worker = wait_for_pod_phase(target, namespace, WORKER_POD_SELECTOR, PARAMS, run_id, "Running")
    name = worker["metadata"]["name"]
    secret = platform.exec(name, "base", "cat", "/etc/platform/task-secret/token")
    assert api.wait_for_run(PARAMS, run_id, timeout=600) == "success"
    assert worker["metadata"]["labels"]["example.com/mutated-by"] == RELEASE, "the pod_mutation_hook did not run"
    assert worker["metadata"]["labels"]["example.com/workload"] == "task"
    assert worker["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
    assert worker["spec"]["securityContext"]["runAsUser"] == ASSIGNED_UID
    assert secret == TASK_SECRET[2], "the worker's user could not read the Secret mounted through workers.extraVolumes"


def test_the_scheduler_sidecar_and_init_container_ran(platform: Platform) -> None:
    pod = platform.release.component_pod("scheduler")
    statuses = {s["name"]: s for s in pod["status"]["containerStatuses"]}
    assert statuses["platform-sidecar"]["ready"], statuses["platform-sidecar"]
    (init,) = [s for s in pod["status"]["initContainerStatuses"] if s["name"] == "platform-init"]
    assert init["state"]["terminated"]["exitCode"] == 0, init
    logs = platform.target.kubectl("logs", "-n", platform.release.namespace, pod["metadata"]["name"], "-c", "platform-init").stdout
    assert "init ran as uid 1000650000" in logs, logs


def test_a_scheduler_secret_reaches_the_scheduler_alone(platform: Platform) -> None:
    scheduler = platform.release.component_pod("scheduler")["metadata"]["name"]
    assert platform.exec(scheduler, "scheduler", "printenv", "PLATFORM_SCHEDULER_TOKEN").strip() == SCHEDULER_SECRET[2]
    for component in ("api-server", "dag-processor", "triggerer"):
        name = platform.release.component_pod(component)["metadata"]["name"]
        printed = platform.target.kubectl("exec", "-n", platform.release.namespace, name, "-c", component, "--",
                                          "printenv", "PLATFORM_SCHEDULER_TOKEN", check=False)  # fmt: skip
        assert printed.returncode != 0 and not printed.stdout.strip(), f"{component} got the scheduler's secret"


def test_the_cleanup_deletes_a_failed_worker_pod_and_nothing_else(platform: Platform) -> None:
    target, namespace = platform.target, platform.release.namespace
    # The labels cleanup-pods selects worker pods by (without the executor's own, so the release's
    # scheduler does not try to adopt a pod it never launched).
    worker_labels = {"dag_id": "cleanup-check", "task_id": "fail", "try_number": "1", "airflow_version": "3.3.2"}
    for name, labels in (("failed-worker", worker_labels), ("failed-other", {"example.com/owner": "someone-else"})):
        manifest = pod_manifest(name, "airflow-on-k8s/task-example:dev", command=["sh", "-c", "exit 1"], labels=labels)
        target.kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(manifest))
    for name in ("failed-worker", "failed-other"):
        target.kubectl("wait", "-n", namespace, f"pod/{name}", "--for=jsonpath={.status.phase}=Failed", "--timeout=120s")
    target.kubectl("create", "job", "-n", namespace, "cleanup-now", f"--from=cronjob/{RELEASE}-cleanup")
    done = target.kubectl("wait", "-n", namespace, "job/cleanup-now", "--for=condition=Complete", "--timeout=180s", check=False)
    log = target.kubectl("logs", "-n", namespace, "job/cleanup-now", check=False).stdout
    assert done.returncode == 0, f"the cleanup Job did not complete: {done.stderr}\n{log}"
    left = {p["metadata"]["name"] for p in target.kubectl_json("get", "pods", "-n", namespace)["items"]
            if not p["metadata"].get("deletionTimestamp")}  # fmt: skip
    assert "failed-worker" not in left, log
    assert "failed-other" in left, "the cleanup deleted a pod that is no worker's"
    assert 'Deleting pod "failed-worker"' in log, log
