"""values/prod.yaml with Airflow's own GitDagBundle instead of git-sync (dags.gitBundle), over https
with a token and a private CA: the dag-processor clones and follows the branch, each worker pod
clones the commit its DAG run started with. A run started before a push finishes on the old code,
one started after runs the new code.

Measured into test-artifacts/gitbundle.json: seconds from `git push` to the dag-processor having
parsed the new commit (the version new runs get).
"""

from __future__ import annotations

import time
from typing import Any

from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.prod_install import BUNDLE_REFRESH_S, ProdInstall, timed_wait
from tests.lib.live_airflow.rest_api import AirflowApi

# What the `prod` fixture (tests/e2e/conftest.py) installs: git transport, DAG source. Modules asking
# for the same pair share one install.
PROD_INSTALL = ("https", "gitBundle")
FIGURES_FILE = "gitbundle.json"  # where the `figures` fixture writes what this module measures
SEED_DAG = "kubernetes-dag"
VERSIONED_DAG = "versioned-bundle"
VERSIONED_FILE = "dags/versioned_bundle.py"
GATE = "versioned_bundle_gate"
# The dag-processor's fetch interval plus re-parsing every file of the bundle and polling.
PARSE_TIMEOUT = BUNDLE_REFRESH_S + 120


def versioned_dag(marker: str) -> str:
    """A DAG whose `second` task waits behind a gate the test opens, then reports `marker` and its file."""
    return f'''"""Pushed by tests/e2e/test_prod_git_bundle.py: a run keeps the bundle version it started with."""

import os

from airflow.sdk import Variable, dag, task

MARKER = "{marker}"


@dag(dag_id="{VERSIONED_DAG}", schedule=None, catchup=False, tags=["e2e"])
def versioned_bundle():
    @task
    def first() -> str:
        return MARKER

    @task.sensor(poke_interval=3, timeout=900, mode="poke")
    def gate() -> bool:
        # Opened by the test once a push has happened and a run on the new commit exists.
        return Variable.get("{GATE}", default="closed") == "open"

    @task
    def second() -> dict:
        # GitDagBundle checks a version out under <storage>/<bundle>/versions/<commit>/.
        path = os.path.realpath(__file__)
        print(f"versioned DAG code {{MARKER}} from {{path}}")
        return {{"marker": MARKER, "file": path}}

    first() >> gate() >> second()


versioned_bundle()
'''


class TestBundleFromGit:
    def test_every_dag_is_parsed_from_the_pushed_commit(self, prod: ProdInstall, api: AirflowApi):
        assert set(dag_bag().dags) <= set(api.dag_ids())
        assert api.import_errors() == []
        assert api.dag_bundle_version(SEED_DAG) == prod.initial_commit
        pods = prod.release.kubectl_json("get", "pods", "-l", "app.kubernetes.io/component=dag-processor")["items"]
        assert [c["name"] for p in pods for c in p["spec"]["containers"]] == ["dag-processor"], "no git-sync"

    def test_the_seed_dag_runs_on_the_commit_it_was_parsed_from(self, prod: ProdInstall, api: AirflowApi):
        # Each worker pod clones the run's commit itself, with the token and CA the chart mounts.
        run_id = api.trigger(SEED_DAG)
        assert api.wait_for_run(SEED_DAG, run_id, timeout=600) == "success"
        assert api.run_bundle_version(SEED_DAG, run_id) == prod.initial_commit


class TestRunsKeepTheirVersion:
    def test_a_run_started_before_a_push_finishes_on_the_old_code(self, prod: ProdInstall, api: AirflowApi,
                                                                  figures: dict[str, Any]):  # fmt: skip
        api.set_variable(GATE, "closed")
        prod.git.write(VERSIONED_FILE, versioned_dag("v1"))
        old = prod.git.commit_and_push("Add the versioned-bundle DAG")
        pushed = time.monotonic()
        timed_wait(lambda: VERSIONED_DAG in api.dag_ids() and api.dag_bundle_version(VERSIONED_DAG) == old,
                 PARSE_TIMEOUT, f"{VERSIONED_DAG} parsed at {old}")  # fmt: skip
        figures["push_to_new_dag_parsed_s"] = round(time.monotonic() - pushed, 1)
        before = api.trigger(VERSIONED_DAG)
        timed_wait(lambda: api.task_instances(VERSIONED_DAG, before)["first"].state == "success", 300,
                 f"run {before}'s first task done")  # fmt: skip

        # Only a task's body changes: the DAG's structure is the same, its bundle version is not.
        prod.git.write(VERSIONED_FILE, versioned_dag("v2"))
        new = prod.git.commit_and_push("Change the versioned-bundle tasks")
        pushed = time.monotonic()
        figures["push_to_new_version_parsed_s"] = round(timed_wait(
            lambda: api.dag_bundle_version(VERSIONED_DAG) == new, PARSE_TIMEOUT, f"{VERSIONED_DAG} parsed at {new}"), 1)
        after = api.trigger(VERSIONED_DAG)
        api.set_variable(GATE, "open")
        assert api.wait_for_run(VERSIONED_DAG, before, timeout=600) == "success"
        assert api.wait_for_run(VERSIONED_DAG, after, timeout=600) == "success"
        figures["push_to_run_on_new_version_s"] = round(time.monotonic() - pushed, 1)

        assert (api.run_bundle_version(VERSIONED_DAG, before), api.run_bundle_version(VERSIONED_DAG, after)) == (old, new)
        # The run started before the push ran its later task, launched after the push, on the old commit.
        report = api.xcom(VERSIONED_DAG, before, "second")
        assert report["marker"] == "v1" and f"/versions/{old}/" in report["file"], report
        log = api.finished_task_log(VERSIONED_DAG, before, "second", "versioned DAG code v1")
        assert "versioned DAG code v1" in log
        assert "isn't defined" not in log, "the bundle's connection must reach the worker"
        report = api.xcom(VERSIONED_DAG, after, "second")
        assert report["marker"] == "v2" and f"/versions/{new}/" in report["file"], report
        assert api.xcom(VERSIONED_DAG, after, "first") == "v2"
