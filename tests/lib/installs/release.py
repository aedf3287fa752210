"""One install of the chart (release `airflow`, values/dev.yaml) on a cluster, for the e2e tests.

Each test module installs into fresh namespaces of its own so modules stay independent: the
release namespace (labelled to enforce the restricted Pod Security Standard) and the namespaces
workers may launch pods in (`rbac.podLaunchNamespaces`).

Installed the way the chart README says: no `--wait` on Helm 3. `helm install` returns once the
post-install migration Job hook has finished; the components wait for that hook, so their
rollout is awaited afterwards with `kubectl rollout status`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lib import tools
from tests.lib.cluster.target import ClusterTarget
from tests.lib.paths import CHART, REPO, VALUES_DIR

RELEASE = "airflow"
# The dev install the e2e modules that only run DAGs and read share (tests/e2e/conftest.py dev_airflow).
SHARED_DEV_RELEASE = "airflow-e2e"
DEV_VALUES = VALUES_DIR / "dev.yaml"
# The embedded PostgreSQL on an emptyDir instead of a claim (see `installed`).
NO_DATABASE_VOLUME = ("--set", "postgresql.persistence.enabled=false")
RESTRICTED_LABEL = "pod-security.kubernetes.io/enforce=restricted"
# Layered on every install after its own values file (and its extra values, which may be a values
# file of their own): Airflow's timing knobs set short for tests, and requests that fit beside the
# `make deploy-dev` release on the 2-core node.
TEST_TIMING_VALUES = REPO / "tests" / "e2e" / "values" / "test-timing.yaml"
TEST_FOOTPRINT_VALUES = REPO / "tests" / "e2e" / "values" / "test-footprint.yaml"
TEST_VALUES = (TEST_TIMING_VALUES, TEST_FOOTPRINT_VALUES)


def helm(target: ClusterTarget, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Helm 3 against `target`; output captured as text, never raises on a non-zero exit."""
    cmd = [str(tools.helm(3)), "--kubeconfig", str(target.kubeconfig), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def fresh_namespace_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Release:
    target: ClusterTarget
    namespace: str
    launch_namespaces: tuple[str, ...]  # rbac.podLaunchNamespaces: where task pods run, never the release namespace
    extra_values: tuple[str, ...] = ()  # more helm flags on top of values/dev.yaml, e.g. ("--set", "a=b")
    name: str = RELEASE
    values_file: Path = DEV_VALUES
    # The Secret with the UI users' passwords: the chart's generated one unless the values name one.
    passwords_secret: str = ""
    # A bearer token for the REST API at the api-server's URL, where people sign in through an
    # identity provider (values/prod.yaml); None: the generated admin's password (SimpleAuthManager).
    api_login: Callable[[str], str] | None = field(default=None, compare=False)

    @property
    def pod_namespaces(self) -> tuple[str, ...]:
        """Where the release's pods run: its own namespace (components, worker pods), then the task pods'."""
        return (self.namespace, *self.launch_namespaces)

    @property
    def ui_passwords_secret(self) -> str:
        return self.passwords_secret or f"{self.name}-simple-auth-passwords"

    def helm(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
        return helm(self.target, *args, "--namespace", self.namespace, timeout=timeout)

    def kubectl_json(self, *args: str) -> Any:
        return self.target.kubectl_json("-n", self.namespace, *args)

    def component_pod(self, component: str) -> dict[str, Any]:
        """The one live pod of a single-replica component (by its app.kubernetes.io/component label),
        leaving out one being deleted."""
        (pod,) = [p for p in self.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]
                  if not p["metadata"].get("deletionTimestamp")]  # fmt: skip
        return pod

    def upgrade(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """`helm upgrade` with the install's values plus `extra` (e.g. `--set`), then await the rollout."""
        result = self.helm("upgrade", self.name, str(CHART), *self._values_args(), *extra, "--timeout", "5m")
        if result.returncode == 0:
            self.wait_rolled_out()
        return result

    def template(self, *extra: str) -> subprocess.CompletedProcess[str]:
        """`helm template` of the install's values plus `extra`; with `--validate`, against the live
        cluster (its APIs and its schemas)."""
        return self.helm("template", self.name, str(CHART), *self._values_args(), *extra)

    def install(self) -> subprocess.CompletedProcess[str]:
        """`helm install`, then await the rollout. Helm itself waits for the migrations hook: while it
        does, a pod of the release that cannot be scheduled or started (the hook's, on a tainted node)
        raises unstartable_pods.PodStuck within about a minute instead of helm's 10-minute timeout."""
        cmd = [str(tools.helm(3)), "--kubeconfig", str(self.target.kubeconfig), "install", self.name, str(CHART),
               *self._values_args(), "--timeout", "10m", "--namespace", self.namespace]  # fmt: skip
        out, err, returncode = self._run_watching(cmd, "installing")
        result = subprocess.CompletedProcess(cmd, returncode, out, err)
        if result.returncode == 0:
            self.wait_rolled_out()
        return result

    def _run_watching(self, cmd: list[str], doing: str) -> tuple[str, str, int]:
        """Run `cmd` while checking the release's pods for ones stuck unscheduled or unstartable."""
        # Imported here: the rest of this module is not this function's.
        from tests.lib.cluster.unstartable_pods import StuckPodCheck

        check = StuckPodCheck(self.target, (self.namespace,), f"app.kubernetes.io/instance={self.name}",
                              f"{doing} release {self.name} in {self.namespace}")  # fmt: skip
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
            try:
                while True:
                    try:
                        out, err = proc.communicate(timeout=2)
                        return out, err, proc.returncode
                    except subprocess.TimeoutExpired:
                        check.poll()
            finally:
                if proc.poll() is None:  # PodStuck (or an interrupt): stop waiting
                    proc.kill()
                    proc.communicate()

    def _values_args(self) -> list[str]:
        return [
            "--values",
            str(self.values_file),
            "--set-json",
            f"rbac.podLaunchNamespaces={json.dumps(list(self.launch_namespaces))}",
            *self.extra_values,
            *(arg for path in TEST_VALUES for arg in ("--values", str(path))),
        ]

    def wait_rolled_out(self, timeout: int = 180) -> None:
        """`kubectl rollout status` on each Deployment and StatefulSet. Raises unstartable_pods.PodStuck
        within about a minute when one of the release's pods cannot be scheduled or started, and
        CalledProcessError when a rollout does not complete within `timeout` seconds."""
        for kind in ("deployment", "statefulset"):
            for item in self.kubectl_json("get", kind)["items"]:
                cmd = [str(tools.kubectl()), "--kubeconfig", str(self.target.kubeconfig), "rollout", "status",
                       "-n", self.namespace, f"{kind}/{item['metadata']['name']}", f"--timeout={timeout}s"]  # fmt: skip
                out, err, returncode = self._run_watching(cmd, "waiting for the rollout of")
                if returncode != 0:
                    raise subprocess.CalledProcessError(returncode, cmd, out, err)

    def uninstall(self, timeout: str = "5m") -> subprocess.CompletedProcess[str]:
        # Worker pods, failed ones kept for inspection among them, go with the release
        # (workers.deleteWithRelease): nothing to remove first.
        return self.helm("uninstall", self.name, "--wait", "--timeout", timeout)

    def service_account_token(self, name: str) -> str:
        """A short-lived token (TokenRequest) for one of the release's ServiceAccounts."""
        return self.target.kubectl("create", "token", name, "-n", self.namespace, "--duration=30m").stdout.strip()


def create_namespaces(target: ClusterTarget, release_namespace: str, others: tuple[str, ...]) -> None:
    target.create_namespace(release_namespace, RESTRICTED_LABEL)
    for ns in others:
        target.create_namespace(ns)


def delete_namespaces(target: ClusterTarget, *namespaces: str) -> None:
    target.kubectl("delete", "namespace", *namespaces, "--wait=false", "--ignore-not-found", check=False)


def remove_leftovers(target: ClusterTarget, prefix: str, name: str) -> list[str]:
    """Uninstall release `name` from namespaces `<prefix>-*` an interrupted run left behind, and delete
    them (with their pods, which would crowd the node and the static volumes)."""
    namespaces = [ns["metadata"]["name"] for ns in target.kubectl_json("get", "namespaces")["items"]
                  if ns["metadata"]["name"].startswith(f"{prefix}-") and ns["status"].get("phase") == "Active"]  # fmt: skip
    for namespace in namespaces:
        # Not waiting long: the namespace deletion below removes whatever the uninstall leaves.
        Release(target, namespace, (), name=name).uninstall(timeout="60s")
        delete_namespaces(target, namespace, f"{namespace}-tasks")
    return namespaces


@contextlib.contextmanager
def installed(
    target: ClusterTarget,
    prefix: str,
    launch_elsewhere: tuple[str, ...] | None = None,
    extra_values: tuple[str, ...] = (),
    name: str = RELEASE,
    before_install: Callable[[str], None] | None = None,
    fresh_launch_namespace: bool | None = None,
) -> Iterator[Release]:
    """values/dev.yaml installed into a fresh restricted namespace; uninstalled and deleted afterwards.

    Workers may launch pods in `launch_elsewhere` (never the release namespace); by default one fresh
    namespace `<release namespace>-tasks` stands in for dev.yaml's `development`, so a module does not
    collide with another release's Roles there. `fresh_launch_namespace=True` grants that empty one
    after `launch_elsewhere` too (a namespace without the DAGs' Secrets and ConfigMaps). Namespaces
    this creates are deleted afterwards.
    Modules that do not look at the database's volume pass NO_DATABASE_VOLUME: the local control plane
    has only a few static PersistentVolumes, and a claim's volume is reusable only after cluster-up.
    """
    remove_leftovers(target, prefix, name)
    namespace = fresh_namespace_name(prefix)
    if fresh_launch_namespace is None:
        fresh_launch_namespace = launch_elsewhere is None
    created = (f"{namespace}-tasks",) if fresh_launch_namespace else ()
    others = (*(launch_elsewhere or ()), *created)
    create_namespaces(target, namespace, created)
    release = Release(target, namespace, others, extra_values, name)
    try:
        if before_install is not None:  # e.g. the Secrets the values name, made as a user makes them
            before_install(namespace)
        result = release.install()
        assert result.returncode == 0, f"helm install failed:\n{result.stderr}"
        yield release
    finally:
        release.uninstall()
        delete_namespaces(target, namespace, *created)
