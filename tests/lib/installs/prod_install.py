"""values/prod.yaml installed the way its comments tell a user to, around what production has outside
the release: a PostgreSQL in its own namespace, a git server holding the DAG repository and an S3
server keeping the task logs.

Namespaces (all fresh): `<ns>` the release (restricted Pod Security), `<ns>-db` the database,
`<ns>-git` the git server, `<ns>-logs` the object store (its bucket created here, as a user creates
theirs before installing). Workers launch the bundle's pods in `development`, as prod.yaml grants
(the RBAC names there carry the release namespace, so other releases granting it do not clash).
The user's values are only those prod.yaml says to change: the repository URL and how to reach it,
the log bucket and the store's endpoint.
tests/e2e/values/prod-on-local-node.yaml adds what the one-node local cluster forces (images, requests).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.prod_secrets import PROD_VALUES, run_documented
from tests.lib.installs.release import (
    Release,
    create_namespaces,
    delete_namespaces,
    fresh_namespace_name,
    remove_leftovers,
)
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.paths import ARTIFACTS, DAGS, REPO
from tests.lib.test_servers.external_db import SERVER as DATABASE_SERVER
from tests.lib.test_servers.external_db import ExternalDatabase
from tests.lib.test_servers.git_server import SERVER as GIT_SERVER
from tests.lib.test_servers.git_server import USERNAME, GitServer
from tests.lib.test_servers.identity_provider import PORT as IDENTITY_PROVIDER_PORT
from tests.lib.test_servers.identity_provider import IdentityProvider
from tests.lib.test_servers.object_store import PORT as STORE_PORT
from tests.lib.test_servers.object_store import ObjectStore

LOCAL_NODE_VALUES = REPO / "tests" / "e2e" / "values" / "prod-on-local-node.yaml"
DATABASE_PORT = DATABASE_SERVER.ports[0].target
LAUNCH_NAMESPACE = "development"  # dags/pod_defaults.py NAMESPACE, granted by values/prod.yaml
SUBPATH = "dags"  # values/prod.yaml dags.gitSync.subPath: the repository is this project's layout
# The Secrets every prod install needs, by the names values/prod.yaml gives them.
COMMON_SECRETS = {"airflow-metadata-db", "airflow-metadata-db-ca", "airflow-fernet-key", "airflow-jwt-keys",
                  "airflow-api-secret-key", "airflow-oidc", "airflow-remote-logs"}  # fmt: skip
IDENTITY_PROVIDER_CA = "airflow-oidc-ca"  # the ConfigMap prod.yaml's comment makes for an issuer on a private CA
HTTPS_OBJECTS = {"airflow-git-credentials", "airflow-git-ca"}
SSH_OBJECTS = {"airflow-git-ssh"}
BUNDLE_REFRESH_S = 20
LOG_BUCKET, LOG_PREFIX = "airflow-logs", "prod"


@dataclass
class ProdInstall:
    release: Release
    git: GitServer
    database: ExternalDatabase
    transport: str  # "https" or "ssh"
    initial_commit: str
    store: ObjectStore
    idp: IdentityProvider


def git_values(git: GitServer, transport: str, source: str) -> tuple[str, ...]:
    if source == "gitBundle":
        # What values/prod.yaml's comment says to set for Airflow's GitDagBundle instead of git-sync
        # (https; refreshInterval shortened so the test waits less for the dag-processor's fetch).
        return ("--set", "dags.gitSync.enabled=false", "--set", "dags.gitBundle.enabled=true",
                "--set", f"dags.gitBundle.repo={git.https_url}", "--set", f"dags.gitBundle.subPath={SUBPATH}",
                "--set", "dags.gitBundle.credentialsSecret=airflow-git-credentials",
                "--set", "dags.gitBundle.caCertConfigMap=airflow-git-ca",
                "--set", f"dags.gitBundle.refreshInterval={BUNDLE_REFRESH_S}")  # fmt: skip
    if transport == "https":
        return ("--set", f"dags.gitSync.repo={git.https_url}", "--set", "dags.gitSync.caCertConfigMap=airflow-git-ca")
    return ("--set", f"dags.gitSync.repo={git.ssh_url}", "--set", "dags.gitSync.credentialsSecret=",
            "--set", "dags.gitSync.sshKeySecret=airflow-git-ssh")  # fmt: skip


def egress_values(target: ClusterTarget, servers: dict[str, tuple[str, int]], idp: IdentityProvider) -> tuple[str, ...]:
    """What values/prod.yaml's egress comments say to fill in: the DNS pods' port (the kube-dns
    Service's targetPort), the Kubernetes API server's address and port as its EndpointSlice gives them
    (a policy sees what is behind a Service), one rule per service outside the release,
    {purpose: (namespace, the pod's port)}, and the identity provider's namespace and port."""
    dns = target.kubectl_json("get", "service", "kube-dns", "-n", "kube-system")["spec"]["ports"]
    dns_ports = sorted({p.get("targetPort", p["port"]) for p in dns})
    (api,) = target.kubectl_json("get", "endpointslice", "-n", "default", "-l",
                                 "kubernetes.io/service-name=kubernetes")["items"]  # fmt: skip
    peers = [{"ipBlock": {"cidr": f"{address}/32"}} for e in api["endpoints"] for address in e["addresses"]]
    rules = [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}],
              "ports": [{"port": port, "protocol": "TCP"}]} for namespace, port in servers.values()]  # fmt: skip
    return ("--set-json", f"networkPolicies.egress.dns.ports={json.dumps(dns_ports)}",
            "--set-json", f"networkPolicies.egress.kubernetesApi.peers={json.dumps(peers)}",
            "--set-json", f"networkPolicies.egress.kubernetesApi.ports={json.dumps([p['port'] for p in api['ports']])}",
            "--set-json", f"networkPolicies.egress.extraRules={json.dumps(rules)}",
            "--set-json", "networkPolicies.egress.identityProvider.peers="
            + json.dumps([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": idp.namespace}}}]),
            "--set-json", f"networkPolicies.egress.identityProvider.ports=[{IDENTITY_PROVIDER_PORT}]")  # fmt: skip


def git_port(transport: str, source: str) -> int:
    """The git server's pod port the release fetches from."""
    name = "https" if source == "gitBundle" or transport == "https" else "ssh"
    return next(p.target for p in GIT_SERVER.ports if p.name == name)


def sign_in_values(idp: IdentityProvider) -> tuple[str, ...]:
    """What values/prod.yaml's comments say to set: the issuer, and its CA's ConfigMap (a private CA)."""
    return ("--set", f"auth.fab.oidc.issuer={idp.issuer}", "--set", f"auth.fab.oidc.caBundle.configMapName={IDENTITY_PROVIDER_CA}")


def log_store_values(store: ObjectStore) -> tuple[str, ...]:
    """What values/prod.yaml's comment says to set for a store other than AWS: the bucket, the
    store's S3 API URL and path-style addressing."""
    return ("--set", f"logs.remote.baseLogFolder=s3://{LOG_BUCKET}/{LOG_PREFIX}",
            "--set", f"logs.remote.s3.endpointUrl={store.endpoint_url}", "--set", "logs.remote.s3.addressingStyle=path")  # fmt: skip


@contextlib.contextmanager
def prod_installed(target: ClusterTarget, prefix: str, transport: str, source: str = "gitSync") -> Iterator[ProdInstall]:
    """`transport` "https" or "ssh"; `source` "gitSync" (prod.yaml as shipped) or "gitBundle" (https only)."""
    remove_leftovers(target, prefix, "airflow")
    namespace = fresh_namespace_name(prefix)
    others = (f"{namespace}-db", f"{namespace}-git", f"{namespace}-logs", f"{namespace}-idp")
    create_namespaces(target, namespace, others)
    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    release = Release(target, namespace, (LAUNCH_NAMESPACE,), name="airflow", values_file=PROD_VALUES)
    try:
        apply_dev_objects(target)
        database = ExternalDatabase(target, f"{namespace}-db")
        database.deploy()
        git = GitServer(target, f"{namespace}-git", workdir / "git")
        git.deploy()
        commit = git.push_directory(DAGS, SUBPATH, "The DAG bundle")
        store = ObjectStore(target, f"{namespace}-logs")
        store.deploy()
        store.create_bucket(LOG_BUCKET)
        idp = IdentityProvider(target, f"{namespace}-idp", workdir / "idp")
        idp.deploy()
        idp.create_realm()
        (workdir / "idp-ca.crt").write_bytes(idp.ca_pem)
        (workdir / "database-ca.crt").write_bytes(database.ca.pem)
        (workdir / "known_hosts").write_text(git.known_hosts + "\n")
        (workdir / "id_ed25519").write_text(git.client_private_key)
        variables = {"DATABASE_URL": database.url, "DATABASE_CA_FILE": str(workdir / "database-ca.crt"),
                     "GIT_USERNAME": USERNAME, "GIT_TOKEN": git.token,
                     "GIT_CA_FILE": str(git.workdir / "ca.crt"), "GIT_SSH_KEY_FILE": str(workdir / "id_ed25519"),
                     "GIT_KNOWN_HOSTS_FILE": str(workdir / "known_hosts"),
                     "S3_ACCESS_KEY_ID": store.access_key_id, "S3_SECRET_ACCESS_KEY": store.secret_access_key,
                     "OIDC_CLIENT_SECRET": idp.client_secret, "OIDC_CA_FILE": str(workdir / "idp-ca.crt")}  # fmt: skip
        run_documented(target, namespace, COMMON_SECRETS | {IDENTITY_PROVIDER_CA} | (HTTPS_OBJECTS if transport == "https" else SSH_OBJECTS),
                       variables)  # fmt: skip
        servers = {"database": (database.namespace, DATABASE_PORT), "git": (git.namespace, git_port(transport, source)),
                   "log store": (store.namespace, STORE_PORT)}  # fmt: skip
        release = dataclasses.replace(release, extra_values=("--values", str(LOCAL_NODE_VALUES),
                                                             *git_values(git, transport, source),
                                                             *log_store_values(store),
                                                             *sign_in_values(idp),
                                                             *egress_values(target, servers, idp)),
                                      api_login=idp.airflow_token)  # fmt: skip
        result = release.install()
        assert result.returncode == 0, f"helm install -f values/prod.yaml failed:\n{result.stderr}"
        yield ProdInstall(release, git, database, transport, commit, store, idp)
    finally:
        release.uninstall()
        delete_namespaces(target, namespace, *others)
        shutil.rmtree(workdir, ignore_errors=True)


def newest_pod(release: Release, component: str) -> dict:
    pods = release.kubectl_json("get", "pods", "-l", f"app.kubernetes.io/component={component}")["items"]
    return max(pods, key=lambda p: p["metadata"]["creationTimestamp"])


def failing_sync(
    release: Release, previous_pod: str, expected: tuple[str, ...], timeout: float = 150
) -> tuple[str, str]:
    """After a change that breaks git access rolled the dag-processor: wait for the new pod's first
    sync (its git-sync-init container, before Airflow starts) to log one of `expected`; return (that
    log, the pod's Ready status)."""
    target = release.target
    deadline = time.monotonic() + timeout
    log = ""
    while time.monotonic() < deadline:
        pod = newest_pod(release, "dag-processor")
        name = pod["metadata"]["name"]
        if name != previous_pod:
            log = target.kubectl("logs", "-n", release.namespace, name, "-c", "git-sync-init", check=False).stdout
            if any(e in log for e in expected):
                time.sleep(15)  # past the readiness probe's period
                pod = release.kubectl_json("get", "pod", name)
                ready = {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}.get("Ready", "False")
                return log, ready
        time.sleep(3)
    raise AssertionError(
        f"no dag-processor git-sync log with any of {expected} within {timeout} s; last:\n{log[-2000:]}"
    )


# git-sync's period (prod: 60 s) plus the dag-processor's refresh interval (the chart: 60 s) plus
# parsing and polling: how long a pushed DAG may take to be listed.
SYNC_TIMEOUT = 60 + 60 + 90


@contextlib.contextmanager
def connected_api(install: ProdInstall) -> Iterator[AirflowApi]:
    """The REST API of the install, once every DAG of the bundle is listed (synced from git)."""
    with connect(install.release) as client:
        client.wait_for_dags(set(dag_bag().dags), timeout=SYNC_TIMEOUT)
        yield client


def timed_wait(condition, timeout: float, what: str) -> float:
    """Poll `condition` every 2 s; return the seconds it took, or fail saying `what` did not happen."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what} not within {timeout} s")
        time.sleep(2)
    return time.monotonic() - began


@contextlib.contextmanager
def recorded_figures(name: str) -> Iterator[dict[str, Any]]:
    """A dict a module fills with what it measured, merged into test-artifacts/<name> at the end."""
    found: dict[str, Any] = {}
    yield found
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    previous = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**previous, **found}, indent=2) + "\n")
