"""Each behaviour of the seed article's Airflow 1.10 DAG, asserted on the modernised `kubernetes-dag`.

The seed (tests/dags/fixtures/seed_airflow_1_10.py) is the specification; one test per behaviour.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.lib.paths import DAGS

DAG_ID = "kubernetes-dag"
POD_TASK = "kubernetespodoperator"


@pytest.fixture(scope="module")
def dag(dags):
    return dags[DAG_ID]


@pytest.fixture(scope="module")
def run(dag):
    return dag.get_task(POD_TASK)


@pytest.fixture(scope="module")
def pod(pods):
    (found,) = [p.pod for p in pods if (p.dag_id, p.task_id) == (DAG_ID, POD_TASK)]
    return found


@pytest.fixture(scope="module")
def container(pod):
    return pod["spec"]["containers"][0]


def test_lives_in_kubernetes_dag_py(dag):
    assert str(dag.relative_fileloc) == "kubernetes_dag.py"


def test_description(dag):
    assert dag.description == "kubernetes pod operator"


def test_schedule_daily_at_16_05(dag):
    assert dag.schedule == "5 16 * * *"


def test_start_date(dag):
    assert dag.start_date == datetime(2020, 11, 21, tzinfo=timezone.utc)


def test_catchup_off(dag):
    assert dag.catchup is False


def test_one_active_run_at_a_time(dag):
    assert dag.max_active_runs == 1


@pytest.mark.parametrize("task_id", ["start", POD_TASK])
def test_owner(dag, task_id):
    assert dag.get_task(task_id).owner == "bomwo"


@pytest.mark.parametrize("task_id", ["start", POD_TASK])
def test_three_retries_five_minutes_apart(dag, task_id):
    task = dag.get_task(task_id)
    assert (task.retries, task.retry_delay) == (3, timedelta(minutes=5))


def test_one_hour_execution_timeout(run):
    assert run.execution_timeout == timedelta(hours=1)


def test_does_not_depend_on_past(run):
    assert run.depends_on_past is False


def test_email_on_failure(run):
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    notifiers = [cb for cb in run.on_failure_callback if isinstance(cb, SmtpNotifier)]
    assert len(notifiers) == 1


def test_no_email_on_retry(run):
    assert not run.on_retry_callback
    assert not run.email  # no deprecated task-level email either, which would mail on retry too


def test_start_is_an_empty_operator_upstream_of_the_pod(dag, run):
    from airflow.providers.standard.operators.empty import EmptyOperator

    assert isinstance(dag.get_task("start"), EmptyOperator)
    assert run.upstream_task_ids == {"start"}
    assert dag.get_task("start").upstream_task_ids == set()


def test_is_a_kubernetes_pod_operator(run):
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    assert type(run) is KubernetesPodOperator


def test_namespace_development(pod):
    assert pod["metadata"]["namespace"] == "development"


def test_image(container):
    assert container["image"] == "test/image:1.0"  # the seed's image, pinned to a tag


def test_pod_named_job(run, pod):
    assert run.name == "job"
    assert pod["metadata"]["name"].startswith("job-")  # the provider adds a random suffix


def test_env_test_from_secret_test_env(container):
    assert {"name": "TEST", "valueFrom": {"secretKeyRef": {"name": "test-env", "key": "TEST"}}} in container["env"]


def test_all_keys_of_configmap_secret_as_env(container):
    assert container["envFrom"] == [{"configMapRef": {"name": "secret"}}]


def test_image_pull_secret(pod):
    assert pod["spec"]["imagePullSecrets"] == [{"name": "image-credential"}]


def test_container_requests_and_limits(container):
    assert container["resources"] == {
        "requests": {"cpu": "1000m", "memory": "2048Mi"},
        "limits": {"cpu": "2000m", "memory": "4096Mi"},
    }


def test_logs_streamed(run):
    assert run.get_logs is True


def test_pod_deleted_when_done(run):
    assert run.on_finish_action.value == "delete_pod"


def test_image_pulled_if_not_present(container):
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_worker_pod_override_resources(run):
    from kubernetes.client import models as k8s

    override = run.executor_config["pod_override"]
    assert isinstance(override, k8s.V1Pod)
    (base,) = override.spec.containers
    assert base.name == "base"
    assert base.resources.requests == {"cpu": "4", "memory": "32Gi", "ephemeral-storage": "256Mi"}
    assert base.resources.limits == {"cpu": "8", "memory": "64Gi", "ephemeral-storage": "9Gi"}


def test_renamed_objects_are_explained():
    """The seed's test_env / image_credential renames are documented where a reader meets them."""
    source = (DAGS / "kubernetes_dag.py").read_text()
    assert "DNS-1123" in source
    assert "test_env" in source and "image_credential" in source
