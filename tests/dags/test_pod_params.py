"""`kubernetes-pod-params`: the start-up timeout a run may ask for, and its default for everyone else."""

from __future__ import annotations

import copy

import pytest


def test_the_pod_start_up_timeout_is_two_minutes_unless_a_run_asks_for_another(dags):
    dag = dags["kubernetes-pod-params"]
    task = dag.get_task("process")
    assert dag.params["startup_timeout"] == 120
    assert task.startup_timeout_seconds == task.schedule_timeout_seconds == 120

    def before_execute(conf: dict) -> object:
        """The operator as Airflow runs it for a run triggered with `conf`: the hook applied."""
        operator = copy.deepcopy(task)
        operator._pre_execute_hook({"task": operator, "params": {**dag.params.dump(), **conf}})
        return operator

    assert before_execute({}).startup_timeout_seconds == 120
    shortened = before_execute({"startup_timeout": 30})
    assert shortened.startup_timeout_seconds == 30
    assert shortened.schedule_timeout_seconds == 120  # only the start once scheduled is shortened


@pytest.mark.parametrize("seconds", [0, 9, 3601, "60"])
def test_a_start_up_timeout_out_of_range_is_refused_before_the_run_starts(dags, seconds):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dags["kubernetes-pod-params"].params.get_param("startup_timeout").resolve(seconds)
