"""values/prod.yaml for real, DAGs over https: an external PostgreSQL in its own namespace that accepts
TLS only (its certificate from a private CA, checked with verify-full), every Secret and ConfigMap
made by the commands prod.yaml documents, git-sync (built from its source) pulling the DAG
bundle from a git server in the cluster with a token and a private CA, and DAG changes flowing.

Measured into test-artifacts/gitsync.json: seconds from `git push` to the new DAG listed by the REST
API, and to a run that ran the new code.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.prod_install import (
    COMMON_SECRETS,
    HTTPS_OBJECTS,
    SYNC_TIMEOUT,
    ProdInstall,
    failing_sync,
    newest_pod,
    timed_wait,
)
from tests.lib.live_airflow.rest_api import AirflowApi
from tests.lib.suite.fault_report import record

# What the `prod` fixture (tests/e2e/conftest.py) installs: git transport, DAG source. Modules asking
# for the same pair share one install.
PROD_INSTALL = ("https", "gitSync")
FIGURES_FILE = "gitsync.json"  # where the `figures` fixture writes what this module measures
SEED_DAG = "kubernetes-dag"
PUSHED_DAG = "git-pushed"
PUSHED_FILE = "dags/git_pushed.py"


def pushed_dag(marker: str) -> str:
    """A DAG file whose one task prints and returns `marker` and the bundle revision it runs from."""
    return f'''"""Pushed by tests/e2e/test_prod_git_https.py: proves a commit reaches the scheduler and the workers."""

import os

from airflow.sdk import dag, task


@dag(dag_id="{PUSHED_DAG}", schedule=None, catchup=False, tags=["e2e"])
def git_pushed():
    @task
    def report() -> dict:
        # git-sync links dags/repo to the worktree of the commit it synced: .worktrees/<hash>
        revision = os.path.basename(os.path.realpath(os.path.join(os.path.dirname(__file__), "..")))
        print(f"pushed DAG code {marker} from revision {{revision}}")
        return {{"marker": "{marker}", "revision": revision}}

    report()


git_pushed()
'''


class TestProdInstall:
    def test_the_chart_generated_no_secret(self, prod: ProdInstall):
        secrets = prod.release.kubectl_json("get", "secrets")["items"]
        by_chart = [s["metadata"]["name"] for s in secrets
                    if s["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by") == "Helm"]  # fmt: skip
        assert by_chart == []
        users = {s["metadata"]["name"] for s in secrets if not s["metadata"]["name"].startswith("sh.helm.release.")}
        assert users == (COMMON_SECRETS | HTTPS_OBJECTS) - {"airflow-git-ca", "airflow-metadata-db-ca"}  # ConfigMaps

    def test_metadata_lives_in_the_external_database(self, prod: ProdInstall, api: AirflowApi):
        pods = prod.release.kubectl_json("get", "pods", "-l", "app.kubernetes.io/component=postgresql")["items"]
        assert pods == [], "prod must not run the embedded PostgreSQL"
        assert prod.database.query("select count(*) from dag where dag_id = 'kubernetes-dag'") == ["1"]

    def test_every_bundle_dag_comes_from_git(self, prod: ProdInstall, api: AirflowApi):
        assert set(dag_bag().dags) <= set(api.dag_ids())
        assert api.import_errors() == []
        processor = prod.release.kubectl_json("get", "pods", "-l", "app.kubernetes.io/component=dag-processor")
        (pod,) = processor["items"]
        sidecar = next(s for s in pod["status"]["containerStatuses"] if s["name"] == "git-sync")
        assert sidecar["ready"] is True
        log = prod.release.target.kubectl("logs", "-n", prod.release.namespace, pod["metadata"]["name"], "-c",
                                          "git-sync").stdout  # fmt: skip
        assert prod.initial_commit in log

    def test_the_seed_dag_runs_from_the_synced_bundle_and_its_end_streams_over_the_async_session(self, api: AirflowApi):
        run_id = api.trigger(SEED_DAG)
        assert api.wait_for_run(SEED_DAG, run_id, timeout=600) == "success"
        # The one endpoint on Airflow's async engine (asyncpg), whose URL Airflow derives from the
        # Secret's: a TLS parameter in that URL would fail it (asyncpg refuses `sslmode`).
        assert api.streamed_run_states(SEED_DAG, run_id)[-1]["state"] == "success"


class TestDatabaseOverTls:
    """The external database accepts TLS only (hostssl), with a certificate from a private CA that
    values/prod.yaml's commands put in a ConfigMap; data.tls.mode verify-full checks it and the host."""

    def test_the_server_refuses_a_connection_without_tls(self, prod: ProdInstall):
        code, out = prod.database.connect_over_tcp("disable")
        record("10. database reached without TLS", "psql over TCP with sslmode=disable to the TLS-only database",
               "refused: " + next((line for line in out.splitlines() if "pg_hba" in line), f"exit {code}: {out[-300:]}"), [])  # fmt: skip
        assert code != 0 and "no pg_hba.conf entry" in out and "no encryption" in out, out
        assert prod.database.connect_over_tcp("require") == (0, "t")  # the same client over TLS gets in

    def test_every_airflow_connection_is_encrypted(self, prod: ProdInstall, api: AirflowApi):
        rows = prod.database.query("SELECT a.application_name, s.ssl, s.version FROM pg_stat_activity a "
                                   "JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL")  # fmt: skip
        assert len(rows) >= 3, f"fewer TCP connections than Airflow's long-running components: {rows}"
        assert [r for r in rows if "|t|TLS" not in r] == [], rows

    @pytest.mark.parametrize("component", ["scheduler", "api-server", "dag-processor", "triggerer"])
    def test_each_component_checks_the_server_certificate_and_its_name(self, prod: ProdInstall, component: str):
        pod = newest_pod(prod.release, component)
        (server,) = [c for c in pod["spec"]["containers"] if c["name"] == component]
        env = {e["name"]: e.get("value") for e in server["env"]}
        assert env["PGSSLMODE"] == "verify-full"
        ca = prod.release.target.kubectl("exec", "-n", prod.release.namespace, pod["metadata"]["name"], "-c", component,
                                         "--", "cat", env["PGSSLROOTCERT"]).stdout  # fmt: skip
        assert ca.encode() == prod.database.ca.pem


