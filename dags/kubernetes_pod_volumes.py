"""Volumes in a pod: a ConfigMap mounted as files, and an emptyDir as scratch space.

The ConfigMap volume turns each key of ConfigMap `task-example-files` into a read-only file under
/etc/task-example. The emptyDir is a per-pod scratch directory that lives as long as the pod (with a
size limit so one task cannot fill the node's disk): with the read-only root filesystem every bundle
pod has, volumes are the only places a task can write.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

import pod_defaults

CONFIG_DIR = "/etc/task-example"
SCRATCH_DIR = "/scratch"

volumes = [
    k8s.V1Volume(name="settings", config_map=k8s.V1ConfigMapVolumeSource(name="task-example-files")),
    k8s.V1Volume(name="scratch", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="64Mi")),
]
volume_mounts = [
    k8s.V1VolumeMount(name="settings", mount_path=CONFIG_DIR, read_only=True),
    k8s.V1VolumeMount(name="scratch", mount_path=SCRATCH_DIR),
]


with DAG(
    dag_id="kubernetes-pod-volumes",
    description="Mount a ConfigMap as files and an emptyDir as scratch space",
    default_args=pod_defaults.default_args(),
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["kubernetes-pod-operator", "volumes"],
) as dag:
    KubernetesPodOperator(
        **pod_defaults.pod_kwargs(
            task_id="read_settings",
            name="read-settings",
            arguments=["--read-dir", CONFIG_DIR, "--scratch-dir", SCRATCH_DIR],
            volumes=volumes,
            volume_mounts=volume_mounts,
        )
    )
