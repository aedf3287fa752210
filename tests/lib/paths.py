"""Where things live in the repository, so no test hard-codes a relative path."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "airflow"
VALUES_DIR = REPO / "values"
DAGS = REPO / "dags"
TOOLS_BIN = REPO / ".tools" / "bin"
ARTIFACTS = REPO / "test-artifacts"  # screenshots, reports: kept by CI, ignored by git
