"""values/gitops.yaml applied the way a GitOps tool applies the chart: rendered, then applied without Helm.

`helm template ... --skip-tests | kubectl apply --server-side` of values/dev.yaml plus values/gitops.yaml
into a fresh restricted namespace, after the README's own commands (its GitOps section, run as written)
created the Secrets the values name. No Helm release exists and no hook runs: the migration Job is a
plain resource the components wait for. Then:
- Airflow becomes Available and the seed DAG succeeds;
- a second apply with a changed value creates a new migration Job (its name follows its spec), which
  runs; the components roll once and nothing restarts, and a render of the same values then differs
  from the live objects in nothing (`kubectl diff --server-side`), so a controller sees no drift.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.lib import tools
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import (
    NO_DATABASE_VOLUME,
    RESTRICTED_LABEL,
    Release,
    delete_namespaces,
    fresh_namespace_name,
    remove_leftovers,
)
from tests.lib.live_airflow.rest_api import connect
from tests.lib.paths import REPO, VALUES_DIR

PREFIX = "e2e-gitops"
RELEASE = "airflow"  # the release values/gitops.yaml names the Secrets of
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE
SEED = "kubernetes-dag"
README_MARKER = "<!-- tested: tests/e2e/test_gitops_apply.py runs this block -->"
CHANGED_VALUE = ("--set", "config.core.default_task_retries=1")
MIGRATIONS = "app.kubernetes.io/component=run-migrations"


def readme_secret_commands(namespace: str) -> str:
    """The README's GitOps block, for `namespace` instead of its `airflow`."""
    text = (REPO / "README.md").read_text()
    block = re.search(re.escape(README_MARKER) + r"\n```bash\n(.*?)\n```", text, re.S)
    assert block, f"README.md has no bash block after {README_MARKER}"
    commands = block.group(1)
    assert commands.startswith("NAMESPACE=airflow\n"), "the README block no longer starts with NAMESPACE=airflow"
    return f"NAMESPACE={namespace}\n" + commands.split("\n", 1)[1]


def create_secrets_as_the_readme_says(target: ClusterTarget, namespace: str) -> None:
    path = f"{tools.kubectl().parent}{os.pathsep}{os.environ['PATH']}"
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_secret_commands(namespace)], capture_output=True,
                            text=True, timeout=120, env={**os.environ, "KUBECONFIG": str(target.kubeconfig), "PATH": path})  # fmt: skip
    assert result.returncode == 0, f"the README's GitOps commands failed:\n{result.stderr}"


class GitOpsInstall:
    """A release namespace whose objects only `kubectl apply` made."""

    def __init__(self, target: ClusterTarget, namespace: str):
        self.release = Release(target, namespace, (LAUNCH_NAMESPACE,), name=RELEASE,
                               extra_values=("--values", str(VALUES_DIR / "gitops.yaml"), *NO_DATABASE_VOLUME))  # fmt: skip
        self.manifest = ""

    @property
    def target(self) -> ClusterTarget:
        return self.release.target

    def render(self, *extra: str) -> str:
        rendered = self.release.template("--skip-tests", *extra)
        assert rendered.returncode == 0, f"helm template failed:\n{rendered.stderr}"
        return rendered.stdout

    def apply(self, *extra: str) -> None:
        self.manifest = self.render(*extra)
        applied = self.target.kubectl("apply", "--server-side", "-f", "-",
                                      stdin=self.manifest, check=False)  # fmt: skip
        assert applied.returncode == 0, f"kubectl apply --server-side failed:\n{applied.stderr}"

    def migration_jobs(self) -> dict[str, dict]:
        return {j["metadata"]["name"]: j for j in self.release.kubectl_json("get", "jobs", "-l", MIGRATIONS)["items"]}

    def wait_for_job(self, name: str, timeout: float = 420) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.migration_jobs().get(name, {})
            status = job.get("status", {})
            assert not status.get("failed"), f"migration Job {name} failed: {status}"
            if status.get("succeeded"):
                return job
            time.sleep(3)
        raise AssertionError(f"migration Job {name} did not succeed within {timeout:.0f} s")

    def delete(self) -> None:
        if self.manifest:  # the Roles in the launch namespace too
            self.target.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-",
                                stdin=self.manifest, check=False)  # fmt: skip
        delete_namespaces(self.target, self.release.namespace)


@pytest.fixture(scope="module")
def gitops(running_containers: ClusterTarget) -> Iterator[GitOpsInstall]:
    target = running_containers
    remove_leftovers(target, PREFIX, RELEASE)
    apply_dev_objects(target)
    install = GitOpsInstall(target, fresh_namespace_name(PREFIX))
    target.create_namespace(install.release.namespace, RESTRICTED_LABEL)
    try:
        create_secrets_as_the_readme_says(target, install.release.namespace)
        install.apply()
        install.release.wait_rolled_out(timeout=420)
        yield install
    finally:
        install.delete()


def test_applied_without_helm_airflow_becomes_available_and_the_seed_dag_succeeds(gitops: GitOpsInstall) -> None:
    (job,) = gitops.migration_jobs().values()
    assert job["status"].get("succeeded") == 1, job["status"]
    assert "helm.sh/hook" not in (job["metadata"].get("annotations") or {})
    assert gitops.release.helm("list", "-q").stdout.strip() == "", "no Helm release should exist"
    with connect(gitops.release) as api:
        api.wait_for_dags({SEED})
        run_id = api.trigger(SEED)
        state = api.wait_for_run(SEED, run_id, timeout=600)
        assert state == "success", api.task_log(SEED, run_id, "kubernetespodoperator", 1)


def test_a_changed_value_migrates_again_and_then_nothing_drifts_or_restarts(gitops: GitOpsInstall) -> None:
    before = set(gitops.migration_jobs())
    gitops.apply(*CHANGED_VALUE)
    new = set(gitops.migration_jobs()) - before
    assert len(new) == 1, f"expected one new migration Job beside {before}, found {sorted(new)}"
    gitops.wait_for_job(new.pop())
    gitops.release.wait_rolled_out(timeout=420)

    drift = gitops.target.kubectl("diff", "--server-side", "-f", "-",
                                  stdin=gitops.render(*CHANGED_VALUE), check=False)  # fmt: skip
    assert drift.returncode == 0, (
        f"a render of the applied values differs from the live objects:\n{drift.stdout[-3000:]}{drift.stderr}"
    )

    time.sleep(20)  # a crash loop shows within a liveness period or two
    for pod in gitops.release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/instance={RELEASE}")["items"]:
        if pod["status"].get("phase") == "Succeeded":
            continue  # the migration Jobs' pods
        name = pod["metadata"]["name"]
        statuses = pod["status"].get("containerStatuses", [])
        assert all(s.get("ready") for s in statuses), f"{name} is not Ready: {statuses}"
        assert all(s.get("restartCount", 0) == 0 for s in statuses), f"{name} restarted: {statuses}"
