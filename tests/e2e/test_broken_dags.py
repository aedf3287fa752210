"""A broken DAG file arrives: its import error is listed by the REST API, and every other DAG runs on.

DAGs come from a PersistentVolumeClaim here (`dags.persistence`), the way a sync job outside Airflow
would deliver them: a pod mounting the claim copies the bundle in, then a file with a syntax error
and one importing a module that does not exist. Skipped where containers do not run.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.lib import tools
from tests.lib.cluster.local_node import TASK_IMAGE
from tests.lib.cluster.one_off_pods import pod_manifest
from tests.lib.cluster.target import ClusterTarget
from tests.lib.dag_bundle.dev_objects import apply_dev_objects
from tests.lib.dag_bundle.offline_airflow import dag_bag
from tests.lib.installs.release import NO_DATABASE_VOLUME, Release, installed
from tests.lib.live_airflow.rest_api import AirflowApi, connect
from tests.lib.paths import DAGS
from tests.lib.suite.fault_report import record

RELEASE = "airflow-pvc-dags"
BROKEN = {
    "broken_syntax.py": "from airflow.sdk import DAG\n\nwith DAG(dag_id='broken-syntax' schedule=None):\n    pass\n",
    "broken_import.py": "import a_module_nobody_installed\n\nfrom airflow.sdk import DAG\n\nDAG(dag_id='broken-import')\n",
}


@dataclass
class Delivery:
    release: Release
    api: AirflowApi
    writer: str  # a pod with the DAGs claim mounted read-write at /dags

    def put(self, name: str, content: str) -> None:
        """Write one file into the DAGs folder, atomically (the DAG processor never sees half a file)."""
        script = f"import os, sys; open('/dags/.{name}', 'w').write(sys.stdin.read()); os.rename('/dags/.{name}', '/dags/{name}')"
        cmd = [str(tools.kubectl()), "--kubeconfig", str(self.release.target.kubeconfig), "exec", "-i", "-n",
               self.release.namespace, self.writer, "--", "python", "-c", script]  # fmt: skip
        subprocess.run(cmd, input=content, text=True, check=True, capture_output=True, timeout=60)


def wait_until(what: str, check, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not seen within {timeout} s")
        time.sleep(3)


@pytest.fixture(scope="module")
def delivery(running_containers: ClusterTarget) -> Iterator[Delivery]:
    target = running_containers
    apply_dev_objects(target)
    # ReadWriteOnce: one node, so the writer and Airflow's pods all mount it there.
    extra = (*NO_DATABASE_VOLUME, "--set", "dags.persistence.enabled=true", "--set", "dags.persistence.accessMode=ReadWriteOnce")
    with installed(target, "e2e-pvc-dags", ("development",), extra, RELEASE) as release, connect(release) as api:
        writer = pod_manifest("dags-writer", TASK_IMAGE, command=["sleep", "infinity"], restart="Always")
        writer["spec"]["containers"][0]["volumeMounts"] = [{"name": "dags", "mountPath": "/dags"}]
        writer["spec"]["volumes"] = [{"name": "dags", "persistentVolumeClaim": {"claimName": f"{RELEASE}-dags"}}]
        target.kubectl("create", "-n", release.namespace, "-f", "-", stdin=json.dumps(writer))
        try:
            target.kubectl("wait", "-n", release.namespace, "pod/dags-writer", "--for=condition=Ready", "--timeout=120s")
            deliver = Delivery(release, api, "dags-writer")
            # What the DAG files import, and the ignore list, first: a DAG file that lands before
            # pod_defaults.py fails to import, and an unchanged file is parsed again only after
            # min_file_process_interval (600 s in the test timing), so it would stay an import error.
            helpers = [DAGS / ".airflowignore", DAGS / "pod_defaults.py"]
            for path in helpers + [p for p in sorted(DAGS.glob("*.py")) if p not in helpers]:
                deliver.put(path.name, path.read_text())
            # Within [dag_processor] refresh_interval (tests/e2e/values/test-timing.yaml; the chart's 60 s
            # for users) and a parse; the broken files below are found the same way.
            api.wait_for_dags(set(dag_bag().dags), timeout=240)
            yield deliver
        finally:  # the writer holds the claim, which `helm uninstall --wait` waits to delete
            target.kubectl("delete", "pod", "-n", release.namespace, "dags-writer", "--grace-period=1", check=False)


def test_a_syntax_error_and_a_missing_module_are_listed_as_import_errors(delivery: Delivery) -> None:
    assert delivery.api.import_errors() == []
    for name, content in BROKEN.items():
        delivery.put(name, content)

    def listed() -> dict[str, str]:
        return {e.filename.rsplit("/", 1)[-1]: e.stack_trace for e in delivery.api.import_errors()}

    wait_until("both import errors", lambda: set(BROKEN) <= set(listed()))
    errors = listed()
    still = set(dag_bag().dags) & set(delivery.api.dag_ids())
    record("6. broken DAG files", "a file with a syntax error and one importing a missing module put in the DAGs folder",
           f"import errors listed: {', '.join(sorted(errors))}; {len(still)}/{len(dag_bag().dags)} bundle DAGs still listed",
           [f"DAG unlisted: {d}" for d in sorted(set(dag_bag().dags) - still)])  # fmt: skip
    assert "SyntaxError" in errors["broken_syntax.py"], errors["broken_syntax.py"]
    assert "No module named 'a_module_nobody_installed'" in errors["broken_import.py"], errors["broken_import.py"]


def test_every_other_dag_stays_listed_and_runs(delivery: Delivery) -> None:
    assert set(dag_bag().dags) <= set(delivery.api.dag_ids())
    run_id = delivery.api.trigger("kubernetes-pod-params")
    state = delivery.api.wait_for_run("kubernetes-pod-params", run_id)
    record("6. broken DAG files: the other DAGs", "kubernetes-pod-params triggered beside the two broken files",
           f"run {state}", [] if state == "success" else [f"run {run_id} {state}"])  # fmt: skip
    assert state == "success"
