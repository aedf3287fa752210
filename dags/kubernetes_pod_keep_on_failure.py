"""Keep the pod when it fails, for debugging: `on_finish_action="delete_succeeded_pod"`.

Succeeded pods are deleted as usual; a failed pod stays in the namespace so you can read its logs and
events after the fact (`kubectl -n development get pods -l dag_id=kubernetes-pod-keep-on-failure`,
then `kubectl logs` / `kubectl describe`). Delete it by hand once done. `log_events_on_failure` also
copies the pod's Kubernetes events into the task log.

Trigger with config `{"fail": true}` to see a kept pod.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG, Param

import pod_defaults

with DAG(
    dag_id="kubernetes-pod-keep-on-failure",
    description="Delete the pod only when it succeeds, keep it for debugging when it fails",
    # No retry: a failed pod is kept for debugging, and a retry would only leave a second failed pod
    # beside it (with `fail` set, every try fails).
    default_args=pod_defaults.default_args(retries=0),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"fail": Param(False, type="boolean", description="Make the pod exit non-zero")},
    tags=["kubernetes-pod-operator", "debugging"],
) as dag:
    KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="maybe_fail",
            name="maybe-fail",
            arguments=["--exit-code", "{{ 1 if params.fail else 0 }}"],
            on_finish_action="delete_succeeded_pod",
            log_events_on_failure=True,
        )
    )