class TestDagChangesFlow:
    def test_a_pushed_dag_is_listed_and_runs_its_code(self, prod: ProdInstall, api: AirflowApi,
                                                      figures: dict[str, Any]):  # fmt: skip
        prod.git.write(PUSHED_FILE, pushed_dag("v1"))
        commit = prod.git.commit_and_push("Add the git-pushed DAG")
        pushed = time.monotonic()
        figures["push_to_new_dag_listed_s"] = round(
            timed_wait(lambda: PUSHED_DAG in api.dag_ids(), SYNC_TIMEOUT, f"{PUSHED_DAG} listed after the push"), 1
        )
        run_id = api.trigger(PUSHED_DAG)
        assert api.wait_for_run(PUSHED_DAG, run_id, timeout=300) == "success"
        figures["push_to_run_on_new_dag_s"] = round(time.monotonic() - pushed, 1)
        assert api.xcom(PUSHED_DAG, run_id, "report") == {"marker": "v1", "revision": commit}

    def test_a_changed_task_runs_the_new_code_from_the_new_revision(self, prod: ProdInstall, api: AirflowApi,
                                                                    figures: dict[str, Any]):  # fmt: skip
        prod.git.write(PUSHED_FILE, pushed_dag("v2"))
        commit = prod.git.commit_and_push("Change the git-pushed task")
        pushed = time.monotonic()
        # Started at once, before the dag-processor has synced: the worker pod's own git-sync clones
        # the revision current at its launch. (Only the task's body changed, so the DAG's structure
        # and version stay; Airflow 3.3 then keeps the stored code the UI shows, see the chart README.)
        run_id = api.trigger(PUSHED_DAG)
        assert api.wait_for_run(PUSHED_DAG, run_id, timeout=300) == "success"
        figures["push_to_run_on_changed_code_s"] = round(time.monotonic() - pushed, 1)
        # The worker pod's git-sync init container cloned the revision current at its launch.
        assert api.xcom(PUSHED_DAG, run_id, "report") == {"marker": "v2", "revision": commit}
        expected = f"pushed DAG code v2 from revision {commit}"
        assert expected in api.finished_task_log(PUSHED_DAG, run_id, "report", expected)


def set_token(prod: ProdInstall, encoded: str) -> None:
    patch = json.dumps({"data": {"password": encoded}})
    prod.release.target.kubectl("patch", "secret", "airflow-git-credentials", "-n", prod.release.namespace,
                                "--type", "merge", "-p", patch)  # fmt: skip


class TestBadCredentials:
    """Last in the module: it breaks the token, then puts it back."""

    def test_a_wrong_token_is_a_visible_error_not_an_empty_dag_list(self, prod: ProdInstall, api: AirflowApi):
        release, target = prod.release, prod.release.target
        token = release.kubectl_json("get", "secret", "airflow-git-credentials")["data"]["password"]
        set_token(prod, base64.b64encode(b"not-the-token").decode())
        previous = newest_pod(release, "dag-processor")["metadata"]["name"]
        try:
            target.kubectl("rollout", "restart", "-n", release.namespace, "deployment/airflow-dag-processor")
            log, ready = failing_sync(release, previous, ("Authentication failed", "401"))
            assert ready == "False", "a dag-processor that cannot sync must not be Ready"
            assert "Authentication failed" in log or "The requested URL returned error: 401" in log
            # Airflow did not start on an empty folder, so no DAG went stale: all stay listed.
            assert newest_pod(release, "dag-processor")["status"]["phase"] == "Pending", "Airflow must wait for a sync"
            assert set(dag_bag().dags) <= set(api.dag_ids())
        finally:
            set_token(prod, token)
            target.kubectl("rollout", "restart", "-n", release.namespace, "deployment/airflow-dag-processor")
        target.kubectl("rollout", "status", "-n", release.namespace, "deployment/airflow-dag-processor",
                       "--timeout=180s")  # fmt: skip
