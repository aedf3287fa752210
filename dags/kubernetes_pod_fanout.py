"""Fan out over a list known only at run time: one pod per item, as many items as the run asks.

A plain task computes the work list (here from the `items` Param; in real use, from whatever says
what is new), and `.expand()` over its return value creates one mapped task instance, and so one pod,
per item when the run reaches it. How many run at once is the scheduler's business: the deployment's
`[core] parallelism` (values/dev.yaml: 6) and pool slots bound it, whatever the list's length.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, Param, task

import pod_defaults


@task
def work_list(params: dict) -> list[list[str]]:
    """One argument list per item: month partitions, wrapping round the year."""
    return [["--partition", f"{2026 + i // 12}-{i % 12 + 1:02d}"] for i in range(params["items"])]


with DAG(
    dag_id="kubernetes-pod-fanout",
    description="One pod per item of a list computed at run time",
    # A retry 1 minute after a failure, not the bundle's 2: this DAG's delay since it was written (no
    # reason was recorded). The e2e load and high-availability tests run it, so changing the delay is
    # a change of its own, measured there.
    default_args=pod_defaults.default_args(retry_delay=timedelta(minutes=1)),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"items": Param(10, type="integer", minimum=1, maximum=1000, description="How many pods to fan out to")},
    tags=["kubernetes-pod-operator", "dynamic-task-mapping"],
) as dag:
    KubernetesPodOperator.partial(
        **pod_defaults.pod_kwargs(task_id="process_item", name="process-item"),
    ).expand(arguments=work_list())
