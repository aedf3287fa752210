"""The seed DAG `kubernetes-dag`: one container run daily on Kubernetes, brought from Airflow 1.10 to 3.3.

Every behaviour of the 2020 original is kept; what changed and why:
- Airflow 3 imports (`airflow.sdk`, the standard and cncf.kubernetes providers); `schedule` replaces
  `schedule_interval`; EmptyOperator replaces DummyOperator.
- `container_resources` (a V1ResourceRequirements) replaces the removed `Resources` class.
- `on_finish_action="delete_pod"` replaces `is_delete_operator_pod=True`.
- The KubernetesExecutor worker resources move from the removed `{"KubernetesExecutor": {...}}`
  executor_config to a `pod_override` V1Pod; a small cluster may size them with an environment
  variable (KUBERNETES_DAG_WORKER_RESOURCES), the seed's values staying the default.
- Email on failure (not on retry) is an SmtpNotifier failure callback: task-level `email*` arguments
  are deprecated in Airflow 3.
- `default_args` holds the seed's values on top of `pod_defaults.default_args(...)`, the bundle's
  shared task defaults (a bundle convention, not an Airflow change); `start_date` is the DAG's.
- The Secret `test_env` and pull secret `image_credential` become `test-env` and `image-credential`:
  Kubernetes object names are DNS-1123 names (lowercase letters, digits, `-`, `.`; no underscores),
  so a real API server refuses to create the originals and the pod could never have started.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

import pod_defaults

# The seed mailed its author; this placeholder stands in for your team's alert address.
ALERT_EMAIL = "data-alerts@example.com"

# The seed's task_default_args, built on the bundle's shared task defaults like every DAG here: the
# article's own owner, retries and retry delay replace the shared ones, and the other keys are the
# article's too (its start_date is now the DAG's, its email settings the failure callback).
default_args = pod_defaults.default_args(
    owner="bomwo",
    retries=3,
    retry_delay=timedelta(minutes=5),
    depends_on_past=False,
    execution_timeout=timedelta(hours=1),
    # Email on failure, none on retry (the seed's email_on_failure=True, email_on_retry=False).
    on_failure_callback=SmtpNotifier(to=ALERT_EMAIL),
)

# The KubernetesExecutor runs this task's worker (the process that launches and watches the
# `job` pod) in its own pod; the seed gave that worker pod these resources, and production keeps
# them. A cluster too small for 4 CPU / 32 GiB (dev: values/dev.yaml) sets
# KUBERNETES_DAG_WORKER_RESOURCES instead, so this same file runs there. The override replaces the
# worker's whole resources map: it keeps the chart's disk request and limit (with_worker_disk).
worker_pod_override = k8s.V1Pod(
    spec=k8s.V1PodSpec(
        containers=[
            k8s.V1Container(
                name="base",  # the executor's worker container; pod_override merges by this name
                resources=pod_defaults.with_worker_disk(
                    pod_defaults.sized_from_env("KUBERNETES_DAG_WORKER_RESOURCES", ("4", "32Gi", "8", "64Gi"))
                ),
            )
        ]
    )
)

with DAG(
    dag_id="kubernetes-dag",
    description="kubernetes pod operator",
    default_args=default_args,
    schedule="5 16 * * *",
    start_date=datetime(2020, 11, 21),
    # Catchup off: the seed was written on its start date, so it never had past runs to fill in.
    # With catchup on, a 2020 start date would now queue one run per day since then.
    catchup=False,
    max_active_runs=1,
    tags=["kubernetes-pod-operator", "seed"],
) as dag:
    start = EmptyOperator(task_id="start")

    run = KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="kubernetespodoperator",
            namespace="development",
            # The seed's image, with a fixed tag: an untagged image means `latest`, which changes
            # under a running schedule (`make images` builds docker/task-example as test/image:1.0).
            image="test/image:1.0",
            name="job",
            # Env var TEST from key TEST of Secret test-env (the seed's `test_env`: see module docstring).
            secrets=[Secret(deploy_type="env", deploy_target="TEST", secret="test-env", key="TEST")],
            # Every key of ConfigMap `secret` becomes an env var.
            env_from=[k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name="secret"))],
            # The seed's `image_credential`, renamed for the same DNS-1123 reason.
            image_pull_secrets=[k8s.V1LocalObjectReference(name="image-credential")],
            container_resources=pod_defaults.resources("1000m", "2048Mi", "2000m", "4096Mi"),
            get_logs=True,
            on_finish_action="delete_pod",
            executor_config={"pod_override": worker_pod_override},
        )
    )

    start >> run
