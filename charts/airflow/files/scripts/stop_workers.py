"""Stopping the KubernetesExecutor's worker pods before `helm uninstall` deletes the release.

The scheduler that launched a worker pod deletes it once its task ends. `helm uninstall` deletes the
scheduler with everything else, so a worker pod whose task ends afterwards is never deleted: it keeps
the logs claim in Terminating and `helm uninstall --wait` waits for it until its timeout. The
pre-delete hook (templates/cleanup/uninstall-job.yaml) runs `stop-workers` first, while every release
object still exists:

1. scale the scheduler Deployment to 0, so no new worker pod is created;
2. delete every worker pod of the release, again while any appears, until no scheduler pod and no
   worker pod is left. A deleted worker's task gets SIGTERM: KubernetesPodOperator's on_kill deletes
   the pod it launched in its launch namespace, and the task ends failed.

It never fails: what is still there at the deadline is named in the log, and it exits 0 (`helm
uninstall` then deletes the rest as it would have). A hook pod that cannot run at all still fails the
uninstall, which is why the hook is opt-in (cleanup.onUninstall). It reaches the Kubernetes API with its pod's
ServiceAccount token, as the hook's Role allows: scale that one Deployment, list and delete pods.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

POLL_SECONDS = 2.0


class PodsApi(Protocol):
    """What stop_workers uses of kubernetes.client.CoreV1Api and AppsV1Api, as one object."""

    def scale_to_zero(self, deployment: str) -> None: ...

    def pod_names(self, selector: str) -> list[tuple[str, bool]]: ...  # (name, being deleted)

    def delete_pod(self, name: str) -> None: ...


@dataclass(frozen=True)
class Release:
    """The release whose pods are stopped (the namespace is the API client's)."""

    name: str

    def selector(self, component: str) -> str:
        return f"app.kubernetes.io/instance={self.name},app.kubernetes.io/component={component}"

    @property
    def scheduler(self) -> str:
        return f"{self.name}-scheduler"


def stop_workers(api: PodsApi, release: Release, timeout: float, log: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Scale the scheduler to 0 and delete worker pods until neither kind is left; False at the deadline."""
    deadline = clock() + timeout
    api.scale_to_zero(release.scheduler)
    log(f"scaled deployment/{release.scheduler} to 0 replicas")
    deleted: set[str] = set()
    while True:
        schedulers = api.pod_names(release.selector("scheduler"))
        workers = api.pod_names(release.selector("worker"))
        for name, terminating in workers:
            if not terminating and name not in deleted:
                api.delete_pod(name)
                deleted.add(name)
                log(f"deleted worker pod {name}")
        if not schedulers and not workers:
            log(f"no scheduler and no worker pod left ({len(deleted)} worker pods deleted)")
            return True
        if clock() >= deadline:
            left = [name for name, _ in schedulers + workers]
            log(f"still there after {timeout:.0f} s, left to helm uninstall: {', '.join(left)}")
            return False
        sleep(POLL_SECONDS)


class KubernetesPods:
    """PodsApi over the kubernetes client, in-cluster, in one namespace."""

    def __init__(self, namespace: str):
        from kubernetes import client, config  # the Airflow image has it (cncf.kubernetes provider)

        config.load_incluster_config()
        self.namespace = namespace
        self.core = client.CoreV1Api()
        self.apps = client.AppsV1Api()

    def scale_to_zero(self, deployment: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.apps.patch_namespaced_deployment_scale(deployment, self.namespace, {"spec": {"replicas": 0}})
        except ApiException as error:
            if error.status != 404:  # no scheduler: nothing creates worker pods
                raise

    def pod_names(self, selector: str) -> list[tuple[str, bool]]:
        pods: Any = self.core.list_namespaced_pod(self.namespace, label_selector=selector)
        return [(p.metadata.name, p.metadata.deletion_timestamp is not None) for p in pods.items]

    def delete_pod(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.delete_namespaced_pod(name, self.namespace)
        except ApiException as error:
            if error.status != 404:  # gone already: its scheduler deleted it
                raise


def main(namespace: str, release: str, timeout: float) -> None:
    """The hook's command: never raises, so the uninstall goes on whatever happens here."""
    try:
        stop_workers(KubernetesPods(namespace), Release(release), timeout)
    except Exception as error:  # noqa: BLE001 - an uninstall must not be blocked by its helper
        print(f"could not stop the worker pods ({type(error).__name__}: {error}); helm uninstall goes on")
