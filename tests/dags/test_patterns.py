"""Each pattern DAG shows what it claims to, checked on the loaded DAG and the pods it would launch."""

from __future__ import annotations

import pytest


def pods_of(pods, dag_id: str) -> dict[str, dict]:
    return {p.label.removeprefix(f"{dag_id}."): p.pod for p in pods if p.dag_id == dag_id}


def main_container(pod: dict) -> dict:
    (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    return base


def test_mapping_launches_one_pod_per_partition(dags, pods):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    task = dags["kubernetes-pod-mapping"].get_task("process_partition")
    assert isinstance(task, MappedOperator)
    assert task.partial_kwargs["max_active_tis_per_dag"] == 2
    built = pods_of(pods, "kubernetes-pod-mapping")
    assert [main_container(built[f"process_partition[{i}]"])["args"] for i in range(3)] == [
        ["--partition", "2026-01"], ["--partition", "2026-02"], ["--partition", "2026-03"],
    ]


def test_xcom_result_is_read_downstream(dags):
    dag = dags["kubernetes-pod-xcom"]
    count_rows = dag.get_task("count_rows")
    assert count_rows.do_xcom_push is True
    assert dag.get_task("report").upstream_task_ids == {"count_rows"}
    assert "--xcom" in count_rows.arguments


def test_deferrable_pod_waits_in_the_triggerer(dags):
    task = dags["kubernetes-pod-deferrable"].get_task("long_running_pod")
    assert task.deferrable is True
    assert task.logging_interval == 30  # the triggerer streams the pod's logs meanwhile


def test_volumes_mount_a_configmap_and_an_emptydir_on_a_read_only_root(pods):
    (pod,) = pods_of(pods, "kubernetes-pod-volumes").values()
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["settings"]["configMap"]["name"] == "task-example-files"
    assert volumes["scratch"]["emptyDir"] == {"sizeLimit": "64Mi"}
    container = main_container(pod)
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["settings"]["readOnly"] is True
    assert set(mounts) == {"settings", "scratch"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize(("dag_id", "task_id", "action"), [
    ("kubernetes-pod-keep-on-failure", "maybe_fail", "delete_succeeded_pod"),
    ("kubernetes-dag", "kubernetespodoperator", "delete_pod"),
    ("kubernetes-pod-volumes", "read_settings", "delete_pod"),
])
def test_on_finish_action(dags, dag_id, task_id, action):
    assert dags[dag_id].get_task(task_id).on_finish_action.value == action


def test_keep_on_failure_fails_only_when_asked(dags):
    dag = dags["kubernetes-pod-keep-on-failure"]
    assert dag.params["fail"] is False
    assert dag.get_task("maybe_fail").log_events_on_failure is True


def test_taskflow_runs_functions_in_pods_and_chains_their_results(dags, pods):
    from airflow.providers.cncf.kubernetes.decorators.kubernetes import _KubernetesDecoratedOperator

    dag = dags["kubernetes-taskflow"]
    assert all(isinstance(t, _KubernetesDecoratedOperator) for t in dag.tasks)
    assert dag.get_task("check_summary").upstream_task_ids == {"summarise"}
    built = pods_of(pods, "kubernetes-taskflow")
    assert "/airflow/xcom/return.json" in main_container(built["summarise"])["command"][-1]
    for pod in built.values():  # the provider writes the script to /tmp, on a read-only root filesystem
        assert "/tmp/script.py" in main_container(pod)["command"][-1]
        assert {"name": "tmp", "mountPath": "/tmp"} in main_container(pod)["volumeMounts"]
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in pod["spec"]["volumes"]
