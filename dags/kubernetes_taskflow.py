"""The `@task.kubernetes` TaskFlow decorator: a Python function run in its own pod.

The provider serialises the function's source and arguments into the pod's environment and runs them
with the image's Python (the image needs Python and bash, not Airflow). The return value comes back
through the XCom sidecar, so the next task receives it like any TaskFlow result.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

import pod_defaults


# One XCom holding the whole dict (not one per key): the next task takes the dict as it is.
# writable_tmp: the provider writes the function's script to /tmp, and the root filesystem is read-only.
@task.kubernetes(multiple_outputs=False, **pod_defaults.pod_kwargs(name="summarise", do_xcom_push=True, writable_tmp=True))
def summarise(values: list[int]) -> dict:
    """Runs inside the pod: only the standard library is available there."""
    import statistics

    return {"count": len(values), "mean": statistics.mean(values), "max": max(values)}


@task.kubernetes(**pod_defaults.pod_kwargs(name="check-summary", writable_tmp=True))
def check_summary(summary: dict) -> None:
    """Runs in a second pod, fed the first pod's return value."""
    if summary["count"] == 0:
        raise ValueError("no values were summarised")
    print(f"{summary['count']} values, mean {summary['mean']}, max {summary['max']}")


with DAG(
    dag_id="kubernetes-taskflow",
    description="Run Python functions in pods with @task.kubernetes",
    default_args=pod_defaults.default_args(),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["kubernetes-pod-operator", "taskflow"],
) as dag:
    check_summary(summarise([3, 1, 4, 1, 5, 9, 2, 6]))
