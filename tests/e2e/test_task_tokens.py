"""Task tokens: a task whose pod waits longer than the token lifetime still runs, and a JWT secret
rotation, seen from a task that runs across it.

The release (tests/e2e/values/task-tokens.yaml) sets `[execution_api] jwt_expiration_time` to 40 s. Airflow 3.3 hands each queued task a
*workload* token valid for `[scheduler] task_queued_timeout` (600 s), exchanged for short-lived
execution tokens when the task starts, which the api-server re-issues as they near expiry; so
a worker pod held Pending past 40 s, and a task working past 40 s, must both succeed. The worker pod
is held by a scheduling gate its release's pod_mutation_hook adds (a Pending pod as the scheduler
sees one with no room on the node), which the test removes: nothing else on the node is disturbed. Rotating the
JWT secret (a new Secret named in `jwtSecretName`) rolls the api-server and scheduler together and
fails the task running at that moment, as the chart README says; a run started afterwards runs.
(Asymmetric keys, jwt.keys, rotate without that: test_jwt_key_rotation.py.)
Skipped where containers do not run.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.lib.cluster.pod_events import PodWatch
from tests.lib.cluster.pod_logs import FollowedLog
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.release import NO_DATABASE_VOLUME, Release, installed
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.live_airflow.run_pods import (
    TASK_POD_SELECTOR,
    WORKER_POD_SELECTOR,
    run_label,
    wait_for_pod_phase,
    wait_no_pods,
)
from tests.lib.paths import REPO
from tests.lib.suite.fault_report import record

RELEASE = "airflow-tokens"
DAG, TASK = "kubernetes-pod-params", "process"
# [execution_api] jwt_expiration_time. The api-server re-issues a token once at most 30 s of it are
# left (Airflow 3.3: the larger of 30 s and a fifth of its lifetime), so above 30 s a token is used a
# while before it is re-issued, as with longer lifetimes; the tests wait past it, not past a minute.
TOKEN_SECONDS = 40
PENDING_SECONDS = TOKEN_SECONDS + 10  # the worker pod held Pending past the token lifetime
WORK_SECONDS = TOKEN_SECONDS + 20  # then the task works past another (several heartbeats after it)
VALUES = REPO / "tests" / "e2e" / "values" / "task-tokens.yaml"
HELD_RUN_PREFIX = "held-"  # task-tokens.yaml's pod_mutation_hook gates the worker pods of such runs
GATE = "e2e.airflow-on-k8s.dev/held"

# Runs alone: in the second lane (a fresh-clone run) the rotating upgrade rolled out so late under the
# other lane's load that the 90 s task finished before the new secret took effect.
pytestmark = pytest.mark.node_exclusive


@dataclass
class Tokens:
    release: Release
    api: AirflowApi


@pytest.fixture(scope="module")
def tokens(running_containers: ClusterTarget) -> Iterator[Tokens]:
    target = running_containers
    apply_dev_objects(target)
    extra = (*NO_DATABASE_VOLUME, "--values", str(VALUES))
    with installed(target, "e2e-tokens", ("development",), extra, RELEASE) as release, connect(release) as api:
        api.wait_for_dags({DAG})
        yield Tokens(release, api)


def test_a_worker_pod_held_pending_past_the_token_lifetime_still_runs_its_task(tokens: Tokens) -> None:
    target, namespace = tokens.release.target, tokens.release.namespace
    with PodWatch(target, namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}") as workers:
        run_id = tokens.api.trigger(DAG, {"sleep": WORK_SECONDS}, run_id=f"{HELD_RUN_PREFIX}{secrets.token_hex(6)}")
        pending = wait_for_pod_phase(target, namespace, WORKER_POD_SELECTOR, DAG, run_id, "Pending")
        name = pending["metadata"]["name"]
        assert pending["spec"].get("schedulingGates") == [{"name": GATE}], pending["spec"].get("schedulingGates")
        time.sleep(PENDING_SECONDS)  # past the token lifetime, still not scheduled
        still = target.kubectl_json("get", "pod", "-n", namespace, name)
        assert still["status"]["phase"] == "Pending" and not still["spec"].get("nodeName"), still["status"]
        target.kubectl("patch", "pod", "-n", namespace, name, "--type=json",
                       "-p", '[{"op": "remove", "path": "/spec/schedulingGates"}]')  # fmt: skip
        state = tokens.api.wait_for_run(DAG, run_id, timeout=600)
    ti = tokens.api.task_instances(DAG, run_id)[TASK]
    log = tokens.api.task_log(DAG, run_id, TASK, ti.try_number)
    started = {e["object"]["metadata"]["name"] for e in workers.of("run_id", run_label(run_id)) if e["type"] == "ADDED"}
    record("5. token outliving its expiry", f"jwt_expiration_time {TOKEN_SECONDS} s; worker pod held Pending "
           f"{PENDING_SECONDS} s (a scheduling gate), then the task works {WORK_SECONDS} s",
           f"run {state}, try {ti.try_number}, {len(started)} worker pod(s)",
           [] if state == "success" else [f"run {state}"])  # fmt: skip
    # It waited past one token lifetime before starting, then worked past another: both tokens held.
    assert state == "success" and ti.try_number == 1, log[-3000:]
    assert len(started) == 1, started


def test_rotating_the_jwt_secret_under_a_running_task_fails_that_task_and_says_why_in_the_worker_log(
    tokens: Tokens,
) -> None:
    """Airflow 3.3 checks every token against the one `[api_auth] jwt_secret` it has: a task that was
    handed its token before the api-server rolled onto a new secret is refused ("Invalid auth
    token") at its next heartbeats and fails. The chart README says how to rotate without this."""
    target, release = tokens.release.target, tokens.release
    rotated = f"{RELEASE}-jwt-rotated"
    target.kubectl("create", "secret", "generic", rotated, "-n", release.namespace,
                   f"--from-literal=jwt-secret={secrets.token_urlsafe(48)}")  # fmt: skip
    run_id = tokens.api.trigger(DAG, {"sleep": 90})
    worker = wait_for_pod_phase(target, release.namespace, WORKER_POD_SELECTOR, DAG, run_id, "Running")
    # Followed, not read afterwards: the failed worker pod is normally kept (delete_worker_pods_on_failure:
    # False), but one the restarted scheduler fails as a zombie first is deleted with its log.
    with FollowedLog(target, release.namespace, worker["metadata"]["name"], "base") as followed:
        wait_for_pod_phase(target, "development", TASK_POD_SELECTOR, DAG, run_id, "Running")
        upgraded = release.upgrade("--set", f"jwtSecretName={rotated}")  # the install's values, task-tokens.yaml among them
        assert upgraded.returncode == 0, upgraded.stderr
        state = tokens.api.wait_for_run(DAG, run_id, timeout=600)
    worker_log = followed.text
    refusals = sorted({m for m in ("Invalid auth token", "Too many failed heartbeats") if m in worker_log})
    task_pods_left = wait_no_pods(target, "development", f"{TASK_POD_SELECTOR},run_id={run_label(run_id)}")
    # A run started after the rotation is signed with the new secret and runs.
    after = tokens.api.trigger(DAG, {})
    after_state = tokens.api.wait_for_run(DAG, after, timeout=600)
    record("5. JWT secret rotated", "a new Secret named in jwtSecretName (helm upgrade) while a task pod worked 90 s",
           f"the running task's run {state}, its worker log: {', '.join(refusals) or 'no refusal'}; "
           f"a run started after the rotation: {after_state}",
           [f"task across the rotation {state}"] * (state != "success") + [f"pod left: {p}" for p in task_pods_left])  # fmt: skip
    assert after_state == "success"
    assert state == "failed", f"the task running across the rotation ended {state}: update the chart README"
    assert "Invalid auth token" in worker_log, worker_log[-4000:]
    assert task_pods_left == [], task_pods_left
