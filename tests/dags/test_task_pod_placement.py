"""Where the bundle's task pods may run is a setting of the worker's env, not of each DAG.

TASK_POD_TOLERATIONS and TASK_POD_NODE_SELECTOR (JSON, the Kubernetes API's shape) reach every pod
the bundle launches through `pod_defaults.pod_kwargs()`; on a cluster whose nodes are all tainted,
the chart's `workers.extraEnv` sets them beside its global `tolerations`. Pods are built as the
worker builds them: the bundle parsed again with the env set, each pod by KubernetesPodOperator.
"""

from __future__ import annotations

import json

import pytest

from tests.lib.dag_bundle import bundle_pods, offline_airflow
from tests.lib.paths import DAGS

TOLERATION = {"key": "example.com/dedicated", "operator": "Equal", "value": "airflow", "effect": "NoSchedule"}
SELECTOR = {"example.com/pool": "tasks"}


@pytest.fixture
def pod_defaults(dag_bag):
    import pod_defaults  # the bundle's helper module: the DAG folder is on sys.path once parsed

    return pod_defaults


def test_unset_leaves_task_pods_to_the_cluster(pod_defaults, monkeypatch):
    monkeypatch.delenv("TASK_POD_TOLERATIONS", raising=False)
    monkeypatch.delenv("TASK_POD_NODE_SELECTOR", raising=False)
    kwargs = pod_defaults.pod_kwargs()
    assert "tolerations" not in kwargs and "node_selector" not in kwargs


def test_every_task_pod_of_the_bundle_gets_the_tolerations_and_node_selector(monkeypatch):
    monkeypatch.setenv("TASK_POD_TOLERATIONS", json.dumps([TOLERATION | {"tolerationSeconds": 60}]))
    monkeypatch.setenv("TASK_POD_NODE_SELECTOR", json.dumps(SELECTOR))
    offline_airflow.prepare_airflow_env()
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name="placement")
    assert not bag.import_errors, bag.import_errors
    built = [pod for dag_id in sorted(bag.dags) for pod in bundle_pods.pods_of_dag(bag.dags[dag_id])]
    assert len(built) >= 10, "the bundle's pod tasks were not all built"
    for pod in built:
        where = f"{pod.dag_id}.{pod.task_id}"
        assert pod.pod["spec"]["tolerations"] == [TOLERATION | {"tolerationSeconds": 60}], where
        assert pod.pod["spec"]["nodeSelector"] == SELECTOR, where


@pytest.mark.parametrize("variable,value,message", [
    ("TASK_POD_TOLERATIONS", "[{key: dedicated}]", "TASK_POD_TOLERATIONS is not JSON"),
    ("TASK_POD_TOLERATIONS", json.dumps(TOLERATION), "TASK_POD_TOLERATIONS must be a JSON list"),
    ("TASK_POD_TOLERATIONS", json.dumps([{"key": "dedicated", "effects": "NoSchedule"}]), "TASK_POD_TOLERATIONS[0] has ['effects']"),
    ("TASK_POD_NODE_SELECTOR", json.dumps(["pool"]), "TASK_POD_NODE_SELECTOR must be a JSON object"),
    ("TASK_POD_NODE_SELECTOR", json.dumps({"pool": 3}), "TASK_POD_NODE_SELECTOR values must be strings"),
])  # fmt: skip
def test_a_wrong_setting_names_the_variable_and_the_expected_shape(pod_defaults, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as raised:
        pod_defaults.pod_kwargs()
    assert message in str(raised.value)
