"""Airflow in this process without a cluster: a throwaway AIRFLOW_HOME, the env vars the chart sets
on worker pods, and the DAG bundle parsed once, as the DAG processor parses it.

`prepare_airflow_env()` must run before Airflow is first imported (every function here that imports
Airflow calls it), so tests never touch a developer's Airflow setup and importing this module is cheap.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile

from tests.lib.paths import DAGS

BUNDLE_NAME = "dags-folder"


def prepare_airflow_env() -> None:
    """Point Airflow at a throwaway home and at this bundle, before Airflow is first imported; give it
    the worker pod's AIRFLOW_* env (its connections are read when a task needs them) in any case: a
    test that imported Airflow first must not leave the XCom sidecar unsized for the next."""
    os.environ.update(chart_worker_airflow_env())
    if "airflow" in sys.modules:
        return
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    # A bundle file parses in about a second; beside an Airflow install and the suite's other lane on
    # the 2-core node the default 30 s per file ran out. A parse still failing is still reported.
    os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "300")


def chart_worker_airflow_env() -> dict[str, str]:
    """The literal AIRFLOW_* env vars of the chart's worker pod template in values/dev.yaml.

    Tasks run in that pod, so KubernetesPodOperator sees them (e.g. the `kubernetes_default` connection
    that sizes the XCom sidecar).
    """
    from tests.lib.render.chart_objects import worker_pod_template
    from tests.lib.render.helm_template import render
    from tests.lib.render.scenarios import DEV

    template = worker_pod_template(render(DEV))
    (base,) = [c for c in template["spec"]["containers"] if c["name"] == "base"]
    return {e["name"]: e["value"] for e in base.get("env", []) if e["name"].startswith("AIRFLOW_") and "value" in e}


@functools.cache
def dag_bag():
    """The bundle parsed once per process, as the DAG processor parses it (bundle dir on sys.path)."""
    prepare_airflow_env()
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name=BUNDLE_NAME)
