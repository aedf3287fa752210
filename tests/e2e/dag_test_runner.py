"""Run DAGs with Airflow's own `dag.test()`, in a process of its own; print each run's task states as JSON.

Usage: python dag_test_runner.py DAG_FOLDER DAG_ID [DAG_ID ...] [--no-pod-logs]

The caller sets AIRFLOW_HOME (a throwaway directory with a migrated SQLite database),
AIRFLOW__CORE__DAGS_FOLDER=DAG_FOLDER (dag.test() serializes the DAG from there) and the
`kubernetes_default` connection (AIRFLOW_CONN_KUBERNETES_DEFAULT, naming a kubeconfig). The DAGs
run one after another; after each, stdout gets one line
`DAG_RESULT {"dag_id": ..., "seconds": ..., "tasks": {"task_id[map_index]": {"state": ..., "try_number": ...}}}`.
Everything else on stdout and stderr is the runs' log, task logs included.

--no-pod-logs sets get_logs=False on every KubernetesPodOperator task: a followed pod log never
ends on the local control plane (KWOK), see tests/e2e/test_dag_runs.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

RESULT_PREFIX = "DAG_RESULT "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dag_folder")
    parser.add_argument("dag_ids", nargs="+", metavar="dag_id")
    parser.add_argument("--no-pod-logs", action="store_true")
    args = parser.parse_args()

    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=args.dag_folder, bundle_path=args.dag_folder, bundle_name="dags-folder")
    missing = [d for d in args.dag_ids if d not in bag.dags]
    if missing:
        print(f"DAGs {missing} not found in {args.dag_folder}; import errors: {bag.import_errors}", file=sys.stderr)
        return 2
    for dag_id in args.dag_ids:
        dag = bag.dags[dag_id]
        if args.no_pod_logs:
            turn_off_pod_logs(dag)
        started = time.monotonic()
        run = dag.test()
        tasks = {
            f"{ti.task_id}[{ti.map_index}]" if ti.map_index >= 0 else ti.task_id: {
                "state": str(ti.state),
                "try_number": ti.try_number,
            }
            for ti in run.get_task_instances()
        }
        result = {"dag_id": dag_id, "run_id": run.run_id, "seconds": round(time.monotonic() - started, 1), "tasks": tasks}
        print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def turn_off_pod_logs(dag) -> None:
    """get_logs=False on every KubernetesPodOperator task, mapped ones included."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    for task in dag.tasks:
        if isinstance(task, MappedOperator):
            if issubclass(task.operator_class, KubernetesPodOperator):
                task.partial_kwargs["get_logs"] = False
        elif isinstance(task, KubernetesPodOperator):
            task.get_logs = False


if __name__ == "__main__":
    sys.exit(main())
