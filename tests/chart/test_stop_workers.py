"""Before `helm uninstall`: the pre-delete hook that stops the scheduler and deletes the worker pods.

files/scripts/stop_workers.py imported as the hook runs it, against a fake Kubernetes API and clock; the
hook's render (its Role, when it exists). tests/e2e/test_uninstall_mid_run.py uninstalls a release
during a fan-out on the real node.
"""

from __future__ import annotations

import pytest

from tests.lib.render import scenarios
from tests.lib.render.argo_cd_phases import NEVER_APPLIED, sync_phases
from tests.lib.render.chart_objects import containers, pod_spec
from tests.lib.render.helm_template import Scenario, render
from tests.lib.render.startup_scripts import command_of, stop_workers

RELEASE = stop_workers.Release("airflow")
HOOK_ON = {"cleanup": {"onUninstall": True}}


class FakeCluster:
    """Pods by component; a deleted pod terminates for `terminating_polls` polls, then is gone."""

    def __init__(self, schedulers: list[str], workers: list[str], terminating_polls: int = 1):
        self.pods = {"scheduler": {n: None for n in schedulers}, "worker": {n: None for n in workers}}
        self.terminating_polls = terminating_polls
        self.calls: list[str] = []
        self.later_workers: list[str] = []

    def scale_to_zero(self, deployment: str) -> None:
        self.calls.append(f"scale {deployment}")
        for name in self.pods["scheduler"]:
            self.pods["scheduler"][name] = self.terminating_polls

    def pod_names(self, selector: str) -> list[tuple[str, bool]]:
        component = selector.rsplit("=", 1)[1]
        assert selector.startswith("app.kubernetes.io/instance=airflow,")
        listed = []
        for name, polls in list(self.pods[component].items()):
            if polls == 0:
                del self.pods[component][name]
                continue
            if polls is not None:
                self.pods[component][name] = polls - 1
            listed.append((name, polls is not None))
        if component == "worker" and self.later_workers:  # the scheduler's last pod, created while it stops
            self.pods["worker"][self.later_workers.pop()] = None
        return listed

    def delete_pod(self, name: str) -> None:
        self.calls.append(f"delete {name}")
        self.pods["worker"][name] = self.terminating_polls


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(cluster: FakeCluster, timeout: float = 90) -> tuple[bool, list[str]]:
    clock, log = Clock(), []
    done = stop_workers.stop_workers(cluster, RELEASE, timeout, log.append, clock, clock.sleep)
    return done, log


def test_scales_the_scheduler_to_zero_first_then_deletes_each_worker_once_until_none_is_left():
    cluster = FakeCluster(["airflow-scheduler-1"], ["worker-a", "worker-b"], terminating_polls=2)
    done, log = run(cluster)
    assert done
    assert cluster.calls == ["scale airflow-scheduler", "delete worker-a", "delete worker-b"]
    assert log[-1] == "no scheduler and no worker pod left (2 worker pods deleted)"


def test_deletes_a_worker_the_stopping_scheduler_creates_after_the_first_round():
    cluster = FakeCluster(["airflow-scheduler-1"], ["worker-a"], terminating_polls=3)
    cluster.later_workers = ["worker-late"]
    done, _ = run(cluster)
    assert done and "delete worker-late" in cluster.calls


def test_at_the_deadline_it_names_what_is_left_and_lets_the_uninstall_go_on():
    cluster = FakeCluster(["airflow-scheduler-1"], ["worker-a"], terminating_polls=10_000)
    done, log = run(cluster, timeout=10)
    assert not done
    assert log[-1].startswith("still there after 10 s, left to helm uninstall: airflow-scheduler-1, worker-a")


def test_the_command_never_raises_outside_a_cluster(capsys):
    stop_workers.main("airflow", "airflow", 5)  # no in-cluster config here
    assert "could not stop the worker pods" in capsys.readouterr().out


def hook_objects(rendered):
    return [o for o in rendered.objects if o["metadata"]["name"] == "airflow-stop-workers"]


def test_the_hook_runs_before_delete_with_a_role_for_the_scheduler_scale_and_pods_only():
    rendered = render(Scenario.of("stop-workers", HOOK_ON))
    job = rendered.get("Job", "airflow-stop-workers")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-delete"
    assert command_of(containers(job)["stop-workers"]["args"]) == [
        "stop-workers", "--namespace", "airflow", "--release", "airflow", "--timeout", "90"]  # fmt: skip
    assert pod_spec(job)["serviceAccountName"] == "airflow-stop-workers"
    role = rendered.get("Role", "airflow-stop-workers")
    assert role["rules"] == [
        {"apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["airflow-scheduler"], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"]},
    ]
    # Hook objects all: nothing of it exists while the release runs, and Argo CD never applies it.
    assert {o["kind"] for o in hook_objects(rendered)} == {"Job", "ServiceAccount", "Role", "RoleBinding"}
    assert all(sync_phases(o) == {NEVER_APPLIED} for o in hook_objects(rendered))


@pytest.mark.parametrize("scenario", [
    scenarios.DEFAULT,  # off unless asked: a hook pod that cannot run would fail the uninstall
    Scenario.of("gitops-stop-workers", HOOK_ON, files=scenarios.GITOPS.files),
], ids=lambda s: s.name)  # fmt: skip
def test_no_hook_by_default_nor_where_helm_does_not_uninstall(scenario):
    # A renderer applying everything it renders would run the hook at once and stop the scheduler.
    assert hook_objects(render(scenario)) == []
