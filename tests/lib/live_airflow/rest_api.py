"""Airflow's REST API (/api/v2) as users' automation drives it: the official `apache-airflow-client`.

`connect(release)` reaches the release's api-server through its Service (from this host when the
Service address routes here, as on the local real node; else through `kubectl port-forward
service/...`, as on kind), logs in with the chart's generated admin credentials the way the client's
own README does (POST /auth/token) and returns an `AirflowApi` with the few calls the tests need.

Its waits also watch the pods they depend on (cluster/unstartable_pods.py): a run whose worker or task pod cannot
be scheduled or started fails within a minute saying why, rather than after the wait's timeout.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import airflow_client.client as client
import urllib3
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.import_error_api import ImportErrorApi
from airflow_client.client.api.monitor_api import MonitorApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.variable_api import VariableApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.exceptions import (
    ConflictException,
    ForbiddenException,
    ServiceException,
    UnauthorizedException,
)
from airflow_client.client.models.dag_patch_body import DAGPatchBody
from airflow_client.client.models.trigger_dag_run_post_body import TriggerDAGRunPostBody
from airflow_client.client.models.variable_body import VariableBody

from tests.lib import tools
from tests.lib.cluster.local_node import is_local_node
from tests.lib.cluster.reachability import host_connects, wait_while_refused
from tests.lib.cluster.unstartable_pods import StuckPodCheck
from tests.lib.installs.release import Release

ADMIN = "admin"  # values.yaml auth.simple.users: admin:admin
FINISHED = {"success", "failed"}
# A Kubernetes label value; a DAG id that is one is its pods' dag_id label unchanged.
LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def admin_password(release: Release) -> str:
    """The generated admin password, read from the Secret the chart README says to read it from."""
    passwords = release.kubectl_json("get", "secret", release.ui_passwords_secret)["data"]["passwords.json"]
    return json.loads(base64.b64decode(passwords))[ADMIN]


def access_token(base_url: str, username: str, password: str) -> str:
    """POST /auth/token, as apache-airflow-client's README does to get the bearer token."""
    request = urllib.request.Request(f"{base_url}/auth/token", method="POST",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    # Just after a rollout the Service may still point at no ready pod for a moment (kube-proxy
    # refuses the connection until its rules catch up): retry a refused connection for 20 s.
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)["access_token"]
        except urllib.error.URLError as error:
            if not isinstance(error.reason, ConnectionRefusedError) or time.monotonic() > deadline:
                raise
            time.sleep(1)


