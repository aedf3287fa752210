"""values/prod.yaml's NetworkPolicies, enforced by the node's policy engine (kube-router's firewall;
test_network_policy_engine.py shows it enforces): Airflow still works under them, and each allowed
and denied flow is a row, tried by a pod connecting as that source would.

Sources: a pod carrying the worker's labels in the release namespace (what a worker pod is to the
policies), a pod in `ingress-nginx` (the namespace prod.yaml lets reach the api-server, standing for
the ingress controller) and a pod in an unrelated namespace. The external database's namespace gets
the policy the chart README recommends (only the release's server pods may connect), and the log
store's namespace its own (only the pods that write or read logs: api-server, triggerer, workers),
tried from the real Airflow pods. The pods holding the release's credentials are limited on the way
out too (networkPolicies.egress): from each, the database and the Kubernetes API connect, a listening
port outside the list does not.
Rows go to test-artifacts/network-policies.json.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.lib.cluster.local_node import NO_POLICY_ENGINE, network_policy_engine
from tests.lib.cluster.reachability import Prober, host_connects, pod_connects
from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.prod_install import ProdInstall, newest_pod
from tests.lib.installs.release import delete_namespaces
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.live_airflow.run_pods import TASK_POD_SELECTOR, wait_for_pod_phase
from tests.lib.paths import ARTIFACTS
from tests.lib.test_servers.git_server import NAME as GIT_NAME
from tests.lib.test_servers.object_store import NAME as STORE_NAME
from tests.lib.test_servers.object_store import PORT as STORE_PORT

INGRESS_NAMESPACE = "ingress-nginx"
# The pods values/prod.yaml's egress policy limits (networkPolicies.egress), each by its container name.
CREDENTIAL_HOLDERS = ["scheduler", "api-server", "dag-processor", "triggerer"]  # values/prod.yaml networkPolicies.apiServerIngressFrom
PATTERN_DAGS = sorted(dag_bag().dags)
WORKER_LABELS = "app.kubernetes.io/name=airflow,app.kubernetes.io/instance=airflow,app.kubernetes.io/component=worker"
# The chart README's policy for an external database's namespace: the release's server pods only.
DATABASE_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: airflow-metadata-db
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
  ingress:
    - ports: [{{port: 5432, protocol: TCP}}]
      from:
        - namespaceSelector:
            matchLabels: {{kubernetes.io/metadata.name: {release_namespace}}}
          podSelector:
            matchExpressions:
              - {{key: app.kubernetes.io/instance, operator: In, values: [airflow]}}
              - {{key: app.kubernetes.io/component, operator: In,
                  values: [scheduler, api-server, dag-processor, triggerer, run-migrations]}}
"""
# The chart README's policy for a log store in the cluster: the pods that write or read logs only.
STORE_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: airflow-remote-logs
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
  ingress:
    - ports: [{{port: {port}, protocol: TCP}}]
      from:
        - namespaceSelector:
            matchLabels: {{kubernetes.io/metadata.name: {release_namespace}}}
          podSelector:
            matchExpressions:
              - {{key: app.kubernetes.io/instance, operator: In, values: [airflow]}}
              - {{key: app.kubernetes.io/component, operator: In, values: [api-server, triggerer, worker]}}
"""


@dataclass
class Flows:
    install: ProdInstall
    worker: Prober
    ingress: Prober
    stranger: Prober
    rows: list[dict[str, Any]]

    def pod_ip(self, component: str) -> str:
        return newest_pod(self.install.release, component)["status"]["podIP"]

    def check(self, source: str, destination: str, host: str, port: int, allowed: bool) -> None:
        prober = {"worker": self.worker, "ingress": self.ingress, "unrelated namespace": self.stranger}[source]
        self._judge(source, destination, host, port, allowed, lambda: prober.connects(host, port))

    def check_from_component(self, component: str, destination: str, host: str, port: int, allowed: bool) -> None:
        """As check(), from the newest real pod of an Airflow component."""
        release = self.install.release
        pod = newest_pod(release, component)["metadata"]["name"]
        self._judge(component, destination, host, port, allowed,
                    lambda: pod_connects(release.target, release.namespace, pod, component, host, port))  # fmt: skip

    def _judge(self, source: str, destination: str, host: str, port: int, allowed: bool,
               connects: Callable[[], bool]) -> None:  # fmt: skip
        """Try the flow, add its row, and fail when the policy's verdict is not the expected one."""
        if not allowed:  # a refusal must be the policy's doing, not a port nobody listens on (the node is admitted)
            assert host_connects(host, port, timeout=4), f"{destination}:{port} does not answer even from the node"
        observed = connects()
        self.rows.append({"from": source, "to": f"{destination}:{port}", "expected": "allowed" if allowed else "refused",
                          "observed": "allowed" if observed else "refused"})  # fmt: skip
        assert observed == allowed, f"{source} -> {destination}:{port}: expected {'allowed' if allowed else 'refused'}"


