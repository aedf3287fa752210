"""The XCom sidecar: a pod writes /airflow/xcom/return.json and a downstream task reads the result.

With `do_xcom_push=True` the provider adds an `airflow-xcom-sidecar` container and a shared emptyDir
at /airflow/xcom. When the main container exits, the worker reads the file through the sidecar
(pods/exec, which the chart's worker Role grants) and pushes it as the task's `return_value` XCom.
The sidecar gets the same restricted security context as the main container.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, task

import pod_defaults


@task
def report(result: dict) -> str:
    """Runs on the Airflow worker: reads the pod's XCom result."""
    line = f"the pod counted {result['rows']} rows in partition {result['partition']}"
    print(line)
    return line


with DAG(
    dag_id="kubernetes-pod-xcom",
    description="Push a pod's result through the XCom sidecar and read it downstream",
    default_args=pod_defaults.default_args(),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["kubernetes-pod-operator", "xcom"],
) as dag:
    count_rows = KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="count_rows",
            name="count-rows",
            arguments=["--partition", "2026-01", "--xcom"],
            do_xcom_push=True,
        )
    )
    report(count_rows.output)
