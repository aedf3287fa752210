"""JWT signing keys (jwt.keys, as values/prod.yaml sets them) rotated in the three steps prod.yaml
documents, with its own commands, while a task runs: nothing fails.

1. add the new key to the Secret, upgrade: every api-server then trusts it, signing is unchanged;
2. sign with the new key, upgrade: tokens signed before stay valid (the old key is still trusted);
3. once no token signed before step 2 is in use, remove the old key, upgrade.

Steps 2 and 3, where the signing key and the trusted keys change, run under a task pod working
through both; it succeeds on its first try, its worker never refused. Step 1 runs first and times an
upgrade, so the task works just long enough. The release's `[execution_api] jwt_expiration_time` is
40 s, so "once no token signed before step 2 is in use" is 50 s here (its lifetime and Airflow's 10 s
leeway). tests/e2e/test_task_tokens.py shows the symmetric secret, the chart's default, failing the
task instead. Its own install, in the lane of the mostly waiting modules (a task pod sleeping while
the api-server and scheduler roll). Skipped where containers do not run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.installs.prod_secrets import PROD_VALUES, documented, run_command, run_documented
from tests.lib.installs.release import NO_DATABASE_VOLUME, Release, installed
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.live_airflow.run_pods import (
    TASK_POD_SELECTOR,
    WORKER_POD_SELECTOR,
    run_label,
    wait_for_pod_phase,
    wait_no_pods,
)
from tests.lib.suite.fault_report import record

RELEASE = "airflow-jwt-keys"
DAG, TASK = "kubernetes-pod-params", "process"
TOKEN_SECONDS = 40
# jwt.keys as values/prod.yaml sets them, its Secret made and rotated by the commands in its header.
KEYS = yaml.safe_load(PROD_VALUES.read_text())["jwt"]["keys"]
OLD_KID, NEW_KID = KEYS["signingKey"], "2027-06"
# The longest a token signed before step 2 stays in use: the execution token's lifetime plus
# Airflow's 10 s leeway ([api_auth] jwt_leeway). Step 3 waits that long: the README's "later", here.
TOKEN_IN_USE_SECONDS = TOKEN_SECONDS + 10
MIN_WORK_SECONDS = 90  # the "a task that runs 90 s", at least

pytestmark = pytest.mark.mostly_waiting


@dataclass
class Keys:
    release: Release
    api: AirflowApi


@pytest.fixture(scope="module")
def keys(running_containers: ClusterTarget) -> Iterator[Keys]:
    """values/dev.yaml with prod.yaml's jwt.keys, the Secret made by prod.yaml's command first."""
    target = running_containers
    apply_dev_objects(target)
    extra = (*NO_DATABASE_VOLUME, "--set-string", f"config.execution_api.jwt_expiration_time={TOKEN_SECONDS}",
             "--set", f"jwt.keys.secretName={KEYS['secretName']}", "--set-string", f"jwt.keys.signingKey={OLD_KID}")  # fmt: skip

    def make_secret(namespace: str) -> None:
        run_documented(target, namespace, {KEYS["secretName"]}, {})

    with installed(target, "e2e-jwt-keys", ("development",), extra, RELEASE, before_install=make_secret) as release, \
            connect(release) as api:  # fmt: skip
        api.wait_for_dags({DAG})
        yield Keys(release, api)


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


def trusted_and_signing(said: str) -> tuple[list[str], str]:
    """(the kids of the JWKS, the signing kid) from a jwt-keyset log line."""
    trusted, _, signing = said.partition("; signing with ")
    return [k.split(" (")[0] for k in trusted.split(": ", 1)[-1].split(", ")], signing


def task_state(api: AirflowApi, run_id: str) -> str:
    state = api.task_instances(DAG, run_id)[TASK].state
    return str(getattr(state, "value", state))


def test_rotating_the_jwt_keys_in_three_steps_under_a_running_task_fails_nothing(keys: Keys) -> None:
    target, release, api = keys.release.target, keys.release, keys.api

    def upgrade(signing: str) -> float:
        began = time.monotonic()
        done = release.upgrade("--set-string", f"jwt.keys.signingKey={signing}")
        assert done.returncode == 0, done.stderr
        return time.monotonic() - began

    def keyset_of_each_pod(trusted: list[str], signing: str) -> dict[str, str]:
        said = keysets(release)
        assert len(said) == 2 and all(trusted_and_signing(s) == (trusted, signing) for s in said.values()), said
        return said

    before = set(keyset_of_each_pod([OLD_KID], OLD_KID))
    # 1. The new key, trusted everywhere before anything signs with it.
    run_command(target, release.namespace, documented("--type merge"), {"NEW_KID": NEW_KID})
    step_seconds = [upgrade(OLD_KID)]
    step_1 = keyset_of_each_pod([OLD_KID, NEW_KID], OLD_KID)
    assert not before & set(step_1), "adding a key to the Secret rolled neither the api-server nor the scheduler"

    # The task holds tokens of the old key and works through steps 2 and 3 (each takes about as long
    # as step 1's upgrade; half again as much as a margin) and the wait between them.
    work = max(MIN_WORK_SECONDS, round(2 * 1.5 * step_seconds[0]) + TOKEN_IN_USE_SECONDS + 30)
    run_id = api.trigger(DAG, {"sleep": work})
    wait_for_pod_phase(target, "development", TASK_POD_SELECTOR, DAG, run_id, "Running")
    began = time.monotonic()
    # 2. Sign with the new key.
    step_seconds.append(upgrade(NEW_KID))
    keyset_of_each_pod([OLD_KID, NEW_KID], NEW_KID)
    assert task_state(api, run_id) == "running"
    # Logged in before step 2, so with a token of the old key: still accepted.
    api.dag_ids()
    time.sleep(TOKEN_IN_USE_SECONDS)  # the running task's execution tokens are re-issued with the new key
    # 3. The old key goes.
    run_command(target, release.namespace, documented("--type json"), {"OLD_KID": OLD_KID})
    step_seconds.append(upgrade(NEW_KID))
    keyset_of_each_pod([NEW_KID], NEW_KID)
    rotated_after = time.monotonic() - began

    # The REST client's login was signed with the old key, gone now: users log in again (the README).
    api.api.configuration.access_token = api.login()
    still = task_state(api, run_id)
    selector = f"{WORKER_POD_SELECTOR},run_id={run_label(run_id)}"
    # Read now: a worker pod whose task succeeds is deleted with its log.
    worker_log = target.kubectl("logs", "-n", release.namespace, "-l", selector, "--tail=-1", check=False).stdout
    refusals = sorted({m for m in ("Invalid auth token", "Too many failed heartbeats") if m in worker_log})
    state = api.wait_for_run(DAG, run_id, timeout=600)
    ti = api.task_instances(DAG, run_id)[TASK]
    task_pods_left = wait_no_pods(target, "development", f"{TASK_POD_SELECTOR},run_id={run_label(run_id)}")
    lost = ([f"task across the rotation {state}"] * (state != "success") + [f"try {ti.try_number}"] * (ti.try_number != 1)
            + refusals + [f"pod left: {p}" for p in task_pods_left])  # fmt: skip
    record("5. JWT keys rotated",
           f"jwt.keys as values/prod.yaml documents it: {NEW_KID} added, upgrade ({step_seconds[0]:.0f} s); then "
           f"while a task pod works {work} s: signing with {NEW_KID}, upgrade ({step_seconds[1]:.0f} s); {OLD_KID} "
           f"removed {TOKEN_IN_USE_SECONDS} s later, upgrade ({step_seconds[2]:.0f} s)",
           f"the task still {still} after step 3 ({rotated_after:.0f} s in); run {state}, try {ti.try_number}, "
           f"worker refused: {', '.join(refusals) or 'never'}", lost)  # fmt: skip
    assert still == "running", (f"the task ended ({still}) before step 3 rolled out, {rotated_after:.0f} s into its "
                                f"{work} s: the rotation was not under a running task; make it work longer")  # fmt: skip
    assert refusals == [], worker_log[-4000:]
    assert state == "success" and ti.try_number == 1, api.task_log(DAG, run_id, TASK, ti.try_number)[-3000:]
    assert task_pods_left == [], task_pods_left
