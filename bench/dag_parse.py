"""Each DAG file's parse time in Airflow's own DagBag, warm (imports already loaded), and the bundle's total."""

from __future__ import annotations

from pathlib import Path

from tests.lib.dag_bundle.offline_airflow import BUNDLE_NAME, prepare_airflow_env
from tests.lib.paths import DAGS

from .stats import time_call


def measure(runs: int) -> list[dict]:
    prepare_airflow_env()
    # Airflow imports are slow (seconds): only when this part is asked for.
    from airflow.dag_processing.dagbag import BundleDagBag  # noqa: PLC0415
    from airflow.utils.file import list_py_file_paths  # noqa: PLC0415

    def bundle_bag(collect: bool) -> BundleDagBag:
        # As the DAG processor parses a bundle: its folder on sys.path, so `import pod_defaults` works.
        return BundleDagBag(dag_folder=DAGS, bundle_path=DAGS, bundle_name=BUNDLE_NAME, collect_dags=collect)

    bag = bundle_bag(collect=False)
    rows = []
    for path in sorted(Path(p) for p in list_py_file_paths(DAGS)):
        def parse(path=path):
            if not bag.process_file(str(path), only_if_updated=False):
                raise RuntimeError(f"{path.name}: no DAG parsed; run `hack/test.sh tests/dags` to see why")

        rows.append({"file": path.name, **time_call(parse, runs, warmup=2)})
    rows.append({"file": "(bundle: DagBag over dags/)", **time_call(lambda: bundle_bag(True), max(3, runs // 4))})
    return rows
