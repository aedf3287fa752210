"""Where things live, so no test hard-codes a path: the repository's parts, and the records the suite
writes that `make bench` reads back (bench imports these places, never the suite's machinery)."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "airflow"
VALUES_DIR = REPO / "values"
DAGS = REPO / "dags"
TOOLS_BIN = REPO / ".tools" / "bin"
ARTIFACTS = REPO / "test-artifacts"  # screenshots, reports: kept by CI, ignored by git
# This project's part of the user's cache: what outlives a clone's test-artifacts.
USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "airflow-on-k8s"

# One row per fault the e2e tests inflict (suite/fault_report.py writes it).
FAULT_REPORT = ARTIFACTS / "faults.json"
# Seconds and tests per module of the last run (suite/module_times.py writes it).
SUITE_TIMES = ARTIFACTS / "suite-times.json"
# The same for the last whole warm and the last whole cold run: warm.json and cold.json.
RECORDED_SUITE_TIMES = USER_CACHE / "suite-times"
