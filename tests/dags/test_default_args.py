"""Every DAG's task defaults, as Airflow's DagBag loads them.

EXPECTED is each DAG's `default_args` as the DAG files set them when this test was written, each
file with a literal of its own: collecting those in one place must change no DAG's owner, retries,
retry delay or anything else.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

# A task without `retry_delay` in its default_args waits Airflow's default between tries, 5 minutes.
AIRFLOW_DEFAULT_RETRY_DELAY = timedelta(minutes=5)

# The seed's failure email (an SmtpNotifier) is compared by class and recipient: it sets nothing else.
SEED_FAILURE_EMAIL = ("SmtpNotifier", "data-alerts@example.com")

EXPECTED = {
    "kubernetes-dag": {
        "owner": "bomwo",
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "depends_on_past": False,
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": SEED_FAILURE_EMAIL,
    },
    "kubernetes-pod-deferrable": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-fanout": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=1)},
    "kubernetes-pod-keep-on-failure": {"owner": "platform", "retries": 0},
    "kubernetes-pod-mapping": {"owner": "platform", "retries": 2, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-params": {"owner": "platform", "retries": 0},
    "kubernetes-pod-volumes": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-pod-xcom": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
    "kubernetes-taskflow": {"owner": "platform", "retries": 1, "retry_delay": timedelta(minutes=2)},
}

def comparable(default_args: dict) -> dict:
    """default_args with a notifier replaced by its class and recipient (notifiers have no __eq__)."""
    from airflow.sdk.bases.notifier import BaseNotifier

    return {
        key: (type(value).__name__, value.to) if isinstance(value, BaseNotifier) else value
        for key, value in default_args.items()
    }


def test_every_dag_has_an_expectation(dags):
    assert set(dags) == set(EXPECTED)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_default_args_are_unchanged(dags, dag_id):
    assert comparable(dags[dag_id].default_args) == EXPECTED[dag_id]


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_every_task_owns_retries_and_waits_as_before(dags, dag_id):
    """What the tasks themselves end up with, Airflow's defaults filling in what default_args leave out."""
    expected = EXPECTED[dag_id]
    for task in dags[dag_id].tasks:
        assert (task.owner, task.retries, task.retry_delay) == (
            expected["owner"],
            expected["retries"],
            expected.get("retry_delay", AIRFLOW_DEFAULT_RETRY_DELAY),
        ), task.task_id
