"""Deferrable mode: the worker hands the wait for the pod to the triggerer and frees its slot.

With `deferrable=True` the task creates the pod, then defers; the triggerer watches the pod and streams
its logs asynchronously, and the task resumes on a worker only when the pod has ended, to collect the
result and clean up. Useful for long pods: no worker pod sits idle for hours. Needs a running
triggerer whose ServiceAccount may read pods, their logs and events in the pod's namespace.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

import pod_defaults

with DAG(
    dag_id="kubernetes-pod-deferrable",
    description="Wait for a long pod in the triggerer instead of a worker",
    default_args=pod_defaults.default_args(),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["kubernetes-pod-operator", "deferrable"],
) as dag:
    KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="long_running_pod",
            name="long-running",
            arguments=["--sleep", "30"],
            deferrable=True,
            # The triggerer checks the pod every 10 s and copies its new log lines into the task
            # log every 30 s (so the triggerer's ServiceAccount needs pods/log too).
            poll_interval=10,
            logging_interval=30,
        )
    )
