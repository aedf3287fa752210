"""Dynamic task mapping over pods: one pod per partition, fanned out with `.partial(...).expand(...)`.

`partial` holds what every pod shares (the pod defaults, image, name); `expand` lists what differs
(here the container arguments). Airflow creates one task instance, and so one pod, per list item, and
runs them in parallel up to `max_active_tis_per_dag`.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

import pod_defaults

PARTITIONS = ["2026-01", "2026-02", "2026-03"]

with DAG(
    dag_id="kubernetes-pod-mapping",
    description="One pod per partition with dynamic task mapping",
    # Two retries, not the bundle's one: this DAG's count since it was written (no reason was
    # recorded), kept so that sharing the defaults changed no DAG's behaviour.
    default_args=pod_defaults.default_args(retries=2),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["kubernetes-pod-operator", "dynamic-task-mapping"],
) as dag:
    KubernetesPodOperator.partial(
        **pod_defaults.pod_kwargs(task_id="process_partition", name="process-partition"),
        # At most two partition pods at once, whatever the list length.
        max_active_tis_per_dag=2,
    ).expand(arguments=[["--partition", p] for p in PARTITIONS])
