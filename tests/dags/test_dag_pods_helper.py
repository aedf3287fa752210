"""tests/lib/dag_bundle/bundle_pods.py on shapes the bundle does not use yet: mapped @task.kubernetes,
expand_kwargs, XCom mapping."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.lib.dag_bundle import bundle_pods

IMAGE = "python:3.12-slim"


@pytest.fixture(scope="module")
def sdk(dag_bag):  # dag_bag: Airflow is configured (throwaway AIRFLOW_HOME) before it is imported
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk import DAG, task

    return DAG, task, KubernetesPodOperator


def _env(pod: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env") or []}


def test_mapped_taskflow_pods_get_each_mapped_argument(sdk):
    DAG, task, _ = sdk
    with DAG("helper-mapped-taskflow", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        @task.kubernetes(image=IMAGE, namespace="development")
        def square(x: int, power: int) -> int:
            return x**power

        square.partial(power=2).expand(x=[1, 2, 3])

    built = bundle_pods.pods_of_dag(dag)
    assert [p.map_index for p in built] == [0, 1, 2]
    assert all(p.pod["spec"]["containers"][0]["command"][:2] == ["bash", "-cx"] for p in built)


def test_expand_kwargs_over_literal_dicts(sdk):
    DAG, _, KubernetesPodOperator = sdk
    with DAG("helper-expand-kwargs", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        KubernetesPodOperator.partial(task_id="run", image=IMAGE, namespace="development").expand_kwargs(
            [{"env_vars": {"PART": "a"}}, {"env_vars": {"PART": "b"}}]
        )

    assert [_env(p.pod) for p in bundle_pods.pods_of_dag(dag)] == [{"PART": "a"}, {"PART": "b"}]


def test_cross_product_of_two_mapped_arguments(sdk):
    DAG, _, KubernetesPodOperator = sdk
    with DAG("helper-cross-product", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        KubernetesPodOperator.partial(task_id="run", namespace="development").expand(
            image=["a:1", "b:1"], arguments=[["x"], ["y"]]
        )

    pairs = [(p.pod["spec"]["containers"][0]["image"], p.pod["spec"]["containers"][0]["args"])
             for p in bundle_pods.pods_of_dag(dag)]
    assert pairs == [("a:1", ["x"]), ("a:1", ["y"]), ("b:1", ["x"]), ("b:1", ["y"])]


def test_mapping_over_an_upstream_result_is_refused_by_name(sdk):
    DAG, task, KubernetesPodOperator = sdk
    with DAG("helper-xcom-mapping", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        @task
        def partitions() -> list[list[str]]:
            return [["a"], ["b"]]

        KubernetesPodOperator.partial(task_id="run", image=IMAGE, namespace="development").expand(
            arguments=partitions()
        )

    with pytest.raises(bundle_pods.UnresolvableMappingError, match="helper-xcom-mapping.run expands over a value"):
        bundle_pods.pods_of_dag(dag)