def exchanged_token(base_url: str, access_token: str) -> tuple[int, dict[str, Any]]:
    """POST /auth/token with an identity provider's access token (auth.fab.oidc), as the README's
    curl does: (status, body), the Airflow token in body["access_token"] on 201."""
    request = urllib.request.Request(f"{base_url}/auth/token", method="POST", data=json.dumps({"access_token": access_token}).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@contextlib.contextmanager
def service_url(release: Release) -> Iterator[str]:
    """http://host:port of the release's api-server Service, reachable from this process."""
    name = f"{release.name}-api-server"
    service = release.kubectl_json("get", "service", name)["spec"]
    port = service["ports"][0]["port"]
    # Just rolled out, the api-server's endpoint may reach kube-proxy's rules a moment after the pod
    # is Ready, and until then kube-proxy refuses the connection: retry a refused Service address
    # before falling back to a port-forward, which pins one pod (and breaks when it is replaced).
    # Only the local real node's kube-proxy serves Service addresses to this host: elsewhere (kind, a
    # user's cluster) the address is not this cluster's from here, and may even reach something else
    # on the host's network (seen: a proxy answering 404), so those go straight to the forward.
    error = wait_while_refused(service["clusterIP"], port) if is_local_node(release.target) else OSError("not routed")
    if error is None:
        yield f"http://{service['clusterIP']}:{port}"
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
    cmd = [str(tools.kubectl()), "--kubeconfig", str(release.target.kubeconfig), "-n", release.namespace,
           "port-forward", f"service/{name}", f"{local}:{port}"]  # fmt: skip
    forward = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not host_connects("127.0.0.1", local):
            if forward.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kubectl port-forward service/{name} failed: {forward.stderr.read()[-500:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{local}"
    finally:
        forward.terminate()
        forward.wait(timeout=30)


# A Service whose pods just rolled (a helm upgrade returned) can be refused for a moment while
# kube-proxy's rules catch up with its endpoints. The client retries a refused connection (nothing
# was sent, so a POST is safe too) for about 20 s with backoff, as a user's automation would; never
# a read or a 5xx, which wait_for_run reports as outages. A longer refusal raises MaxRetryError.
REFUSED_RETRIES = urllib3.Retry(total=8, connect=8, read=0, status=0, other=0, redirect=0,
                                backoff_factor=0.5, backoff_max=4, raise_on_redirect=False)


@dataclass
class AirflowApi:
    base_url: str
    api: client.ApiClient
    login: Callable[[], str] | None = None  # a fresh bearer token (after a JWT secret rotation)
    # Polls wait_for_run rode out, as (seconds since it began, why): an api-server restarting or
    # its database away answer with a refused connection or a 5xx, which a user's poller retries.
    outages: list[tuple[float, str]] = field(default_factory=list)
    # The release served: its pods are the ones the waits watch for being stuck (cluster/unstartable_pods.py).
    release: Release | None = None

    def dag_ids(self) -> list[str]:
        return sorted(d.dag_id for d in DAGApi(self.api).get_dags(limit=100).dags)

    def wait_for_dags(self, expected: set[str], timeout: float = 300) -> None:
        """The DAG processor lists new files within its refresh interval; wait until all are listed.

        Fails early when one of the release's own pods cannot be scheduled or started."""
        check = None
        if self.release is not None:
            check = StuckPodCheck(self.release.target, (self.release.namespace,),
                                  f"app.kubernetes.io/instance={self.release.name}", f"waiting for DAGs {sorted(expected)}")  # fmt: skip
        deadline = time.monotonic() + timeout
        while not expected <= set(self.dag_ids()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"DAGs {sorted(expected - set(self.dag_ids()))} not listed after {timeout} s")
            if check is not None:
                check.poll()
            time.sleep(3)

    def run_pods_check(self, dag_id: str, run_id: str) -> StuckPodCheck | None:
        """The stuck-pod check of a run's pods: its worker and task pods (labelled with its DAG, and its
        run once one is stuck) in the namespaces the release launches pods in. None when the API was
        not reached through a release."""
        if self.release is None:
            return None
        selector = f"dag_id={dag_id}" if LABEL_VALUE.fullmatch(dag_id) else "dag_id"
        return StuckPodCheck(self.release.target, self.release.pod_namespaces, selector,
                             f"waiting for run {run_id} of {dag_id}", run_id=run_id)  # fmt: skip

    def import_errors(self) -> list[Any]:
        return ImportErrorApi(self.api).get_import_errors().import_errors

    def health(self) -> Any:
        return MonitorApi(self.api).get_health()

    def unpause(self, dag_id: str) -> None:
        DAGApi(self.api).patch_dag(dag_id, DAGPatchBody(is_paused=False), update_mask=["is_paused"])

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, run_id: str | None = None) -> str:
        """Unpause the DAG and start a run now (with run id `run_id`, else Airflow's); return its run id."""
        self.unpause(dag_id)
        body = TriggerDAGRunPostBody(logical_date=None, conf=conf or {}, dag_run_id=run_id)
        return DagRunApi(self.api).trigger_dag_run(dag_id, body).dag_run_id

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600, expect_stuck_pods: bool = False) -> str:
        """Poll the run until it has finished; return its state ('success' or 'failed').

        Raises unstartable_pods.PodStuck within about a minute when a pod of the DAG made since the run
        was queued cannot be scheduled or started, unless `expect_stuck_pods` (the run's pod is broken
        on purpose: a missing image or Secret, and the run is expected to fail)."""
        check = None if expect_stuck_pods else self.run_pods_check(dag_id, run_id)
        began = time.monotonic()
        state = "unknown"
        while state not in FINISHED:
            try:
                run = DagRunApi(self.api).get_dag_run(dag_id, run_id)
                state = str(run.state.value)
                if check is not None and run.queued_at is not None and check.not_before is None:
                    check.not_before = run.queued_at  # older pods of the DAG are another run's
            except ServiceException as err:
                self.outages.append((time.monotonic() - began, f"HTTP {err.status}"))
            except urllib3.exceptions.HTTPError as err:
                self.outages.append((time.monotonic() - began, type(getattr(err, "reason", err)).__name__))
            except (UnauthorizedException, ForbiddenException) as err:
                # A token signed with a rotated-out JWT secret: 403 "Invalid JWT token" in Airflow 3.3.
                if self.login is None or (err.status == 403 and "Invalid JWT token" not in str(err.body)):
                    raise
                self.outages.append((time.monotonic() - began, f"HTTP {err.status}, logged in again"))
                with contextlib.suppress(OSError):  # the api-server may still be rolling: next poll
                    self.api.configuration.access_token = self.login()
            if state not in FINISHED:
                if time.monotonic() - began > timeout:
                    raise TimeoutError(f"run {run_id} of {dag_id} still {state} after {timeout} s")
                if check is not None and check.not_before is not None:  # known which pods are this run's
                    check.poll()
                time.sleep(2)
        return state

    def streamed_run_states(self, dag_id: str, run_id: str, timeout: float = 600) -> list[dict[str, Any]]:
        """What `GET /api/v2/dags/{dag_id}/dagRuns/{run_id}/wait` streams (NDJSON, one object per state
        check) until the run has finished: the REST endpoint that reads through Airflow's async database
        session (asyncpg; core_api/services/public/dag_run.py DagRunWaiter), not the sync one."""
        response = DagRunApi(self.api).wait_dag_run_until_finished_without_preload_content(
            dag_id, run_id, interval=1, _request_timeout=timeout
        )
        body = response.data.decode()
        assert response.status == 200, f"HTTP {response.status}: {body[-2000:]}"
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """Task instances by 'task_id' (or 'task_id[map_index]' for mapped ones)."""
        instances: list[Any] = []
        while True:  # the API pages its answers (100 at most); a 200-way map needs several pages
            page = TaskInstanceApi(self.api).get_task_instances(dag_id, run_id, limit=100, offset=len(instances))
            instances.extend(page.task_instances)
            if not page.task_instances or len(instances) >= (page.total_entries or float("inf")):
                break
        return {(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti for ti in instances}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1, map_index: int = -1) -> str:
        """The task's log as the UI shows it: each line's event, and a failure's exception type and value.

        Read raw: the client's generated log model keeps only `event` and `timestamp` of a line and
        drops `error_detail`, where Airflow 3 puts the exception that failed the task.
        """
        response = TaskInstanceApi(self.api).get_log_without_preload_content(
            dag_id, run_id, task_id, try_number, full_content=True, map_index=map_index, accept="application/json")
        lines = []
        for line in json.loads(response.data)["content"]:
            if isinstance(line, str):
                lines.append(line)
                continue
            lines.append(str(line.get("event", "")))
            for error in line.get("error_detail") or []:
                lines.append(f"{error.get('exc_type')}: {error.get('exc_value')}")
        return "\n".join(lines)

    def finished_task_log(self, dag_id: str, run_id: str, task_id: str, expect: str, try_number: int = 1,
                          timeout: float = 60) -> str:  # fmt: skip
        """A finished task's log once it holds `expect`, re-read every 2 s (the last read after `timeout`).

        With remote logging the worker pod uploads the log just after the task's state is set, so a
        read in those seconds finds it in neither the store nor a pod: the UI shows it on a refresh.
        """
        deadline = time.monotonic() + timeout
        while True:
            log = self.task_log(dag_id, run_id, task_id, try_number)
            if expect in log or time.monotonic() > deadline:
                return log
            time.sleep(2)

    def dag_bundle_version(self, dag_id: str) -> str | None:
        """The bundle version the DAG was last parsed from: the one new runs get (None if unversioned)."""
        return DAGApi(self.api).get_dag(dag_id).bundle_version

    def run_bundle_version(self, dag_id: str, run_id: str) -> str | None:
        return DagRunApi(self.api).get_dag_run(dag_id, run_id).bundle_version

    def set_variable(self, key: str, value: str) -> None:
        """Create the Variable, or change its value when it exists."""
        body = VariableBody(key=key, value=value)
        try:
            VariableApi(self.api).post_variable(body)
        except ConflictException:
            VariableApi(self.api).patch_variable(key, body)

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        entry = XComApi(self.api).get_xcom_entry(dag_id, task_id, run_id, key, deserialize=True)
        return getattr(entry, "actual_instance", entry).value  # one of the native or string forms


@contextlib.contextmanager
def connect(release: Release, login: Callable[[str], str] | None = None) -> Iterator[AirflowApi]:
    """The REST API of `release`, logged in as the chart's generated admin, or with `login(url)`'s
    bearer token (the release's api_login where people sign in through an identity provider)."""
    login = login or release.api_login
    with service_url(release) as url:
        def fresh_token() -> str:
            return login(url) if login is not None else access_token(url, ADMIN, admin_password(release))

        configuration = client.Configuration(host=url, access_token=fresh_token(), retries=REFUSED_RETRIES)
        with client.ApiClient(configuration) as api:
            yield AirflowApi(url, api, fresh_token, release=release)
