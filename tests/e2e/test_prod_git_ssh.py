"""values/prod.yaml with the DAG repository over ssh: a deploy key and the server's known_hosts line
in the Secret prod.yaml's comments describe, git-sync in the dag-processor, triggerer and every
worker pod. A changed host key and an unreachable server are visible errors, not an empty DAG list;
so is a database certificate the configured CA did not sign (the install stops, in one line).
(DAG changes flowing is tested over https: test_prod_git_https.py; the sync is the same code.)
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.prod_install import ProdInstall, failing_sync, newest_pod
from tests.lib.installs.release import helm
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.paths import CHART
from tests.lib.suite.fault_report import record
from tests.lib.test_servers.private_ca import PrivateCa

# What the `prod` fixture (tests/e2e/conftest.py) installs: git transport, DAG source. Modules asking
# for the same pair share one install.
PROD_INSTALL = ("ssh", "gitSync")
SEED_DAG = "kubernetes-dag"


def restart_dag_processor(prod: ProdInstall) -> str:
    previous = newest_pod(prod.release, "dag-processor")["metadata"]["name"]
    prod.release.target.kubectl("rollout", "restart", "-n", prod.release.namespace, "deployment/airflow-dag-processor")
    return previous


class TestDagsOverSsh:
    def test_every_bundle_dag_comes_from_git_over_ssh(self, prod: ProdInstall, api: AirflowApi):
        assert set(dag_bag().dags) <= set(api.dag_ids())
        pod = newest_pod(prod.release, "dag-processor")
        log = prod.release.target.kubectl("logs", "-n", prod.release.namespace, pod["metadata"]["name"], "-c",
                                          "git-sync").stdout  # fmt: skip
        assert prod.initial_commit in log  # "updated successfully" to the pushed commit
        sidecar = next(c for c in pod["spec"]["containers"] if c["name"] == "git-sync")
        assert {e["name"]: e.get("value") for e in sidecar["env"]}["GITSYNC_REPO"] == prod.git.ssh_url

    def test_a_worker_pod_syncs_over_ssh_and_runs_the_seed_dag(self, api: AirflowApi):
        run_id = api.trigger(SEED_DAG)
        assert api.wait_for_run(SEED_DAG, run_id, timeout=600) == "success"


class TestWrongDatabaseCa:
    def test_a_database_certificate_the_ca_did_not_sign_stops_the_install_in_one_line(self, prod: ProdInstall):
        """A second release in the namespace, from the same Secrets, told to trust another CA: its
        migration Job fails at once saying why, and `helm install` fails with it."""
        release, target = prod.release, prod.release.target
        configmap = "airflow-wrong-db-ca"
        target.kubectl("create", "configmap", configmap, "-n", release.namespace,
                       f"--from-literal=ca.crt={PrivateCa('not the database CA').pem.decode()}")  # fmt: skip
        # Only the Job matters here: no component pods, whose waits would spend the node's CPU meanwhile.
        no_pods = [arg for c in ("scheduler", "apiServer", "dagProcessor", "triggerer") for arg in ("--set", f"{c}.replicas=0")]
        wrong = dataclasses.replace(release, name="airflow-wrong-ca", launch_namespaces=(),
                                    extra_values=(*release.extra_values, *no_pods,
                                                  "--set", f"data.tls.caCertConfigMap={configmap}"))  # fmt: skip
        job = f"{wrong.name}-run-migrations"
        began = time.monotonic()
        try:
            result = wrong.install()
            seconds = time.monotonic() - began
            log = target.kubectl("logs", "-n", release.namespace, f"job/{job}", check=False).stdout
        finally:
            wrong.uninstall(timeout="60s")
            target.kubectl("delete", f"job/{job}", f"configmap/{configmap}", "-n", release.namespace, "--ignore-not-found")
        record("11. database certificate from another CA", "helm install with data.tls.caCertConfigMap naming a CA that did not sign the server's",
               f"helm install failed after {seconds:.0f} s ({result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no error'}); "
               f"the Job's log: {log.strip()[:300]}", [])  # fmt: skip
        assert result.returncode != 0, "helm install succeeded against a database whose certificate it must refuse"
        assert f"job {job} failed" in result.stderr, result.stderr
        lines = log.strip().splitlines()
        assert len(lines) == 1 and "certificate verify failed" in lines[0], log
        assert prod.database.password not in log
        assert seconds < 120, f"the install took {seconds:.0f} s to fail: the Job must not retry a refused certificate"


class TestBrokenAccess:
    """Last in the module, in this order: each leaves the dag-processor unable to sync."""

    def test_a_changed_host_key_is_refused_visibly(self, prod: ProdInstall, api: AirflowApi):
        release, target = prod.release, prod.release.target
        impostor = (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
            .decode()
        )
        known_hosts = base64.b64encode(f"{prod.git.host} {impostor}\n".encode()).decode()
        target.kubectl("patch", "secret", "airflow-git-ssh", "-n", release.namespace, "--type", "merge",
                       "-p", json.dumps({"data": {"known_hosts": known_hosts}}))  # fmt: skip
        log, ready = failing_sync(release, restart_dag_processor(prod), ("Host key verification failed",))
        assert ready == "False", "a dag-processor that cannot sync must not be Ready"
        assert set(dag_bag().dags) <= set(api.dag_ids()), "the DAGs parsed before must stay listed"

    def test_an_unreachable_repository_is_a_visible_error(self, prod: ProdInstall, api: AirflowApi):
        release = prod.release
        previous = newest_pod(release, "dag-processor")["metadata"]["name"]
        # As a user's typo in the URL would: helm accepts it, the sync cannot reach it.
        upgraded = helm(release.target, "upgrade", release.name, str(CHART), "-n", release.namespace,
                        "--reuse-values", "--set", "dags.gitSync.repo=git@git-server.no-such-namespace.svc:dags.git")  # fmt: skip
        assert upgraded.returncode == 0, upgraded.stderr
        log, ready = failing_sync(release, previous, ("Could not resolve hostname",))
        assert ready == "False"
        assert set(dag_bag().dags) <= set(api.dag_ids())
