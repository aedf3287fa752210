"""The seed's worker size is an environment setting: production keeps the seed's, dev sets its own.

The same DAG file runs on both: KUBERNETES_DAG_WORKER_RESOURCES, when set where the DAG processor
serializes the DAG, replaces the seed's 4 CPU / 32 GiB worker pod_override (test_seed_dag.py checks
the default). values/dev.yaml sets it on the chart's server containers and workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.lib.paths import DAGS
from tests.lib.render import scenarios
from tests.lib.render.chart_objects import containers, env, worker_pod_template
from tests.lib.render.helm_template import render

VARIABLE = "KUBERNETES_DAG_WORKER_RESOURCES"
# The DAG folder is on the child's PYTHONPATH, as the DAG processor puts the bundle on sys.path.
PARSE = """
import json
import kubernetes_dag
(base,) = kubernetes_dag.worker_pod_override.spec.containers
print(json.dumps({"requests": base.resources.requests, "limits": base.resources.limits}))
"""


def parsed_override(value: str | None) -> subprocess.CompletedProcess[str]:
    """Import the seed DAG file in a fresh interpreter with the variable set (or unset)."""
    child_env = {k: v for k, v in os.environ.items() if k != VARIABLE} | {"PYTHONPATH": str(DAGS)}
    if value is not None:
        child_env[VARIABLE] = value
    return subprocess.run([sys.executable, "-c", PARSE], env=child_env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def dev_value(component: str) -> str:
    rendered = render(scenarios.DEV)
    if component == "worker":
        (base,) = [c for c in worker_pod_template(rendered)["spec"]["containers"] if c["name"] == "base"]
        return env(base)[VARIABLE]["value"]
    return env(containers(rendered.get("Deployment", f"airflow-{component}"))[component])[VARIABLE]["value"]


def test_dev_sets_the_same_size_where_the_dag_is_serialized_and_where_it_runs():
    assert dev_value("dag-processor") == dev_value("worker") == dev_value("scheduler")


def test_the_dev_value_sizes_the_seeds_worker_pod_to_the_dev_workers():
    proc = parsed_override(dev_value("dag-processor"))
    assert proc.returncode == 0, proc.stderr
    workers = render(scenarios.DEV)
    (base,) = [c for c in worker_pod_template(workers)["spec"]["containers"] if c["name"] == "base"]
    assert json.loads(proc.stdout) == base["resources"]


def test_unset_keeps_the_seeds_production_size():
    proc = parsed_override(None)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"requests": {"cpu": "4", "memory": "32Gi", "ephemeral-storage": "256Mi"},
                                       "limits": {"cpu": "8", "memory": "64Gi", "ephemeral-storage": "9Gi"}}  # fmt: skip


@pytest.mark.parametrize("value", ["4,32Gi", "4,32 gigs,8,64Gi", "a,b,c,d"])
def test_a_malformed_value_is_an_import_error_naming_the_variable_and_the_format(value):
    proc = parsed_override(value)
    assert proc.returncode != 0
    (last,) = proc.stderr.strip().splitlines()[-1:]
    assert last.startswith(f"ValueError: {VARIABLE}=") and '"cpu request,memory request,cpu limit,memory limit"' in last
