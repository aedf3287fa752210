"""Task tokens: a task whose pod waits longer than the token lifetime still runs, and JWT signing
rotations, seen from a task that runs across them.

The release sets `[execution_api] jwt_expiration_time` to 40 s. Airflow 3.3 hands each queued task a
*workload* token valid for `[scheduler] task_queued_timeout` (600 s), exchanged for short-lived
execution tokens when the task starts, which the api-server re-issues as they near expiry; so
a worker pod held Pending past 40 s, and a task working past 40 s, must both succeed. Rotating the
symmetric JWT secret (a new Secret named in `jwtSecretName`, the chart's default) rolls the api-server
and scheduler together and fails the task running at that moment, as the chart README says; a run
started afterwards runs. Rotating asymmetric keys (`jwt.keys`) in the three steps values/prod.yaml
documents, with its own commands, fails nothing: the task running across all three succeeds on its
first try. The tests share one install, switched from the secret to keys by the last one.
Skipped where containers do not run.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from lib.airflow_api import AirflowApi, connect
from lib.chart_objects import quantity
from lib.cluster import ClusterTarget
from lib.dev_objects import apply_dev_objects
from lib.fault_report import record
from lib.node import TASK_IMAGE
from lib.pod_watch import PodWatch
from lib.pods import pod_manifest
from lib.prod_secrets import PROD_VALUES, documented, run_command, run_documented
from lib.release import NO_DATABASE_VOLUME, Release, installed
from lib.task_pods import TASK_POD_SELECTOR, WORKER_POD_SELECTOR, run_label, wait_for_pod_phase, wait_no_pods

RELEASE = "airflow-tokens"
DAG, TASK = "kubernetes-pod-params", "process"
# [execution_api] jwt_expiration_time. The api-server re-issues a token once at most 30 s of it are
# left (Airflow 3.3: the larger of 30 s and a fifth of its lifetime), so above 30 s a token is used a
# while before it is re-issued, as with longer lifetimes; the tests wait past it, not past a minute.
TOKEN_SECONDS = 40
PENDING_SECONDS = TOKEN_SECONDS + 10  # the worker pod held Pending past the token lifetime
WORK_SECONDS = TOKEN_SECONDS + 20  # then the task works past another (several heartbeats after it)
# jwt.keys as values/prod.yaml sets them, its Secret made and rotated by the commands in its header.
KEYS = yaml.safe_load(PROD_VALUES.read_text())["jwt"]["keys"]
OLD_KID, NEW_KID = KEYS["signingKey"], "2027-06"
# The longest a token signed before step 2 stays in use here: the execution token's lifetime plus
# Airflow's 10 s leeway ([api_auth] jwt_leeway). Step 3 waits that long: the README's "later", here.
TOKEN_IN_USE_SECONDS = TOKEN_SECONDS + 10
ROTATION_MIN_WORK_SECONDS = 90


# The pending-worker test fills the node's spare CPU with a blocker pod: nothing else may run beside it
# (tests/lib/lanes.py runs it once every other e2e test has finished).
pytestmark = pytest.mark.node_exclusive

@dataclass
class Tokens:
    release: Release
    api: AirflowApi


@pytest.fixture(scope="module")
def tokens(running_containers: ClusterTarget) -> Iterator[Tokens]:
    target = running_containers
    apply_dev_objects(target)
    extra = (*NO_DATABASE_VOLUME, "--set-string", f"config.execution_api.jwt_expiration_time={TOKEN_SECONDS}")
    with installed(target, "e2e-tokens", ("development",), extra, RELEASE) as release, connect(release) as api:
        api.wait_for_dags({DAG})
        yield Tokens(release, api)


def free_cpu(target: ClusterTarget) -> float:
    """CPU the scheduler can still place on the nodes: allocatable minus what running pods request."""
    nodes = target.kubectl_json("get", "nodes")["items"]
    total = sum(quantity(n["status"]["allocatable"]["cpu"]) for n in nodes)
    pods = target.kubectl_json("get", "pods", "-A", "--field-selector", "status.phase!=Succeeded,status.phase!=Failed")["items"]
    used = sum(quantity(c.get("resources", {}).get("requests", {}).get("cpu", 0)) for p in pods for c in p["spec"]["containers"])
    return total - used


def test_a_worker_pod_held_pending_past_the_token_lifetime_still_runs_its_task(tokens: Tokens) -> None:
    target, namespace = tokens.release.target, tokens.release.namespace
    # Take all the CPU the node has left, so the next worker pod cannot be scheduled.
    spare = free_cpu(target)
    blocker = pod_manifest("cpu-blocker", TASK_IMAGE, command=["sleep", "infinity"], restart="Always")
    blocker["spec"]["containers"][0]["resources"] = {"requests": {"cpu": f"{int(spare * 1000) - 10}m", "memory": "16Mi"},
                                                     "limits": {"cpu": f"{int(spare * 1000) - 10}m", "memory": "16Mi"}}  # fmt: skip
    target.kubectl("create", "-n", namespace, "-f", "-", stdin=json.dumps(blocker))
    try:
        target.kubectl("wait", "-n", namespace, "pod/cpu-blocker", "--for=condition=Ready", "--timeout=60s")
        with PodWatch(target, namespace, f"{WORKER_POD_SELECTOR},dag_id={DAG}") as workers:
            run_id = tokens.api.trigger(DAG, {"sleep": WORK_SECONDS})
            pending = wait_for_pod_phase(target, namespace, WORKER_POD_SELECTOR, DAG, run_id, "Pending")
            time.sleep(PENDING_SECONDS)  # past the token lifetime, still waiting for CPU
            still = target.kubectl_json("get", "pod", "-n", namespace, pending["metadata"]["name"])
            assert still["status"]["phase"] == "Pending", still["status"]
            target.kubectl("delete", "pod", "-n", namespace, "cpu-blocker", "--grace-period=0", "--wait=false")
            state = tokens.api.wait_for_run(DAG, run_id, timeout=600)
    finally:
        target.kubectl("delete", "pod", "-n", namespace, "cpu-blocker", "--ignore-not-found", "--wait=false", check=False)
    ti = tokens.api.task_instances(DAG, run_id)[TASK]
    log = tokens.api.task_log(DAG, run_id, TASK, ti.try_number)
    started = {e["object"]["metadata"]["name"] for e in workers.of("run_id", run_label(run_id)) if e["type"] == "ADDED"}
    record("5. token outliving its expiry", f"jwt_expiration_time {TOKEN_SECONDS} s; worker pod held Pending "
           f"{PENDING_SECONDS} s (no CPU left), then the task works {WORK_SECONDS} s",
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
    wait_for_pod_phase(target, "development", TASK_POD_SELECTOR, DAG, run_id, "Running")
    upgraded = release.upgrade("--set-string", f"config.execution_api.jwt_expiration_time={TOKEN_SECONDS}",
                               "--set", f"jwtSecretName={rotated}")  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stderr
    state = tokens.api.wait_for_run(DAG, run_id, timeout=600)
    # The worker pod failed, so it is kept (delete_worker_pods_on_failure: False): its log says why.
    selector = f"{WORKER_POD_SELECTOR},run_id={run_label(run_id)}"
    worker_log = target.kubectl("logs", "-n", release.namespace, "-l", selector, "--tail=-1", check=False).stdout
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


def keysets(release: Release) -> dict[str, str]:
    """What the jwt-keyset init container of each live api-server and scheduler pod said it built:
    pod name -> "JWKS of Secret ...: <kid> (<alg>), ...; signing with <kid>"."""
    said = {}
    for component in ("api-server", "scheduler"):
        for pod in release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]:
            if not pod["metadata"].get("deletionTimestamp"):
                name = pod["metadata"]["name"]
                log = release.target.kubectl("logs", "-n", release.namespace, name, "-c", "jwt-keyset", check=False)
                said[name] = log.stdout.strip() or log.stderr.strip()
    return said


def task_state(api: AirflowApi, run_id: str) -> str:
    state = api.task_instances(DAG, run_id)[TASK].state
    return str(getattr(state, "value", state))


def trusted_and_signing(said: str) -> tuple[list[str], str]:
    """(the kids of the JWKS, the signing kid) from a jwt-keyset log line."""
    keys, _, signing = said.partition("; signing with ")
    return [k.split(" (")[0] for k in keys.split(": ", 1)[-1].split(", ")], signing


def test_rotating_the_jwt_keys_in_three_steps_under_a_running_task_fails_nothing(tokens: Tokens) -> None:
    """jwt.keys, rotated as values/prod.yaml documents, with its commands: 1. add the new key (every
    api-server then trusts it), upgrade; 2. sign with it, upgrade; 3. once no token signed before step 2
    is in use any more, remove the old key, upgrade. A task works through all three and succeeds on its
    first try, its worker never refused; the REST client's login survives steps 1 and 2."""
    target, release = tokens.release.target, tokens.release
    timing = ("--set-string", f"config.execution_api.jwt_expiration_time={TOKEN_SECONDS}")

    def upgrade(signing: str) -> float:
        began = time.monotonic()
        done = release.upgrade(*timing, "--set", f"jwt.keys.secretName={KEYS['secretName']}",
                               "--set-string", f"jwt.keys.signingKey={signing}")  # fmt: skip
        assert done.returncode == 0, done.stderr
        return time.monotonic() - began

    def keyset_of_each_pod(trusted: list[str], signing: str) -> dict[str, str]:
        said = keysets(release)
        assert len(said) == 2 and all(trusted_and_signing(s) == (trusted, signing) for s in said.values()), said
        return said

    # The Secret as values/prod.yaml's header makes it; then the switch from the symmetric secret,
    # which, like any change of a shared secret, voids every token: done with no task running.
    run_documented(target, release.namespace, {KEYS["secretName"]}, {})
    switch_seconds = upgrade(OLD_KID)
    keyset_of_each_pod([OLD_KID], OLD_KID)
    tokens.api.api.configuration.access_token = tokens.api.login()  # the login of the symmetric secret is void
    # The task works through three upgrades and the wait before step 3. Each upgrade rolls the
    # api-server and scheduler only, the switch every component: it takes at most as long.
    work = max(ROTATION_MIN_WORK_SECONDS, round(3 * switch_seconds) + TOKEN_IN_USE_SECONDS + 30)
    run_id = tokens.api.trigger(DAG, {"sleep": work})
    wait_for_pod_phase(target, "development", TASK_POD_SELECTOR, DAG, run_id, "Running")
    began = time.monotonic()

    api_servers = set(keysets(release))
    run_command(target, release.namespace, documented("--type merge"), {"NEW_KID": NEW_KID})
    step_seconds = [upgrade(OLD_KID)]
    step_1 = keyset_of_each_pod([OLD_KID, NEW_KID], OLD_KID)
    assert not api_servers & set(step_1), "adding a key to the Secret rolled neither the api-server nor the scheduler"
    step_seconds.append(upgrade(NEW_KID))
    keyset_of_each_pod([OLD_KID, NEW_KID], NEW_KID)
    # Logged in before step 1, so with a token of the old key: still accepted.
    assert task_state(tokens.api, run_id) == "running"
    time.sleep(TOKEN_IN_USE_SECONDS)  # the running task's execution tokens are re-issued with the new key
    run_command(target, release.namespace, documented("--type json"), {"OLD_KID": OLD_KID})
    step_seconds.append(upgrade(NEW_KID))
    keyset_of_each_pod([NEW_KID], NEW_KID)
    rotated_after = time.monotonic() - began

    # The REST client's login was signed with the old key, gone now: users log in again (the README).
    tokens.api.api.configuration.access_token = tokens.api.login()
    still = task_state(tokens.api, run_id)
    selector = f"{WORKER_POD_SELECTOR},run_id={run_label(run_id)}"
    # Read now: a worker pod whose task succeeds is deleted with its log.
    worker_log = target.kubectl("logs", "-n", release.namespace, "-l", selector, "--tail=-1", check=False).stdout
    refusals = sorted({m for m in ("Invalid auth token", "Too many failed heartbeats") if m in worker_log})
    state = tokens.api.wait_for_run(DAG, run_id, timeout=600)
    ti = tokens.api.task_instances(DAG, run_id)[TASK]
    task_pods_left = wait_no_pods(target, "development", f"{TASK_POD_SELECTOR},run_id={run_label(run_id)}")
    record("5. JWT keys rotated",
           f"jwt.keys as values/prod.yaml documents it, while a task pod worked {work} s: {NEW_KID} added, upgrade; "
           f"signing with {NEW_KID}, upgrade; {OLD_KID} removed {TOKEN_IN_USE_SECONDS} s later, upgrade "
           f"({', '.join(f'{s:.0f}' for s in step_seconds)} s)",
           f"the task still {still} after step 3 ({rotated_after:.0f} s in); run {state}, try {ti.try_number}, "
           f"worker refused: {', '.join(refusals) or 'never'}",
           [f"task across the rotation {state}"] * (state != "success") + [f"try {ti.try_number}"] * (ti.try_number != 1)
           + refusals + [f"pod left: {p}" for p in task_pods_left])  # fmt: skip
    assert still == "running", (f"the task ended ({still}) before step 3 rolled out, {rotated_after:.0f} s into its "
                                f"{work} s: the rotation was not under a running task; make it work longer")  # fmt: skip
    assert refusals == [], worker_log[-4000:]
    assert state == "success" and ti.try_number == 1, tokens.api.task_log(DAG, run_id, TASK, ti.try_number)[-3000:]
    assert task_pods_left == [], task_pods_left
