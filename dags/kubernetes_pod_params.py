"""An on-demand pod run shaped at trigger time with validated Params.

Trigger it from the UI form or the REST API with a config such as
`{"partition": "2026-02", "namespace": "development", "exit_code": 0}`: Airflow checks each value
against its Param schema before the run starts, then renders it into the pod (KubernetesPodOperator
templates `namespace` and `arguments`). Useful for one-off reprocessing of a partition, and for
seeing failures as an operator does:

- `exit_code` other than 0 makes the container exit with it: the task fails, its log shows the exit
  code and the container's last lines, and the pod is still deleted (no pod is left behind);
- a `namespace` the chart does not grant (`rbac.podLaunchNamespaces`) fails the task on its first
  try with the API server's 403 in the log: a missing grant is not something a retry fixes.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, Param

import pod_defaults

with DAG(
    dag_id="kubernetes-pod-params",
    description="A pod run shaped by trigger-time Params: partition, namespace, exit code",
    # On demand: the person triggering watches the result; retrying a bad parameter would not help.
    default_args={"owner": "platform", "retries": 0},
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "partition": Param("2026-01", type="string", pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                           description="The YYYY-MM partition to process"),  # fmt: skip
        "namespace": Param(pod_defaults.NAMESPACE, type="string", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                           maxLength=63, description="Namespace to run the pod in (one the chart grants)"),  # fmt: skip
        "exit_code": Param(0, type="integer", minimum=0, maximum=255,
                           description="Exit code the container ends with (non-zero: fail on purpose)"),  # fmt: skip
    },
    tags=["kubernetes-pod-operator", "params"],
) as dag:
    KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="process",
            name="process",
            namespace="{{ params.namespace }}",
            arguments=["--partition", "{{ params.partition }}", "--exit-code", "{{ params.exit_code }}"],
        )
    )
