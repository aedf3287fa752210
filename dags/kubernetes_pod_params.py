"""An on-demand pod run shaped at trigger time with validated Params.

Trigger it from the UI form or the REST API with a config such as
`{"partition": "2026-02", "namespace": "development", "sleep": 60}`: Airflow checks each value
against its Param schema before the run starts, then renders it into the pod (KubernetesPodOperator
templates `image`, `namespace` and `arguments`). Useful for one-off reprocessing of a partition, and
for seeing failures as an operator does; each ends the task within a bounded time with its reason in
the task log, and the pod is deleted (none is left behind):

- `exit_code` other than 0: the container exits with it; the log shows the code and its last lines;
- `allocate_mib` above the pod's 256 MiB limit: the kernel OOM-kills the container (reason
  OOMKilled, exit code 137);
- an `image` the node cannot get: the pull error, at once;
- a `namespace` without the Secret the pod reads (`test-env`): CreateContainerConfigError, within
  the start-up timeout (`startup_timeout`, 2 minutes unless the run asks for another);
- a `namespace` the chart does not grant (`rbac.podLaunchNamespaces`): the API server's 403 on the
  first try. None of these is something a retry fixes, so this DAG does not retry.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.sdk import DAG, Param

import pod_defaults

STARTUP_TIMEOUT_SECONDS = 120


def startup_timeout_from_params(context) -> None:
    """KubernetesPodOperator does not template `startup_timeout_seconds`: take it from the run's Params."""
    context["task"].startup_timeout_seconds = context["params"]["startup_timeout"]


with DAG(
    dag_id="kubernetes-pod-params",
    description="A pod run shaped by trigger-time Params: partition, namespace, work, failures",
    # No retry: on demand, the person triggering watches the result; retrying a bad parameter would
    # not help.
    default_args=pod_defaults.default_args(retries=0),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "partition": Param("2026-01", type="string", pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                           description="The YYYY-MM partition to process"),  # fmt: skip
        "namespace": Param(pod_defaults.NAMESPACE, type="string", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                           maxLength=63, description="Namespace to run the pod in (one the chart grants)"),  # fmt: skip
        "image": Param(pod_defaults.TASK_IMAGE, type="string", pattern=r"^[a-z0-9][a-z0-9._/-]*(:[\w.-]+)?$",
                       description="Image of the task container"),  # fmt: skip
        "sleep": Param(0, type="integer", minimum=0, maximum=3600, description="Seconds the container works"),
        "allocate_mib": Param(0, type="integer", minimum=0, maximum=4096,
                              description="MiB of memory the container holds (its limit is 256 MiB)"),  # fmt: skip
        "exit_code": Param(0, type="integer", minimum=0, maximum=255,
                           description="Exit code the container ends with (non-zero: fail on purpose)"),  # fmt: skip
        "startup_timeout": Param(STARTUP_TIMEOUT_SECONDS, type="integer", minimum=10, maximum=3600,
                                 description="Seconds the pod may take to start once scheduled before the task fails"),  # fmt: skip
    },
    tags=["kubernetes-pod-operator", "params"],
) as dag:
    KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="process",
            name="process",
            namespace="{{ params.namespace }}",
            image="{{ params.image }}",
            arguments=[
                "--partition", "{{ params.partition }}",
                "--sleep", "{{ params.sleep }}",
                "--allocate-mib", "{{ params.allocate_mib }}",
                "--exit-code", "{{ params.exit_code }}",
            ],  # fmt: skip
            # The Secret the seed's pod reads, as env var TEST (dags/dev_objects.yaml).
            secrets=[Secret(deploy_type="env", deploy_target="TEST", secret="test-env", key="TEST")],
            # A pod that cannot start fails the task after this long (the `startup_timeout` Param, set
            # just before the task runs), with the reason in the log; one not scheduled onto a node
            # within 2 minutes fails too.
            startup_timeout_seconds=STARTUP_TIMEOUT_SECONDS,
            schedule_timeout_seconds=STARTUP_TIMEOUT_SECONDS,
            pre_execute=startup_timeout_from_params,
        )
    )
