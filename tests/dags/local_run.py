"""Run every DAG of the bundle locally with `dag.test()`, without a cluster (used by test_local_run.py).

Usage: python tests/dags/local_run.py [DAG_FOLDER]   (AIRFLOW_HOME must point at a throwaway directory)

DAG_FOLDER defaults to the repository's dags/; the test passes a copy laid out as the Airflow image
has it, so the run also proves the bundle needs nothing from outside its folder.

Migrates a sqlite metadata DB in AIRFLOW_HOME, then runs each DAG once in this process. Each task's
retries are set to 0 first: the DAGs' own retry policy (up to 3 retries 5 minutes apart) is for a
real cluster, and here the point is to see the first attempt fail fast. Output: each DAG's log between
`@@begin <dag_id>` and `@@end <dag_id> <json>` lines, the JSON holding every task instance's state and
the run's duration in seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(f"usage: {argv[0]} [DAG_FOLDER]", file=sys.stderr)
        return 2
    folder = Path(argv[0]).resolve() if argv else DAGS

    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.utils.db import initdb

    initdb()
    bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
    if bag.import_errors:
        print(f"@@import-errors {json.dumps(bag.import_errors)}", flush=True)
        return 1
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        for task in dag.tasks:
            task.retries = 0
        print(f"@@begin {dag_id}", flush=True)
        started = time.monotonic()
        run = dag.test()
        seconds = round(time.monotonic() - started, 1)
        states = {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in run.get_task_instances()}
        sys.stderr.flush()
        print(f"@@end {dag_id} {json.dumps({'run': str(run.state), 'seconds': seconds, 'tasks': states})}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
