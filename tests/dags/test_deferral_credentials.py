"""A deferrable pod task hands its connection's extras to the triggerer: they must say in-cluster.

The triggerer's AsyncKubernetesHook, unlike the sync hook, does not fall back to the pod's
ServiceAccount token: without `in_cluster` in the extras it looks for ~/.kube/config, and every poll
of the deferred pod fails ("Invalid kube-config file"; seen on the real node before the chart set
it). Here the provider's own code loads its config from the connection the chart gives workers,
exactly as it does on deferral (KubernetesPodOperator.invoke_defer_method -> the trigger's hook).
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.lib.dag_bundle.offline_airflow import chart_worker_airflow_env

PROBE = """
import asyncio
from airflow.sdk import BaseHook
from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook

extras = BaseHook.get_connection("kubernetes_default").extra_dejson  # what the operator passes on
hook = AsyncKubernetesHook(conn_id="kubernetes_default", connection_extras=extras)
try:
    asyncio.run(hook._load_config())
except Exception as err:
    print(type(err).__name__, err)
"""


def test_the_triggerer_loads_the_in_cluster_config_from_the_extras_workers_pass_on(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KUBERNETES_SERVICE"))}
    env.update({"AIRFLOW_HOME": str(tmp_path), "HOME": str(tmp_path), **chart_worker_airflow_env()})
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout.strip()
    # Outside a pod the in-cluster loader is what fails, for want of the pod's service env: proof
    # that it, and not a kubeconfig file, is what the triggerer would use.
    assert out.startswith("ConfigException") and "Service host/port is not set" in out, proc.stdout + proc.stderr
