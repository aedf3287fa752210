"""Small queries into rendered chart objects that the chart tests share.

Everything here reads what `render(scenario)` returned; nothing calls helm.
"""

from __future__ import annotations

import base64
import configparser
import datetime
import functools
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tests.lib.render.helm_template import Rendered

POD_TEMPLATE_KEY = "pod_template_file.yaml"
SERVER_DEPLOYMENTS = ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload (Deployment, StatefulSet, Job) or of a bare Pod."""
    return obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]


def pod_annotations(obj: dict[str, Any]) -> dict[str, str]:
    return obj["spec"]["template"]["metadata"].get("annotations") or {}


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod_spec(obj)["containers"]}


def init_containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod_spec(obj).get("initContainers") or []}


def env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env") or []}


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """env name -> (Secret name, key) for every env var read from a Secret."""
    found = {}
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            found[e["name"]] = (ref["name"], ref["key"])
    return found


def mounts(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container.get("volumeMounts") or []}


def volumes(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod_spec(obj).get("volumes") or []}


def secret_data(rendered: Rendered, name: str) -> dict[str, str]:
    """A rendered Secret's data, base64-decoded."""
    secret = rendered.get("Secret", name)
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def airflow_cfg(rendered: Rendered) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(rendered.get("ConfigMap", "airflow-config")["data"]["airflow.cfg"])
    return parser


def worker_pod_template(rendered: Rendered) -> dict[str, Any]:
    return yaml.safe_load(rendered.get("ConfigMap", "airflow-pod-template")["data"][POD_TEMPLATE_KEY])


@functools.cache
def _pod_generator():
    from tests.lib.dag_bundle.offline_airflow import prepare_airflow_env

    prepare_airflow_env()  # a throwaway AIRFLOW_HOME before Airflow is first imported
    from airflow.providers.cncf.kubernetes.pod_generator import PodGenerator

    return PodGenerator


def worker_pod_as_executor_builds(rendered: Rendered, template: str | None = None) -> dict[str, Any]:
    """The pod the KubernetesExecutor would create for one task, from the rendered pod template (or
    `template`, the file the scheduler reads), built by the provider's own PodGenerator (file -> V1Pod
    -> merged with the executor's pod)."""
    from kubernetes.client import ApiClient

    generator = _pod_generator()
    # As KubeConfig does: the image comes from the config only when both keys are set; None
    # leaves the template's image in place.
    executor_cfg = airflow_cfg(rendered)["kubernetes_executor"]
    repository, tag = executor_cfg.get("worker_container_repository"), executor_cfg.get("worker_container_tag")
    kube_image = f"{repository}:{tag}" if repository and tag else None
    text = template or rendered.get("ConfigMap", "airflow-pod-template")["data"][POD_TEMPLATE_KEY]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / POD_TEMPLATE_KEY
        path.write_text(text)
        base = generator.deserialize_model_file(str(path))
    pod = generator.construct_pod(
        dag_id="example_dag", task_id="example_task", pod_id="example-pod", try_number=1,
        kube_image=kube_image, date=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
        args=["python", "-m", "airflow.sdk.execution_time.execute_workload", "--json-string", "{}"],
        pod_override_object=None, base_worker_pod=base, namespace="airflow", scheduler_job_id="1",
    )
    return ApiClient().sanitize_for_serialization(pod)


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity as a number (cores or bytes)."""
    text = str(value)
    suffixes = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * suffixes[suffix]
    return float(text)