pytestmark = pytest.mark.skipif(network_policy_engine() is None, reason=NO_POLICY_ENGINE)


# The install the https modules share (tests/e2e/conftest.py): run last among them, as the database
# policy below then stays until that install is removed.
PROD_INSTALL = ("https", "gitSync")


@pytest.fixture(scope="module")
def prod(prod: ProdInstall) -> Iterator[ProdInstall]:
    """The shared prod install, with the ingress namespace and the database's policy added."""
    target = prod.release.target
    created_ingress = target.kubectl("get", "namespace", INGRESS_NAMESPACE, check=False).returncode != 0
    if created_ingress:
        target.create_namespace(INGRESS_NAMESPACE)
    try:
        policy = DATABASE_POLICY.format(release_namespace=prod.release.namespace)
        target.kubectl("apply", "-n", prod.database.namespace, "-f", "-", stdin=policy)
        policy = STORE_POLICY.format(release_namespace=prod.release.namespace, port=STORE_PORT)
        target.kubectl("apply", "-n", prod.store.namespace, "-f", "-", stdin=policy)
        yield prod
    finally:
        if created_ingress:
            delete_namespaces(target, INGRESS_NAMESPACE)


@pytest.fixture(scope="module")
def flows(prod: ProdInstall) -> Iterator[Flows]:
    target = prod.release.target
    stranger_ns = f"e2e-prod-netpol-stranger-{uuid.uuid4().hex[:6]}"
    target.create_namespace(stranger_ns)
    probers = [Prober(target, prod.release.namespace, labels=WORKER_LABELS).start(),
               Prober(target, INGRESS_NAMESPACE).start(), Prober(target, stranger_ns).start()]  # fmt: skip
    found = Flows(prod, *probers, rows=[])
    try:
        yield found
    finally:
        for prober in probers:
            prober.stop()
        delete_namespaces(target, stranger_ns)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "network-policies.json").write_text(json.dumps(found.rows, indent=2) + "\n")


def git_ip(prod: ProdInstall) -> str:
    return prod.release.target.kubectl_json("get", "service", GIT_NAME, "-n", prod.git.namespace)["spec"]["clusterIP"]


def kubernetes_api_ip(prod: ProdInstall) -> str:
    """The `kubernetes` Service's address, which every in-cluster client dials."""
    return prod.release.target.kubectl_json("get", "service", "kubernetes", "-n", "default")["spec"]["clusterIP"]


def store_ip(prod: ProdInstall) -> str:
    """The log store Service's address."""
    return prod.release.target.kubectl_json("get", "service", STORE_NAME, "-n", prod.store.namespace)["spec"]["clusterIP"]


def database_ip(prod: ProdInstall) -> str:
    """The external database Service's address (the node reaches it too, through kube-proxy)."""
    return prod.release.target.kubectl_json("get", "service", "postgres", "-n", prod.database.namespace)["spec"]["clusterIP"]


class TestAirflowWorksUnderThePolicies:
    def test_the_seed_dag_and_every_pattern_dag_finish_as_they_should(self, api: AirflowApi):
        # All at once: the node runs what its CPU allows and queues the rest.
        runs = {dag_id: api.trigger(dag_id) for dag_id in PATTERN_DAGS}
        states = {dag_id: api.wait_for_run(dag_id, run_id, timeout=900) for dag_id, run_id in runs.items()}
        assert states == dict.fromkeys(PATTERN_DAGS, "success")

    def test_the_api_server_reads_a_running_tasks_log(self, prod: ProdInstall, api: AirflowApi):
        dag_id = "kubernetes-pod-params"
        run_id = api.trigger(dag_id, {"sleep": 60})
        wait_for_pod_phase(prod.release.target, "development", TASK_POD_SELECTOR, dag_id, run_id, "Running")
        (task_id,) = [t for t in api.task_instances(dag_id, run_id)]
        log = ""
        for _ in range(20):
            log = api.task_log(dag_id, run_id, task_id)
            if "TEST received" in log:
                break
            time.sleep(3)
        assert "TEST received" in log, f"the running task's log, read through the api-server:\n{log[-1500:]}"
        assert api.wait_for_run(dag_id, run_id, timeout=300) == "success"


    def test_the_api_server_reads_a_deferred_tasks_trigger_log_while_it_is_deferred(self, api: AirflowApi):
        """The trigger's lines come from the triggerer's log server (by the pod IP the chart names it
        with, on the one port its policy opens to the api-server) while the task is still deferred."""
        dag_id, task_id = "kubernetes-pod-deferrable", "long_running_pod"
        run_id = api.trigger(dag_id)
        deadline, log, state = time.monotonic() + 300, "", ""
        while time.monotonic() < deadline:
            ti = api.task_instances(dag_id, run_id)[task_id]
            state = str(ti.state.value) if ti.state else ""
            if state == "deferred":
                log = api.task_log(dag_id, run_id, task_id, ti.try_number)
                still = api.task_instances(dag_id, run_id)[task_id].state
                if "Checking pod" in log and still is not None and str(still.value) == "deferred":
                    break
            assert state not in ("success", "failed", "up_for_retry"), \
                f"the task was {state} before its trigger's log was read while deferred; last read:\n{log[-2000:]}"
            time.sleep(2)
        assert "Checking pod" in log, f"no trigger line while deferred (state {state}):\n{log[-2000:]}"
        assert api.wait_for_run(dag_id, run_id, timeout=300) == "success"


