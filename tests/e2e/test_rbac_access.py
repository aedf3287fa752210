"""What each ServiceAccount of an installed release may do, asked of the real API server's authorizer.

The intended permissions are the committed table tests/scan/expected-rbac.yaml (scenario `dev`),
which the scan gate compares with the rendered Roles. Here the cluster itself answers: for every
ServiceAccount the release created, a SelfSubjectAccessReview made with that account's own token
(TokenRequest) for every verb on every resource the table names, plus Secrets and ConfigMaps, in
the release namespace, the launch namespace, kube-system and `default`, and cluster-wide. Each
answer must be "allowed" exactly where the table grants the verb: a missing grant fails as surely
as an extra one.

The table's names are those of the `dev` render: release `airflow` in namespace `airflow`, with
`development` the other launch namespace. The module asks the shared dev install (tests/e2e/conftest.py
`dev_airflow`: release `airflow-e2e` in a fresh namespace, launching into `development`) and maps the
table's namespaces and ServiceAccount names onto it. Another release's Roles in `development` (a
`make deploy-dev` one) bind only that release's accounts, so they change no answer here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from tests.lib.cluster import token_reach
from tests.lib.installs.release import Release
from tests.lib.live_airflow.rest_api import connect
from tests.lib.live_airflow.run_pods import WORKER_POD_SELECTOR, wait_for_pod_phase
from tests.lib.render.helm_template import NAMESPACE as TABLE_RELEASE_NAMESPACE
from tests.lib.render.helm_template import RELEASE as TABLE_RELEASE

TABLE = Path(__file__).parents[1] / "scan" / "expected-rbac.yaml"
SCENARIO = "dev"
TABLE_LAUNCH_NAMESPACE = "development"
# Beyond the table's own resources: what no account may touch (secrets hold the release's keys).
ALSO_PROBED_RESOURCES = ("secrets", "configmaps", "apps/deployments")
ALSO_PROBED_VERBS = ("update", "deletecollection")
UNGRANTED_NAMESPACES = ("kube-system", "default")
LEGACY_DOTLESS_GROUPS = {"apps", "batch", "policy", "autoscaling"}


def intended_table() -> dict[str, dict[str, dict[str, list[str]]]]:
    """{ServiceAccount name: {table namespace: {resource: verbs}}} of the dev scenario."""
    accounts = yaml.safe_load(TABLE.read_text())["scenarios"][SCENARIO]
    return {subject.split("/", 1)[1]: grants or {} for subject, grants in accounts.items()}


@pytest.fixture(scope="module")
def release(dev_airflow: Release) -> Release:
    return dev_airflow


def account_of(release: Release, table_account: str) -> str:
    """The release's name for a table ServiceAccount: `airflow-worker` -> `<release>-worker`."""
    return release.name + table_account.removeprefix(TABLE_RELEASE)


@pytest.fixture(scope="module")
def namespace_map(release: Release) -> dict[str, str]:
    """Table namespace -> namespace of this install."""
    return {TABLE_RELEASE_NAMESPACE: release.namespace, TABLE_LAUNCH_NAMESPACE: release.launch_namespaces[0]}


def named_for(release: Release, key: str) -> str:
    """A table key naming objects of the release (`configmaps[airflow-pod-template]`) with this
    install's names (`configmaps[<release>-pod-template]`)."""
    return key.replace(f"[{TABLE_RELEASE}-", f"[{release.name}-")


def split_resource(key: str) -> tuple[str, str, str, str]:
    """The table's resource key as API attributes: "apps/deployments" -> ("apps", "deployments", "", ""),
    "pods/log" -> ("", "pods", "log", ""), "configmaps[a]" -> ("", "configmaps", "", "a"). A first
    segment is an API group when it has a dot or is one of the legacy dotless groups; otherwise the key
    is a core resource with an optional subresource. A key names one object at most."""
    key, _, name = key.partition("[")
    name = name.removesuffix("]")
    first, _, rest = key.partition("/")
    if rest and ("." in first or first in LEGACY_DOTLESS_GROUPS):
        group, key = first, rest
    else:
        group = ""
    resource, _, subresource = key.partition("/")
    return group, resource, subresource, name


def probes(table: dict[str, Any]) -> tuple[list[str], list[str]]:
    resources = {res for grants in table.values() for perms in grants.values() for res in perms}
    verbs = {v for grants in table.values() for perms in grants.values() for vs in perms.values() for v in vs}
    return sorted(resources | set(ALSO_PROBED_RESOURCES)), sorted(verbs | set(ALSO_PROBED_VERBS))


def allowed(api: client.AuthorizationV1Api, namespace: str, verb: str, key: str) -> bool:
    group, resource, subresource, name = split_resource(key)
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                namespace=namespace, verb=verb, group=group, resource=resource, subresource=subresource,
                name=name or None,
            )
        )
    )
    return bool(api.create_self_subject_access_review(review).status.allowed)


def authorization_api_as(release: Release, account: str, tmp: Path) -> client.AuthorizationV1Api:
    kubeconfig = release.target.with_token(release.service_account_token(account), tmp).kubeconfig
    return client.AuthorizationV1Api(config.new_client_from_config(config_file=str(kubeconfig)))


def test_the_release_created_exactly_the_tables_service_accounts(release: Release) -> None:
    accounts = {sa["metadata"]["name"] for sa in release.kubectl_json("get", "serviceaccounts")["items"]}
    assert accounts - {"default"} == {account_of(release, a) for a in intended_table()}