class TestFlows:
    def test_a_worker_reaches_the_execution_api(self, flows: Flows):
        flows.check("worker", "api-server", flows.pod_ip("api-server"), 8080, allowed=True)

    def test_the_ingress_namespace_reaches_the_api_server(self, flows: Flows):
        flows.check("ingress", "api-server", flows.pod_ip("api-server"), 8080, allowed=True)

    def test_an_unrelated_namespace_is_refused_by_the_api_server(self, flows: Flows):
        flows.check("unrelated namespace", "api-server", flows.pod_ip("api-server"), 8080, allowed=False)

    @pytest.mark.parametrize("component,port", [("scheduler", 8974), ("triggerer", 8794), ("dag-processor", 8000)],
                             ids=["scheduler-health", "triggerer-log-server", "dag-processor-git-sync"])  # fmt: skip
    def test_an_unrelated_namespace_is_refused_by_the_other_components(self, flows: Flows, component: str, port: int):
        flows.check("unrelated namespace", component, flows.pod_ip(component), port, allowed=False)

    def test_the_ingress_namespace_reaches_nothing_but_the_api_server(self, flows: Flows):
        flows.check("ingress", "scheduler", flows.pod_ip("scheduler"), 8974, allowed=False)

    def test_an_unrelated_namespace_is_refused_by_the_database(self, prod: ProdInstall, flows: Flows):
        flows.check("unrelated namespace", "external PostgreSQL", database_ip(prod), 5432, allowed=False)

    def test_a_worker_is_refused_by_the_database(self, prod: ProdInstall, flows: Flows):
        # Airflow 3 workers talk to the execution API only, never to the database.
        flows.check("worker", "external PostgreSQL", database_ip(prod), 5432, allowed=False)

    @pytest.mark.parametrize("component", ["api-server", "triggerer"])
    def test_the_components_that_read_or_write_logs_reach_the_log_store(self, prod: ProdInstall, flows: Flows,
                                                                        component: str):  # fmt: skip
        flows.check_from_component(component, "S3 log store", store_ip(prod), STORE_PORT, allowed=True)

    def test_a_worker_reaches_the_log_store(self, prod: ProdInstall, flows: Flows):
        # Its supervisor uploads the task's log when the task ends.
        flows.check("worker", "S3 log store", store_ip(prod), STORE_PORT, allowed=True)

    @pytest.mark.parametrize("component", ["scheduler", "dag-processor"])
    def test_components_that_touch_no_log_are_refused_by_the_log_store(self, prod: ProdInstall, flows: Flows,
                                                                       component: str):  # fmt: skip
        flows.check_from_component(component, "S3 log store", store_ip(prod), STORE_PORT, allowed=False)

    def test_an_unrelated_namespace_is_refused_by_the_log_store(self, prod: ProdInstall, flows: Flows):
        flows.check("unrelated namespace", "S3 log store", store_ip(prod), STORE_PORT, allowed=False)

    @pytest.mark.parametrize("component", CREDENTIAL_HOLDERS)
    def test_the_credential_holders_reach_the_database_and_the_kubernetes_api(self, prod: ProdInstall, flows: Flows,
                                                                              component: str):  # fmt: skip
        # values/prod.yaml's egress policy, with the addresses prod.yaml says to fill in (prod_install.py).
        flows.check_from_component(component, "external PostgreSQL", database_ip(prod), 5432, allowed=True)
        flows.check_from_component(component, "Kubernetes API", kubernetes_api_ip(prod), 443, allowed=True)

    @pytest.mark.parametrize("component", CREDENTIAL_HOLDERS)
    def test_the_credential_holders_reach_nothing_outside_their_egress_list(self, prod: ProdInstall, flows: Flows,
                                                                            component: str):  # fmt: skip
        # The git server's ssh port listens (the node reaches it), but this https install lists only
        # git's https port: what the pods holding the release's keys could send elsewhere stays home.
        flows.check_from_component(component, "git server's ssh port", git_ip(prod), 22, allowed=False)