def test_resource_keys_split_into_api_attributes() -> None:
    assert split_resource("pods") == ("", "pods", "", "")
    assert split_resource("pods/log") == ("", "pods", "log", "")
    assert split_resource("apps/deployments") == ("apps", "deployments", "", "")
    assert split_resource("configmaps[airflow-pod-template]") == ("", "configmaps", "", "airflow-pod-template")


@pytest.mark.parametrize("account", sorted(intended_table()))
def test_each_account_may_do_exactly_what_the_table_grants(
    release: Release, namespace_map: dict[str, str], account: str, tmp_path: Path
) -> None:
    table = intended_table()
    grants = {namespace_map[ns]: {named_for(release, key): verbs for key, verbs in perms.items()}
              for ns, perms in table[account].items()}  # fmt: skip
    resources, verbs = probes(table)
    resources = [named_for(release, key) for key in resources]
    api = authorization_api_as(release, account_of(release, account), tmp_path)

    wrong = []
    for namespace in (*namespace_map.values(), *UNGRANTED_NAMESPACES, ""):  # "" = cluster-wide
        for key in resources:
            for verb in verbs:
                intended = verb in grants.get(namespace, {}).get(key, [])
                if allowed(api, namespace, verb, key) != intended:
                    where = namespace or "all namespaces"
                    wrong.append(
                        f"{verb} {key} in {where}: {'denied' if intended else 'allowed'}, intended the opposite"
                    )
    assert not wrong, f"{account}:\n" + "\n".join(wrong)


def test_worker_launches_pods_where_tasks_run_and_reaches_no_pod_or_secret_of_the_release_namespace(
    release: Release, namespace_map: dict[str, str], tmp_path: Path
) -> None:
    # The table-driven check above, spelled out for the worker: it runs DAG code, so it may launch
    # and exec into task pods in the launch namespace and touch nothing of the control plane.
    api = authorization_api_as(release, account_of(release, "airflow-worker"), tmp_path)
    (launch,) = release.launch_namespaces
    assert allowed(api, launch, "create", "pods") and allowed(api, launch, "create", "pods/exec")
    for verb, key in (("create", "pods"), ("create", "pods/exec"), ("get", "pods/log"), ("delete", "pods"),
                      ("list", "pods"), ("get", "secrets"), ("list", "secrets")):  # fmt: skip
        assert not allowed(api, release.namespace, verb, key), f"{verb} {key} in the release namespace"
    for namespace in namespace_map.values():
        assert not allowed(api, namespace, "get", "secrets"), namespace
    assert not allowed(api, "kube-system", "create", "pods")
    assert not allowed(api, "", "list", "secrets")


def test_accounts_outside_the_table_have_no_pod_rights(
    release: Release, namespace_map: dict[str, str], tmp_path: Path
) -> None:
    # Each namespace's `default` ServiceAccount (made by the cluster, not the chart) gets nothing
    # from the release: a pod that names no account must not inherit launch rights.
    resources, verbs = probes(intended_table())
    pod_keys = [k for k in resources if split_resource(k)[1] == "pods"]
    for home in namespace_map.values():
        token = release.target.kubectl("create", "token", "default", "-n", home, "--duration=10m").stdout.strip()
        api = client.AuthorizationV1Api(
            config.new_client_from_config(config_file=str(release.target.with_token(token, tmp_path).kubeconfig))
        )
        granted = [
            (ns, verb, key)
            for ns in namespace_map.values()
            for key in pod_keys
            for verb in verbs
            if allowed(api, ns, verb, key)
        ]
        assert not granted, f"{home}/default may {granted}"


def test_dag_code_in_a_running_worker_pod_reaches_no_pod_or_secret_of_the_control_plane(release: Release) -> None:
    """Tried for real, not asked of the authorizer: from inside a worker pod running a task, with the
    worker's own token (what any DAG's code there holds), exec into the scheduler, read its log,
    delete it and read the fernet key's Secret are refused; listing pods where tasks run is not.
    (The XCom DAG, whose sidecar is read through exec where tasks run, succeeds on this same install:
    test_airflow_runs.)"""
    target = release.target
    with connect(release) as api:
        run_id = api.trigger("kubernetes-pod-params", {"sleep": 40})
        worker = wait_for_pod_phase(target, release.namespace, WORKER_POD_SELECTOR, "kubernetes-pod-params", run_id,
                                    "Running")  # fmt: skip
        scheduler = release.component_pod("scheduler")["metadata"]["name"]
        args = (release.namespace, scheduler, f"{release.name}-fernet-key", release.launch_namespaces[0])
        tried = target.kubectl("exec", "-i", "-n", release.namespace, worker["metadata"]["name"], "-c", "base", "--",
                               "python", "-", *args, stdin=Path(token_reach.__file__).read_text(), check=False)  # fmt: skip
        assert tried.returncode == 0, tried.stderr
        answers = json.loads(tried.stdout)
        state = api.wait_for_run("kubernetes-pod-params", run_id, timeout=300)
    allowed_where_tasks_run = answers.pop("list pods where tasks run")
    assert answers == dict.fromkeys(answers, token_reach.REFUSED), answers
    assert allowed_where_tasks_run == 200, "the worker's token should list pods where tasks run: is it the right one?"
    assert state == "success"
